"""Outcomes: measurements judged against their targets, and periods with none reported missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..calendar import FinancialYear, parse_period_label
from .ledger import Rejected, side_rows
from .term import Term

_COMPARE = {
    ">=": lambda v, t: v >= t,
    "<=": lambda v, t: v <= t,
    ">": lambda v, t: v > t,
    "<": lambda v, t: v < t,
    "=": lambda v, t: v == t,
}


@dataclass(frozen=True)
class Measurement:
    outcome: str
    start_year: int
    quarter: int | None
    value: str
    row: int

    @property
    def period(self) -> str:
        label = f"{self.start_year}/{(self.start_year + 1) % 100:02d}"
        return f"{label} Q{self.quarter}" if self.quarter else label


def read_measures(path: Path, outcomes: set[str]) -> tuple[list[Measurement], list[Rejected]]:
    """Measurements from CSV (`outcome`, `period`, `value`), each row checked."""
    name = str(path)
    found, rejected = [], []
    for row, get in side_rows(
        path, "measures", ("outcome", "period", "value"), ("outcome", "period", "value")
    ):
        period = parse_period_label(get["period"])
        if get["outcome"] not in outcomes and get["outcome"].lower() in outcomes:
            get["outcome"] = get["outcome"].lower()  # ids are lower case
        if get["outcome"] not in outcomes:
            rejected.append(
                Rejected(
                    row,
                    "M001",
                    f"outcome '{get['outcome']}' is not an outcome of the agreement",
                    name,
                )
            )
        elif period is None:
            rejected.append(
                Rejected(
                    row,
                    "M002",
                    f"period '{get['period']}' is not a year like 2006/07 or a quarter like 2006/07 Q1",
                    name,
                )
            )
        elif not _number(get["value"]):
            rejected.append(Rejected(row, "M003", f"value '{get['value']}' is not a number", name))
        else:
            found.append(Measurement(get["outcome"], period[0], period[1], get["value"], row))
    return found, rejected


def _number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def judge(
    outcomes: list[dict[str, Any]],
    measures: list[Measurement],
    year: FinancialYear,
    as_of: date,
    term: Term | None = None,
) -> list[dict[str, object]]:
    """Each measurement of the run year met or missed; each due period without one missing.
    Where the agreement covers only part of the year (`term`, engine/term.py), only the quarters
    it touches are due, each once its part of the quarter has ended, and the year's measurement
    once the part has ended."""
    term = term or Term.whole(year)
    out: list[dict[str, object]] = []
    for outcome in outcomes:
        target = outcome["target"]
        mine = [
            m for m in measures if m.outcome == outcome["id"] and m.start_year == year.start_year
        ]
        for m in mine:
            met = _COMPARE[target["op"]](Decimal(m.value), Decimal(target["value"]))
            out.append(
                {
                    "id": outcome["id"],
                    "period": m.period,
                    "value": m.value,
                    "target": target["text"],
                    "status": "met" if met else "missed",
                }
            )
        reported = {m.quarter for m in mine}
        due: list[tuple[int | None, date]]
        if outcome["reported"] == "quarterly":
            due = [
                (year.quarter_of(first), last)
                for first, last, _ in term.periods("quarterly")
                if last <= as_of
            ]
        else:
            due = [(None, term.last_day)] if term.last_day <= as_of else []
        for quarter, _end in due:
            if quarter not in reported:
                label = year.label + (f" Q{quarter}" if quarter else "")
                out.append(
                    {
                        "id": outcome["id"],
                        "period": label,
                        "value": None,
                        "target": target["text"],
                        "status": "missing",
                    }
                )
    return sorted(out, key=lambda o: (str(o["id"]), str(o["period"])))
