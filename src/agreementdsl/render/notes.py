"""The drafting notes boxed at the top of a draft: `check`'s warnings, each phrased for the
lawyer who reads the draft rather than for whoever writes the agreement file.

A note says what is missing or doubtful in the agreement's own terms (the Pooled Fund by its
name, an officer or body by its title, a Partner by its name), keeps the warning's code, and
ends with a short pointer into the agreement file ("agreement file: provisions.variation") so
that whoever keeps the file can find what to change. The file's how-to (`add … under …`) is
left to `check`.
"""

from __future__ import annotations

import re
from typing import Any

from ..lists import listed

# A hint of the form "add `key:` (or `key: …`) under `parent:`", or "add `key: …`".
_UNDER = re.compile(r"add `([a-z_]+)[:`].*?under `([a-z_]+):`")
_ADD = re.compile(r"^(?:add|set|give) `([a-z_]+):")
_POOL = re.compile(r"\bpools? ((?:`[^`]+`(?:, | and )?)+)('s)?")
_TICKED = re.compile(r"`([^`]+)`")


def _names(agreement: Any) -> dict[str, str]:
    """How the draft names each id of the agreement: a Pooled Fund, a Partner, a role."""
    if agreement is None:
        return {}
    names: dict[str, str] = {}
    for role in agreement.roles:
        names[role.id] = f"the {role.title}"
    for partner in agreement.partners:
        names[partner.id] = partner.name
    for pool in agreement.pools:
        names[pool.id] = f"the {pool.name}"
    return names


def _pointer(diag: Any, agreement: Any) -> str:
    """Where in the agreement file the matter lives: a key path where the hint names one."""
    hint = diag.hint or ""
    pools = _POOL.findall(diag.message)
    first_pool = _TICKED.findall(pools[0][0])[0] if pools else None
    under = _UNDER.search(hint)
    if under:
        key, parent = under.groups()
        if parent == "provisions" and key == "constitution":
            body = re.search(r"`constitution: \{ ([a-z0-9-]+):", hint)
            return f"provisions.constitution.{body.group(1)}" if body else "provisions.constitution"
        if parent == "termination":
            return "termination.assets" if key == "assets" else f"termination.{key}"
        return f"{parent}.{key}"
    added = _ADD.search(hint)
    if added:
        return f"agreement.{added.group(1)}"
    if diag.code.startswith("W80") and first_pool:
        return f"pools.{first_pool}.reporting"
    return f"line {diag.span.line}"


def _lawyer_words(diag: Any, agreement: Any) -> str:
    """The warning's message in the draft's own terms."""
    names = _names(agreement)
    text = diag.message
    text = text.replace("; `render` drafts it as a placeholder", "")
    text = re.sub(r" \(`[a-z0-9-]+`\)", "", text)  # "the Board (`board`)": the title says it

    def pools(match: re.Match[str]) -> str:
        ids = _TICKED.findall(match.group(1))
        named = [names.get(i, i) for i in ids]
        return listed(named) + (match.group(2) or "")

    text = _POOL.sub(pools, text)
    text = _TICKED.sub(lambda m: names.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\(none for ([^)]*)\)", lambda m: _none_for(m.group(1), names), text)
    for statute, short in _STATUTE:
        text = re.sub(statute, short, text)
    if diag.code == "W801" and "'s only " in diag.message:
        text += (
            "; the draft states that report as written, and leaves the report "
            'to the Partners "[to be agreed: …]"'
        )
    if diag.code == "W410":
        text = re.sub(r"^the agreement does not state ", "not yet agreed: ", text)
        text += '; the draft leaves it "[to be agreed: …]"'
    for words, term in _TERMS:
        text = re.sub(words, term, text)
    return text[0].upper() + text[1:]


# The regulations as the draft defines them, and its defined terms, in the notes' words.
_STATUTE = (
    (
        r"regulation 7 of the NHS Bodies and Local Authorities Partnership Arrangements "
        r"Regulations 2000, SI 2000/617 \(paragraphs",
        "regulation 7 of the Regulations (paragraphs",
    ),
    (
        r"regulation 7 of the NHS Bodies and Local Authorities Partnership Arrangements "
        r"Regulations 2000, SI 2000/617",
        "regulation 7 of the Regulations",
    ),
    (r"SI 2000/617 reg ([0-9]+(?:\([0-9a-z]+\))*)", r"regulation \1 of the Regulations"),
)
_TERMS = (
    (r"\bthe partners\b", "the Partners"),
    (r"\bpartners\b", "Partners"),
    (r"\bthe agreement\b", "the Agreement"),
    (r"\bpooled fund manager\b", "Pooled Fund Manager"),
    (r"\bthe pool's\b", "the Pooled Fund's"),
    (r"\bfinancial year\b", "Financial Year"),
)


def _none_for(ids: str, names: dict[str, str]) -> str:
    named = [names.get(i.strip(), i.strip()) for i in ids.split(",")]
    return f"(none for {listed(named, 'or')})"


def drafting_note(diag: Any, agreement: Any = None) -> str:
    """One warning of `check` as a line of the drafting notes, for the lawyer reading the draft:
    what is missing or doubtful, the code, and where the agreement file states it."""
    return f"{diag.code}: {_lawyer_words(diag, agreement)}. (agreement file: {_pointer(diag, agreement)})"


def drafting_notes(diagnostics: list[Any], agreement: Any = None) -> list[str]:
    """The warnings among `diagnostics`, in the order `check` prints them; with the agreement,
    also each matter it leaves to a placeholder when it has no `provisions:` at all (which
    `check` does not warn of: see checks/provisions.py)."""
    from ..checks.provisions import unwarned
    from ..diagnostics import sort_diagnostics

    found = [*diagnostics, *(unwarned(agreement) if agreement is not None else [])]
    return [drafting_note(d, agreement) for d in sort_diagnostics(found) if not d.is_error]
