"""A pool's approvals summed up from the columnar spool: the text summary's breach figures.

The spool holds every classified spend as columns of machine integers. Counting a pool's
spends and breaches in the run year needs no object per spend: each chunk's (pool, decision)
pairs within the year are counted by `collections.Counter` over the columns, and only the
few breaches the summary lists are turned into `Classified` records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import compress

from .executor import ApprovalSpool, Classified


@dataclass(frozen=True)
class Tally:
    """A pool's spends in the year to the as-of date, and those breaching delegated authority."""

    spends: int
    breaches: int
    first: tuple[Classified, ...]  # the first breaches in ledger order, at most `keep`


def tally(spool: ApprovalSpool, pool: str, first_day: date, last_day: date, keep: int) -> Tally:
    """Count `pool`'s spends dated first_day..last_day (inclusive) and keep its first breaches."""
    own = getattr(spool, "tally", None)
    if own is not None:  # a spool that can count without reading every spend (engine/sql)
        counted: Tally = own(pool, first_day, last_day, keep)
        return counted
    index = spool.pools.index(pool)
    table = spool.table
    breaching = [not decision.compliant for decision, _, _ in table]
    in_year = range(first_day.toordinal(), last_day.toordinal() + 1)
    spends = breaches = 0
    kept: list[Classified] = []
    for rows, amounts, days, pools, idents in spool.columns():
        wanted = list(map(in_year.__contains__, days))
        counts = Counter(compress(zip(pools, idents, strict=True), wanted))
        chunk_breaches = 0
        for (pool_index, ident), n in counts.items():
            if pool_index == index:
                spends += n
                if breaching[ident]:
                    chunk_breaches += n
        breaches += chunk_breaches
        if not chunk_breaches or len(kept) >= keep:
            continue
        # Walked row by row only while breaches are still wanted for the listing.
        for k in compress(range(len(rows)), wanted):
            ident = idents[k]
            if pools[k] == index and breaching[ident]:
                decision, fields, in_plan = table[ident]
                day = date.fromordinal(days[k])
                kept.append(Classified(rows[k], amounts[k], day, pool, decision, fields, in_plan))
                if len(kept) >= keep:
                    break
    return Tally(spends, breaches, tuple(kept))
