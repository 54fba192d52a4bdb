"""The constitution of each body the Partners establish (a Partnership Board, the Partners'
chief executives acting together): its members, chair, quorum, voting and meetings.

A body a Schedule gives authority to (approvals, reports, disputes) needs a constitution, or no
one can say when it has decided. A term the agreement does not state is drafted as a
placeholder (and `check` warns, W410); a body held jointly by named roles (`members:`) is those
roles, acting together, and needs no more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..checks.provisions import CONSTITUTION
from ..lists import listed

if TYPE_CHECKING:
    from .document import Builder, Section

TITLES = {
    "membership": "Membership",
    "chair": "Chair",
    "quorum": "Quorum",
    "voting": "Voting",
    "meetings": "Meetings",
}


def bodies(ir: dict[str, Any]) -> list[dict[str, Any]]:
    """The roles of the IR that are bodies the Partners establish (the IR's counterpart of
    checks.provisions.bodies)."""
    return [r for r in ir["roles"] if not r["partner"] and not r.get("statutory")]


def governance(b: Builder) -> Section | None:
    """The Governance clause: a paragraph per body, with a sub-paragraph per term."""
    from .document import Para, Section
    from .whole import capitalise_terms, placeholder, sentence

    found = bodies(b.ir)
    if not found:
        return None
    b.new_clause()
    s = Section("Governance", "clause:governance")
    s.blocks.append(
        Para(
            "The Partners establish the following bodies to act for them jointly under this Agreement. Each acts only within the authority this Agreement gives it, and has the constitution set out below."
        )
    )
    titles = [r["title"] for r in b.ir["roles"]]
    stated = (b.ir.get("provisions") or {}).get("constitution") or {}
    for role in found:
        s.blocks.append(Para(f"The {role['title']}:"))
        if role.get("members"):
            names = [b.role(m) for m in role["members"]]
            joined = listed(names)
            s.blocks.append(
                Para(
                    f"**Membership.** The {role['title']} is {joined}, acting together: a decision of the {role['title']} is made only when each of them agrees to it.",
                    level=2,
                )
            )
            continue
        terms = stated.get(role["id"]) or {}
        for key, _words, missing in CONSTITUTION:
            text = terms.get(key)
            body = (
                sentence(capitalise_terms(text, titles))
                if text
                else placeholder(missing.format(body=f"the {role['title']}"))
            )
            s.blocks.append(Para(f"**{TITLES[key]}.** {body}", level=2))
    return s
