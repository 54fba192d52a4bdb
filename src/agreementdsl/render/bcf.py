"""The layout of a Better Care Fund agreement (`programme: bcf`): a local agreement that follows
the national template's numbering and schedules.

The clauses the template numbers keep its numbers: the Pooled Fund is clause 7, its management
clause 8, financial contributions clause 10, termination clause 22 and disputes clause 23; a
number the agreement has nothing for is "Not used." (as the template's users keep unused clauses),
so that every reference to a template clause number stays true. The schedules are the template's:
Schedule 1 the contributions and the schemes (a Part per Pooled Fund), Schedule 2 governance
(authority, reporting, disputes and outcomes of each Pooled Fund), Schedule 3 the risk share.
A precedence clause orders the clauses, the Schedules and what they refer to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .document import Builder, Schedule, Section

# The template's clause numbers that this layout keeps (issue 15).
FIXED = {"pools": 7, "management": 8, "contributions": 10, "termination": 22, "disputes": 23}


def _operative(b: Builder, label: str, title: str, sentences: list[str]) -> Section:
    from .document import Para, Section

    b.new_clause()
    s = Section(title, f"clause:{label}")
    for sentence in sentences:
        s.blocks.append(Para(sentence))
    return s


def bcf_clauses(b: Builder, whole: list[Section]) -> list[Section]:
    """The clauses in the template's order, numbered so that its fixed numbers hold."""
    from .document import Para, Section

    by_label = {c.label.removeprefix("clause:"): c for c in whole}
    precedence = by_label.pop("precedence")
    precedence.blocks.insert(
        0,
        Para(
            "The Schedules are: Schedule 1, the contributions to each Pooled Fund and the schemes it funds; Schedule 2, the governance of each Pooled Fund (delegated authority, monitoring and reporting, dispute resolution and outcomes); and Schedule 3, the risk share of each Pooled Fund."
        ),
    )
    early = [b.definitions(), b.term(termination=False), b.aims(), precedence]
    shared = [o for o in b.ir["outcomes"] if o["pool"] is None]
    if shared:
        early.append(b.outcomes_clause(shared))
    fixed = {
        7: b.pools_clause(),
        8: _operative(
            b,
            "management",
            "Pooled Fund management",
            [
                "Expenditure from a Pooled Fund shall be approved as set out in ⟦ref:parts:authority⟧, and not otherwise.",
                "The Pooled Fund Manager of each Pooled Fund shall manage it, and report to the Partners, as set out in ⟦ref:parts:reporting⟧.",
            ],
        ),
        10: _operative(
            b,
            "contributions",
            "Financial contributions",
            [
                "Each Partner shall contribute to each Pooled Fund the amounts set out for it in ⟦ref:parts:contributions⟧, for the schemes set out there."
            ],
        ),
        22: b.termination_clause(),
        23: _operative(
            b,
            "disputes",
            "Dispute resolution",
            [
                "A dispute between the Partners about a Pooled Fund shall be resolved as set out in ⟦ref:parts:disputes⟧."
            ],
        ),
    }
    risk = _operative(
        b,
        "risk",
        "Risk share, Overspends and Underspends",
        [
            "Any Overspend or Underspend of a Pooled Fund in a Financial Year shall be dealt with as set out in ⟦ref:parts:risk⟧."
        ],
    )
    funds = by_label.pop("non-pooled", None)
    middle = [risk, *by_label.values()]  # clauses 11 to 21: risk share, then the provisions
    clauses: list[Section] = []
    queue = [*early]
    for number in range(1, 24):
        if number in fixed:
            clauses.append(fixed[number])
        elif number == 9 and funds is not None:
            clauses.append(funds)
        elif number < 7 and queue:
            clauses.append(queue.pop(0))
        elif number > 10 and middle:
            clauses.append(middle.pop(0))
        else:
            clauses.append(Section("Not used", f"clause:unused-{number}"))
    return clauses + queue + middle


def bcf_schedules(b: Builder) -> list[Schedule]:
    """Schedule 1 contributions and schemes, Schedule 2 governance, Schedule 3 risk share: each
    with a Part per Pooled Fund, made of the Parts the generic layout gives that pool."""
    from .document import Para, Schedule, Section
    from .schedule import schedule_parts

    groups = {
        "contributions": ("Contributions and schemes", ("spec", "contributions")),
        "governance": ("Governance", ("authority", "reporting", "disputes", "outcomes")),
        "risk": ("Risk share", ("risk",)),
    }
    parts_of = {}
    for pool in b.ir["pools"]:
        b.pool = pool
        parts_of[pool["id"]] = {p.label.rsplit(":", 1)[1]: p for p in schedule_parts(b, pool)}
    schedules = []
    for key, (title, kinds) in groups.items():
        schedule = Schedule(title, f"schedule:bcf-{key}", [])
        schedule.aliases = [f"parts:{k}" for k in kinds]
        for pool in b.ir["pools"]:
            merged = Section(pool["name"], f"part:{pool['id']}:bcf-{key}")
            merged.aliases = [f"part:{pool['id']}:{k}" for k in kinds]
            if key == "contributions":
                merged.aliases.append(f"schedule:{pool['id']}")
            for kind in kinds:
                part = parts_of[pool["id"]][kind]
                used = [
                    bl
                    for bl in part.blocks
                    if not (isinstance(bl, Para) and bl.text == "Not used.")
                ]
                if used and len(kinds) > 1 and kind not in ("spec", "contributions"):
                    merged.blocks.append(Para(f"**{part.title}**", numbered=False))
                merged.blocks.extend(used)
            if not merged.blocks:
                merged.blocks.append(Para("Not used."))
            schedule.parts.append(merged)
        if key == "risk":
            schedule.aliases.append("risk-terms")
        schedules.append(schedule)
    return schedules
