"""The forecast method a pool names: run-rate (the default), a budget profile, or the latest
forecast row.

A profile gives, for the whole pool or for each element, the share of the year's budget
planned in each month. Under it, the forecast outturn at a month end is, part by part, the net
expenditure to that month end divided by the share planned to it (so an even profile is the
run-rate, and a block payment planned for April projects no overspend); a part with nothing
planned yet adds its budget to what it has spent. Rows of no element, and elements the profile
does not name, follow an even profile. The total is rounded half away from zero to the penny.

Where the agreement covers only part of the year (engine/term.py), the budget is for that part,
so the profile is rescaled to it: each month of the part keeps its planned share (a month
covered in part, that part of its share), and the shares are scaled to add up to 100% over the
part. A profile that plans nothing in the part is taken as even over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..money import format_money, round_half_away
from .position import Series
from .term import Term

EVEN = [Fraction(k, 12) for k in range(1, 13)]


@dataclass(frozen=True)
class Part:
    """One part of a profile: its net expenditure, its budget, its share planned by each month end."""

    name: str
    net: Series
    budget: int
    cumulative: list[Fraction]  # one a month of the term (twelve, April first, for a year)


def _cumulative(months: Any) -> list[Fraction]:
    if months == "even":
        return EVEN
    out, running = [], Fraction(0)
    for pct in months:
        running += Fraction(Decimal(pct)) / 100
        out.append(running)
    return out


def to_term(cumulative: list[Fraction], term: Term | None) -> list[Fraction]:
    """A year's cumulative profile (twelve shares, April first) rescaled to the term's months."""
    if term is None or term.is_whole_year:
        return cumulative
    starts = [term.year.first_day, *(d + timedelta(days=1) for d in term.year.month_end_dates)]
    planned = []
    for month in term.months:
        i = max(k for k in range(12) if starts[k] <= month.first)
        own = cumulative[i] - (cumulative[i - 1] if i else Fraction(0))
        planned.append(own * month.weight)
    whole = sum(planned, Fraction(0))
    if whole <= 0:  # nothing planned in the term: even over its months
        planned, whole = [m.weight for m in term.months], term.length
    out, running = [], Fraction(0)
    for share in planned:
        running += share / whole
        out.append(running)
    return out


def cumulative_for(months: Any, term: Term | None = None) -> list[Fraction]:
    """The cumulative shares a profile (`even`, or its monthly percentages) plans by each month
    end of the term (the whole year where no term is given)."""
    return to_term(_cumulative(months), term)


def profile_parts(
    method: dict[str, Any],
    net: dict[date, int],
    element_net: Any,
    budget: int | None,
    element_budgets: dict[str, int],
    elements: list[str],
    term: Term | None = None,
) -> list[Part] | None:
    """The parts of the pool's profile for the year, or the agreement's term within it (None
    unless the method is `profile`)."""
    if method["method"] != "profile":
        return None
    if method["by"] == "month":
        planned = cumulative_for(method["profile"][0]["months"], term)
        return [Part("the pool", Series(net), budget or 0, planned)]
    named = {p["element"]: p["months"] for p in method["profile"]}
    parts = []
    rest = dict(net)
    for eid in elements:
        own = element_net(eid)
        for day, pence in own.items():
            rest[day] = rest.get(day, 0) - pence
        parts.append(
            Part(
                eid,
                Series(own),
                element_budgets.get(eid, 0),
                cumulative_for(named.get(eid, "even"), term),
            )
        )
    if any(rest.values()):
        parts.append(Part("rows of no element", Series(rest), 0, to_term(EVEN, term)))
    return parts


def profiled(parts: list[Part], first_day: date, ends: list[date]) -> tuple[int, str]:
    """The forecast outturn at the last of `ends` (the month ends so far), and its working."""
    k = len(ends)
    total = Fraction(0)
    words = []
    for part in parts:
        spent = part.net.between(first_day, ends[-1])
        share = part.cumulative[k - 1]
        if share > 0:
            value = Fraction(spent) / share
            words.append(f"{part.name} {format_money(spent)} ÷ {_pct(share)}")
        else:
            value = Fraction(part.budget + spent)
            words.append(f"{part.name} budget {format_money(part.budget)} + {format_money(spent)}")
        total += value
    pence = round_half_away(total)
    return pence, f"profile to {ends[-1]}: {'; '.join(words)} = {format_money(pence)}"


def _pct(share: Fraction) -> str:
    value = share * 100
    if value.denominator == 1:
        return f"{value.numerator}%"
    return f"{float(value):.2f}%"  # words only: the figure itself is worked exactly


def project_parts(
    parts: list[Part], first_day: date, ends: list[date], month_ends: list[date]
) -> tuple[list[Part], dict[date, int]]:
    """Each part spending, after the last of `ends`, as its profile plans for its forecast
    outturn; and the pool's projected net by day (for the early warning)."""
    k = len(ends)
    out: list[Part] = []
    pool_net: dict[date, int] = {}
    for part in parts:
        spent = part.net.between(first_day, ends[-1])
        share = part.cumulative[k - 1]
        outturn = Fraction(spent) / share if share > 0 else Fraction(part.budget + spent)
        by_day = {d: part.net.between(d, d) for d in part.net.days if d <= ends[-1]}
        running = spent
        for i, end in enumerate(month_ends):
            if i < k:
                continue
            target = spent + round_half_away((outturn - spent) * _ahead(part, k, i))
            by_day[end] = by_day.get(end, 0) + target - running
            running = target
        out.append(Part(part.name, Series(by_day), part.budget, part.cumulative))
        for day, pence in by_day.items():
            pool_net[day] = pool_net.get(day, 0) + pence
    return out, pool_net


def _ahead(part: Part, k: int, i: int) -> Fraction:
    """The share of what is still to come that the profile plans by month end i (0-based)."""
    left = 1 - part.cumulative[k - 1]
    if left <= 0:
        return Fraction(1)
    return (part.cumulative[i] - part.cumulative[k - 1]) / left
