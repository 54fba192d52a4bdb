"""Lining up two versions of a list (paragraphs, waterfall steps, rules, stages) for comparison.

Unchanged items are matched as the longest common run; within a run of changes, an old and a new
item are paired only when they are alike (so an inserted step is an insertion, not a rewrite of
every step after it), and in order.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

SIMILAR = 0.5


def _alike(a: str, b: str) -> float:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio()


def align(old: Sequence[str], new: Sequence[str]) -> Iterator[tuple[str, int | None, int | None]]:
    """("equal" | "change" | "insert" | "delete", old index, new index), in document order."""
    matcher = difflib.SequenceMatcher(a=list(old), b=list(new), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                yield "equal", i1 + k, j1 + k
            continue
        i = i1
        for j in range(j1, j2):
            match = next((k for k in range(i, i2) if _alike(old[k], new[j]) >= SIMILAR), None)
            if match is None:
                yield "insert", None, j
                continue
            for k in range(i, match):
                yield "delete", k, None
            yield "change", match, j
            i = match + 1
        for k in range(i, i2):
            yield "delete", k, None
