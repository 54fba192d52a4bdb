"""Reporting duties: every due date of every periodic duty, and triggered duties as raised.

Deadlines count from the end of each period (month, financial-year quarter, year); a triggered
duty is due within its deadline of the day its trigger starts to hold. Triggers are tested at
each month end and on each forecast row, and compared exactly (LANGUAGE.md §6).

Where the agreement covers only part of the year (engine/term.py), the periods are those of the
part: no period that ends before commencement or begins after expiry has a report, a period
holding the expiry ends on it, and triggers are tested at the part's month ends only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..calendar import Duration, add_duration
from ..money import format_money, parse_amount
from .position import Position
from .term import Term


@dataclass(frozen=True)
class Due:
    report: str
    to: str
    period_end: date
    due: date
    duty: int  # the duty's number in the clause
    source: str
    triggered: bool
    why: str

    def to_json(self) -> dict[str, object]:
        return {
            "report": self.report,
            "to": self.to,
            "period_end": self.period_end.isoformat(),
            "due": self.due.isoformat(),
            "triggered": self.triggered,
            "source": self.source,
        }


def _deadline(duty: dict[str, Any]) -> Duration:
    return Duration(duty["deadline"]["count"], duty["deadline"]["unit"])


def _period_ends(term: Term, cadence: str) -> list[date]:
    return term.period_ends(cadence if cadence in ("monthly", "quarterly") else "annual")


def _holds(trigger: dict[str, Any], position: Position, day: date) -> tuple[bool, str]:
    """Whether the trigger holds on `day`, exactly, with the figures compared."""
    budget = position.budget
    if budget is None:
        return False, "no budget"
    if trigger["forecast"]:
        forecast = position.forecast(day)
        if forecast is None:
            return False, "no forecast"
        value, what = forecast.pence, "forecast outturn"
    else:
        value, what = position.spent_to(day), "net expenditure to date"
    gap = value - budget if trigger["direction"] == "overspend" else budget - value
    if trigger["percent"] is not None:
        limit = Fraction(Decimal(trigger["percent"])) * budget / 100
        words = f"{trigger['percent']}% of the budget {format_money(budget)}"
    else:
        limit = Fraction(parse_amount(trigger["amount"]))
        words = format_money(int(limit))
    held = gap > limit
    return (
        held,
        f"{what} {format_money(value)}: {trigger['direction']} {format_money(gap)} {'exceeds' if held else 'does not exceed'} {words}",
    )


def test_days(position: Position, as_of: date) -> list[date]:
    """Month ends and forecast-row days within the term, on or before the as-of date."""
    days = {d for d in position.term.month_ends() if d <= as_of}
    days.update(f[0] for f in position.forecasts if f[0] <= as_of)
    return sorted(days)


def schedule(duties: list[dict[str, Any]], position: Position, as_of: date) -> list[Due]:
    """Every due report of the pool's duties for the year, by due date then clause order."""
    out: list[Due] = []
    for duty in duties:
        source = f"{duty['span']['file']}:{duty['span']['line']}"
        deadline = _deadline(duty)
        if duty["trigger"] is None:
            for end in _period_ends(position.term, duty["cadence"]):
                why = f"{duty['cadence']} period ending {end}, within {duty['deadline']['text']}"
                out.append(
                    Due(
                        duty["report"],
                        duty["to"],
                        end,
                        add_duration(end, deadline),
                        duty["number"],
                        source,
                        False,
                        why,
                    )
                )
            continue
        held_before = False
        for day in test_days(position, as_of):
            held, why = _holds(duty["trigger"], position, day)
            if held and not held_before:
                out.append(
                    Due(
                        duty["report"],
                        duty["to"],
                        day,
                        add_duration(day, deadline),
                        duty["number"],
                        source,
                        True,
                        f"on {day} {why}",
                    )
                )
            held_before = held
    return sorted(out, key=lambda d: (d.due, d.duty, d.period_end))
