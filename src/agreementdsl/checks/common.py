"""Small helpers shared by the checks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .. import model as m


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"did you mean `{close[0]}`?" if close else None


def unknown_hint(word: str, options: Iterable[str], kind: str) -> str:
    opts = sorted(set(options))
    suggestion = did_you_mean(word, opts)
    if suggestion:
        return suggestion
    if opts:
        return f"the {kind}s are: {', '.join(f'`{o}`' for o in opts)}"
    return f"no {kind}s are defined"


def pool_partners(pool: m.Pool) -> list[str]:
    """Partners named in any year's contributions to the pool, in first-seen order."""
    seen: list[str] = []
    for year in pool.contributions:
        for c in year.contributions:
            if c.partner.name not in seen:
                seen.append(c.partner.name)
    return seen
