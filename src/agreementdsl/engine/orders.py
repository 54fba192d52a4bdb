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
    rows: tuple[int, ...]
    amounts: tuple[int, ...]  # pence, in row order
    limit: int  # pence: the highest limit of the rules the spends fell under
    rule: int  # that rule's number in the pool's spending clause
    source: str  # where that rule is written, file:line

    @property
    def total(self) -> int:
        return sum(self.amounts)

    def message(self) -> str:
        rows = ", ".join(str(r) for r in self.rows)
        return (
            f"{CODE} pool `{self.pool}`: {len(self.rows)} spends to {self.supplier} on {self.day} "
            f"(rows {rows}) total {format_money(self.total)}, more than the "
            f"{format_money(self.limit)} limit of spending rule {self.rule} ({self.source}) that "
            "each stays within: a limit applies to the whole commitment"
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


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def split_orders(totals: Totals) -> list[SplitOrder]:
    """Every split order in the ledger, whatever its date, by pool, day and first row."""
    spool = totals.approvals
    suppliers = totals.suppliers
    if not suppliers or len(suppliers) != spool.count:
        return []
    keys = [_key(t) for t in totals.supplier_names]
    rules = [
        d.rule if d.rule is not None and d.rule.limit is not None else None
        for d, _, _ in spool.table
    ]
    # First pass: count and total the spends of each (pool, supplier, day) under a limited
    # rule, keeping the highest such limit (and its rule).
    groups: dict[tuple[int, str, int], tuple[int, int, Rule]] = {}
    for (_, amount, ordinal, pool, ident), sid in zip(spool.records(), suppliers, strict=True):
        rule, key = rules[ident], keys[sid]
        if rule is None or not key:
            continue
        found = groups.get((pool, key, ordinal))
        if found is None:
            groups[(pool, key, ordinal)] = (1, amount, rule)
        else:
            count, total, highest = found
            higher = rule if _rank(rule) > _rank(highest) else highest
            groups[(pool, key, ordinal)] = (count + 1, total + amount, higher)
    flagged = {k: g[2] for k, g in groups.items() if g[0] >= 2 and g[1] > _rank(g[2])[0]}
    if not flagged:
        return []
    # Second pass: the rows of the flagged groups only.
    members: dict[tuple[int, str, int], list[tuple[int, int, int]]] = {k: [] for k in flagged}
    for (row, amount, ordinal, pool, ident), sid in zip(spool.records(), suppliers, strict=True):
        found_rows = members.get((pool, keys[sid], ordinal))
        if found_rows is not None and rules[ident] is not None:
            found_rows.append((row, amount, sid))
    out = []
    for group, parts in members.items():
        pool_index, _, ordinal = group
        rule = flagged[group]
        parts.sort()
        out.append(
            SplitOrder(
                spool.pools[pool_index],
                " ".join(totals.supplier_names[parts[0][2]].split()),
                date.fromordinal(ordinal),
                tuple(r for r, _, _ in parts),
                tuple(a for _, a, _ in parts),
                _rank(rule)[0],
                rule.number,
                f"{rule.file}:{rule.line}",
            )
        )
    return sorted(out, key=lambda o: (spool.pools.index(o.pool), o.day, o.rows[0]))


def _rank(rule: Rule) -> tuple[int, int]:
    """A limited rule's (limit, number): the higher limit wins, then the later rule."""
    assert rule.limit is not None
    return rule.limit, rule.number
