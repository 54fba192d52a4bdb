"""The structure of a ledger, checked before its rows: the header's names and broken quotes.

Nothing is chosen silently. A column named twice stops the run (L012); a name that is almost a
known column says which one it probably is (L013); a name read only after trimming its spaces
is read with a warning (L014); and a CSV record whose quoted field swallows lines that each
look like rows of their own is rejected as an unclosed quote (L015), naming the line the quote
opened on and how many lines it covered.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

KNOWN = (
    "date",
    "pool",
    "kind",
    "amount",
    "element",
    "partner",
    "approved_by",
    "in_plan",
    "supplier",
    "category",
    "reference",
    "description",
)
_BREAK = re.compile(r"\r\n|\r|\n")
_DATE = re.compile(r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$")


@dataclass(frozen=True)
class HeaderProblem:
    """A header the run cannot go on with: a stable code, what the ledger has, and a hint."""

    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class Header:
    """The names of a ledger's columns, normalised, with what was noticed about them."""

    names: list[str]
    warnings: list[str] = field(default_factory=list)
    problems: list[HeaderProblem] = field(default_factory=list)
    near: dict[str, str] = field(default_factory=dict)  # unknown name -> the known one it is like

    def probably(self, column: str) -> str | None:
        """The unknown column that is probably `column` misspelt, if there is one."""
        return next((n for n, known in self.near.items() if known == column), None)


def near_miss(name: str) -> str | None:
    """The known column a name is probably a misspelling of, or None."""
    plain = name.strip().lower().replace(" ", "_").replace("-", "_")
    close = difflib.get_close_matches(plain, KNOWN, 1, 0.75)
    return close[0] if close else None


def read_header(raw: Sequence[str], exact: bool = False) -> Header:
    """Normalise the header's names (trimmed, lower case) and note every doubtful one.

    With `exact` (the field names of JSON Lines, which are read as written), a name is known
    only as written; `Amount ` is then an unknown name that looks like `amount`.
    """
    names = list(raw) if exact else [str(h).strip().lower() for h in raw]
    warnings: list[str] = []
    problems: list[HeaderProblem] = []
    near: dict[str, str] = {}
    trimmed = [f"`{r}`" for r, n in zip(raw, names, strict=True) if r.strip() != r and n in KNOWN]
    if trimmed:
        warnings.append(
            f"L014: the column name{'s' * (len(trimmed) > 1)} {', '.join(trimmed)} "
            f"{'are' if len(trimmed) > 1 else 'is'} read without the spaces around "
            f"{'them' if len(trimmed) > 1 else 'it'}"
        )
    for name in dict.fromkeys(names):
        at = [i + 1 for i, n in enumerate(names) if n == name]
        if len(at) > 1 and name in KNOWN:
            problems.append(
                HeaderProblem(
                    "L012",
                    f"{len(at)} `{name}` columns (columns {', '.join(map(str, at))}): "
                    f"which one holds the {name} cannot be told",
                    f"keep one `{name}` column and rename or remove the others",
                )
            )
    unknown = [n for n in dict.fromkeys(names) if n not in KNOWN]
    plain = []
    for name in unknown:
        known = near_miss(name) if name else None
        if known is None:
            plain.append(f"`{name}`" if name else "an unnamed column")
            continue
        near[name] = known
        if known in names:
            warnings.append(
                f"L013: the column `{name}` is not a ledger column and is ignored "
                f"(it looks like `{known}`, which the ledger also has)"
            )
        else:
            warnings.append(
                f"L013: the column `{name}` is not a ledger column and is ignored: "
                f"did you mean `{known}`?"
            )
    if plain:
        warnings.append(
            f"L102: the ledger's unknown column{'s' * (len(plain) > 1)} {', '.join(plain)} "
            f"{'are' if len(plain) > 1 else 'is'} ignored"
        )
    return Header(names, warnings, problems, near)


class Pairs(list[tuple[str, object]]):
    """A JSON object as its key/value pairs in order, duplicates kept (to be reported)."""


def duplicate_keys(pairs: list[tuple[str, object]]) -> list[str]:
    """The keys a JSON object gives more than once (json keeps only the last, silently)."""
    seen: set[str] = set()
    twice = []
    for key, _ in pairs:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def unclosed_quote(fields: list[str], width: int, date_at: int = 0) -> int | None:
    """Lines swallowed by a quote that was never closed, or None for a sound record.

    A quoted field may hold line breaks (a description over two lines). But a line inside a
    field that reads as the start of a row of its own is almost certainly one an unclosed quote
    ran over: it holds as many commas as the header needs between its columns, or it has a
    date (YYYY-MM-DD) where the header has the date column. The count is of the lines inside
    the field after the one it opened on.
    """
    for text in fields:
        if "\n" not in text and "\r" not in text:
            continue
        inner = _BREAK.split(text)[1:]
        if any(_reads_as_a_row(line, width, date_at) for line in inner):
            return len(inner)
    return None


def _reads_as_a_row(line: str, width: int, date_at: int) -> bool:
    if line.count(",") >= max(width - 1, 1):
        return True
    cells = line.split(",")
    return len(cells) > 1 and date_at < len(cells) and bool(_DATE.match(cells[date_at]))
