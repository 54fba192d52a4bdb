"""Lists in words, written one way by every message, page and schedule."""

from __future__ import annotations

from collections.abc import Sequence


def listed(words: Sequence[str], last: str = "and") -> str:
    """`a`, `a and b`, `a, b and c` (no comma before the last word, as the schedules write
    lists); `last` is the word before the final item, `and` or `or`."""
    if not words:
        raise ValueError("nothing to list")
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 row`, `2 rows`, `1,250 rows`: a count with its noun in the number it needs."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
