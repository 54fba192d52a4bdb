"""Unapproved spend borne by a partner (`unapproved spend: borne by the partner`, docs/language.md).

Where a pool's spending clause ends with that line, each spend of the year to the as-of date
that is not compliant with delegated authority is charged to its partner (the row's `partner`,
else the partner its element is named against; for a row with neither, the host), outside the
risk share: it leaves the pool's net expenditure, and so its forecast, variance, settlement,
exit balance and the balance carried between years. Without the line nothing changes: such
spend stays in the pool and is shared like any other (LANGUAGE.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..money import format_pounds
from .executor import Totals


@dataclass
class Borne:
    """What the partners bear of a pool's unapproved spend in a year, to the as-of date."""

    source: str  # where the line is written, file:line
    by_partner: dict[str, int] = field(default_factory=dict)  # pence, in `partners:` order
    by_day: dict[date, int] = field(default_factory=dict)
    by_element: dict[tuple[str, date], int] = field(default_factory=dict)  # (element, day)
    spends: int = 0  # how many (each is in `approvals`, not compliant)

    @property
    def total(self) -> int:
        return sum(self.by_partner.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "borne_by": "partner",
            "total": format_pounds(self.total),
            "partners": {p: format_pounds(v) for p, v in self.by_partner.items()},
            "spends": self.spends,
            "source": self.source,
        }


def borne(
    ir: dict[str, Any], pool: dict[str, Any], totals: Totals, first: date, last: date
) -> Borne | None:
    """The pool's unapproved spend dated first..last charged to partners (None without the
    line)."""
    line = pool.get("unapproved_spend") or {}
    if line.get("borne_by") != "partner":
        return None
    span = line["span"]
    out = Borne(f"{span['file']}:{span['line']}")
    index = totals.approvals.pools.index(pool["id"])
    low, high = first.toordinal(), last.toordinal()
    charged: dict[str, int] = {}
    for (pool_index, ordinal, element, who), (pence, spends) in sorted(totals.unapproved.items()):
        if pool_index != index or not low <= ordinal <= high:
            continue
        who = who or pool["host"]
        charged[who] = charged.get(who, 0) + pence
        day = date.fromordinal(ordinal)
        out.by_day[day] = out.by_day.get(day, 0) + pence
        out.by_element[(element, day)] = out.by_element.get((element, day), 0) + pence
        out.spends += spends
    order = [p["id"] for p in ir["partners"]]
    out.by_partner = {p: charged[p] for p in order if p in charged}
    return out
