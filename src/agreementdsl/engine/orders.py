"""Split orders: spends to one supplier on one day that together pass a limit each stays under.

A spending limit applies to the whole commitment. Several spends of one pool to one supplier on
one day, each within a limited rule (`up to £X`), whose total is more than the highest limit
among the rules they fell under, look like one order split to stay within an officer's authority
(docs/running.md, R020). Suppliers are matched as written, ignoring case and spaces at the ends
or repeated inside; a spend with no supplier is never grouped. A ledger has no order reference
that `run` reads, so the grouping is by supplier and day only.

Both executors leave each spooled spend's supplier beside the spool (`Totals.suppliers`), and
this one function reads them, so the reference and DuckDB executors give the same groups.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..money import format_money, format_pounds
from .approvals import Rule
from .executor import Totals

CODE = "R020"


@dataclass(frozen=True)
class SplitOrder:
    """One group of spends that together pass the limit each stays under."""

    pool: str
    supplier: str  # as first written in the ledger
    day: date
    rows: array[int]  # in ledger order
    amounts: array[int]  # pence, in row order
    limit: int  # pence: the highest limit of the rules the spends fell under
    rule: int  # that rule's number in the pool's spending clause
    source: str  # where that rule is written, file:line

    @property
    def total(self) -> int:
        return sum(self.amounts)

    def line(self) -> str:
        """The group in one line of text."""
        rows = ", ".join(str(r) for r in self.rows)
        return (
            f"{self.day} {self.supplier}: rows {rows} total {format_money(self.total)}, more "
            f"than the {format_money(self.limit)} limit of rule {self.rule} ({self.source})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "code": CODE,
            "supplier": self.supplier,
            "date": self.day.isoformat(),
            "rows": list(self.rows),
            "amounts": [format_pounds(a) for a in self.amounts],
            "total": format_pounds(self.total),
            "limit": format_pounds(self.limit),
            "rule": self.rule,
            "source": self.source,
        }


def warning(pool: str, found: list[SplitOrder]) -> str:
    """The pool's one warning for its split orders of the year (each is listed apart)."""
    first = found[0]
    more = f", the first on {first.day}" if len(found) > 1 else f" on {first.day}"
    return (
        f"{CODE} pool `{pool}`: {len(found)} possible split order{'s' if len(found) > 1 else ''}"
        f"{more}: spends to one supplier on one day that together pass the limit each stays "
        "within (a limit applies to the whole commitment; see split orders)"
    )


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def split_orders(totals: Totals) -> list[SplitOrder]:
    """Every split order in the ledger, whatever its date, by pool, day and first row.

    Vectorised (numpy): the spends under a limited rule that name a supplier are sorted by
    pool, supplier, day and row, and each run of equal (pool, supplier, day) is one group.
    """
    spool = totals.approvals
    if not len(totals.suppliers) or len(totals.suppliers) != spool.count:
        return []
    import numpy as np  # here, not at the top: numpy would slow every command's start-up

    key_ids: dict[str, int] = {"": 0}
    supplier_key = np.array(
        [key_ids.setdefault(_key(t), len(key_ids)) for t in totals.supplier_names], dtype=np.int64
    )
    # Rank 1.. of each limited rule by (limit, number), 0 for a spend under no limit.
    limited = sorted(
        {
            (d.rule.limit, d.rule.number, d.rule.pool): d.rule
            for d, _, _ in spool.table
            if d.rule is not None and d.rule.limit is not None
        }.items(),
        key=lambda item: item[0][:2],
    )
    rank_of = {k: i for i, (k, _) in enumerate(limited, start=1)}
    ident_rank = np.array(
        [
            rank_of[(d.rule.limit, d.rule.number, d.rule.pool)]
            if d.rule is not None and d.rule.limit is not None
            else 0
            for d, _, _ in spool.table
        ]
        or [0],
        dtype=np.int64,
    )
    rank_limit = np.array([0, *(k[0] for k, _ in limited)], dtype=np.int64)
    every_supplier = np.frombuffer(totals.suppliers, dtype=np.uint64)
    kept: list[list[Any]] = [[], [], [], [], [], [], []]
    position = 0
    for rows, amounts, days, pools, idents in spool.columns():
        size = len(rows)
        sids = every_supplier[position : position + size].astype(np.int64)
        position += size
        ranks = ident_rank[np.frombuffer(idents, dtype=np.uint64).astype(np.int64)]
        keys = supplier_key[sids]
        wanted = (ranks > 0) & (keys > 0)
        for i, column in enumerate(
            (
                np.frombuffer(pools, dtype=np.uint16).astype(np.int64),
                keys,
                np.frombuffer(days, dtype=np.int64),
                np.frombuffer(rows, dtype=np.int64),
                np.frombuffer(amounts, dtype=np.int64),
                ranks,
                sids,
            )
        ):
            kept[i].append(column[wanted])
    if not any(len(c) for c in kept[0]):
        return []
    pool_c, key_c, day_c, row_c, amount_c, rank_c, sid_c = (np.concatenate(c) for c in kept)
    kept.clear()  # the chunks' copies: freed before the sort makes its own
    order = _grouping_order(np, pool_c, key_c, day_c, row_c)
    # one column at a time, so each unsorted column is freed as its sorted copy is made
    pool_c = pool_c[order]
    key_c = key_c[order]
    day_c = day_c[order]
    row_c = row_c[order]
    amount_c = amount_c[order]
    rank_c = rank_c[order]
    sid_c = sid_c[order]
    del order
    change = (np.diff(pool_c) != 0) | (np.diff(key_c) != 0) | (np.diff(day_c) != 0)
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    counts = np.diff(np.concatenate((starts, [len(pool_c)])))
    group_totals = np.add.reduceat(amount_c, starts)
    group_ranks = np.maximum.reduceat(rank_c, starts)
    flagged = np.flatnonzero((counts >= 2) & (group_totals > rank_limit[group_ranks]))
    out = []
    first_of, count_of = starts[flagged], counts[flagged]
    pools_of, days_of, sids_of = (c[first_of].tolist() for c in (pool_c, day_c, sid_c))
    rules_of = [limited[r - 1][1] for r in group_ranks[flagged].tolist()]
    row_bytes, amount_bytes = row_c.tobytes(), amount_c.tobytes()
    names = [" ".join(t.split()) for t in totals.supplier_names]
    for first, count, pool, day, sid, rule in zip(
        first_of.tolist(), count_of.tolist(), pools_of, days_of, sids_of, rules_of, strict=True
    ):
        part = slice(first * 8, (first + count) * 8)
        out.append(
            SplitOrder(
                spool.pools[pool],
                names[sid],
                date.fromordinal(day),
                array("q", row_bytes[part]),
                array("q", amount_bytes[part]),
                _rank(rule)[0],
                rule.number,
                f"{rule.file}:{rule.line}",
            )
        )
    return sorted(out, key=lambda o: (spool.pools.index(o.pool), o.day, o.rows[0]))


def _grouping_order(np: Any, pool: Any, key: Any, day: Any, row: Any) -> Any:
    """The order that sorts spends by pool, supplier, day, then row. The columns are in ledger
    order, so a stable sort of (pool, supplier, day) packed into one integer keeps the rows in
    order; when they do not fit in 62 bits, a four-key lexsort (slower) does it."""
    first_day = int(day.min())
    widths = [int(c.max()).bit_length() for c in (key, day - first_day)]
    if int(pool.max()).bit_length() + sum(widths) <= 62:
        packed = ((pool << widths[0]) | key) << widths[1] | (day - first_day)
        return np.argsort(packed, kind="stable")
    return np.lexsort((row, day, key, pool))


def _rank(rule: Rule) -> tuple[int, int]:
    """A limited rule's (limit, number): the higher limit wins, then the later rule."""
    assert rule.limit is not None
    return rule.limit, rule.number
