"""The position of a pool for a year: budget, actual net expenditure, forecast outturn.

Net expenditure is spend less income (contributions and forecasts are not expenditure). The
forecast outturn on a day is the latest forecast row on or before it within the year, else the
run-rate at the last month end (LANGUAGE.md §6). Where the agreement covers only part of the
year (engine/term.py), "the year" is that part: its net expenditure counts from commencement,
its run-rate divides by the months of it elapsed and projects over its months.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from ..calendar import FinancialYear
from ..money import format_money, round_half_away
from .term import Term, months_words


class Series:
    """Net amounts by day, answering "how much up to and including this day" by bisection."""

    def __init__(self, by_day: dict[date, int]) -> None:
        self.days = sorted(by_day)
        running = 0
        self.cumulative = []
        for day in self.days:
            running += by_day[day]
            self.cumulative.append(running)

    def to(self, day: date) -> int:
        i = bisect_right(self.days, day)
        return self.cumulative[i - 1] if i else 0

    def between(self, first: date, last: date) -> int:
        """Net from `first` to `last`, both included."""
        return self.to(last) - self.to(first - timedelta(days=1))


@dataclass(frozen=True)
class Forecast:
    """A forecast outturn and how it was reached."""

    pence: int
    how: str
    source_row: int | None = None


class Position:
    """A pool's (or one element's) money for one financial year, asked on any day."""

    def __init__(
        self,
        year: FinancialYear,
        net: Series,
        budget: int | None,
        forecasts: list[tuple[date, int, int]] | None = None,
        method: str = "run-rate",
        profile: list[Any] | None = None,
        term: Term | None = None,
    ) -> None:
        self.year = year
        self.term = term or Term.whole(year)
        self.net = net
        self.budget = budget
        self.method = method  # run-rate, profile or latest forecast (engine.forecast)
        self.profile = profile
        in_year = [f for f in forecasts or [] if self.term.contains(f[0])]
        self.forecasts = sorted(in_year)  # by day, then row: the later row wins a tie

    def actual(self, as_of: date) -> int:
        """Net expenditure from the term's start to the as-of date (or the term's end)."""
        return self.spent_to(as_of)

    def spent_to(self, day: date) -> int:
        """Net expenditure from the term's start to `day` (nothing before the term starts)."""
        if day < self.term.first_day:
            return 0
        return self.net.between(self.term.first_day, min(day, self.term.last_day))

    def run_rate(self, day: date) -> Forecast | None:
        """Net to the last month end on or before `day`, × the term's months (12 for a whole
        year) ÷ the months of it elapsed (None before the first month end)."""
        ends = [d for d in self.term.month_ends() if d <= day]
        if not ends:
            return None
        months = self.term.months_elapsed(ends[-1])
        length = self.term.length
        spent = self.spent_to(ends[-1])
        pence = round_half_away(Fraction(spent) * length / months)
        of = "" if self.term.is_whole_year else f" months of {self.term.words()}"
        how = (
            f"run-rate: {format_money(spent)} net to {ends[-1]} × {months_words(length)} ÷ "
            f"{months_words(months)}{of} = {format_money(pence)}"
        )
        return Forecast(pence, how)

    def forecast(self, day: date) -> Forecast | None:
        """The forecast outturn on `day` by the pool's method (None only when there is neither
        data nor budget)."""
        # the forecasts are by day, then row: those dated on or before `day` come first
        dated = bisect_right(self.forecasts, day, key=lambda f: f[0])
        rows = self.forecasts[dated - 1 : dated] if self.method != "profile" and dated else []
        if self.method == "profile" and self.profile is not None:
            ends = [d for d in self.term.month_ends() if d <= day]
            if ends:
                from .forecast import profiled  # forecast builds on this module's Series

                pence, how = profiled(self.profile, self.term.first_day, ends)
                return Forecast(pence, how)
        elif self.method == "latest forecast" and not rows and self.budget is not None:
            return Forecast(
                self.budget,
                f"no forecast row yet: the forecast is the budget, {format_money(self.budget)}",
            )
        if rows:
            fday, row, pence = rows[-1]
            return Forecast(pence, f"forecast row {row} dated {fday}: {format_money(pence)}", row)
        rate = self.run_rate(day)
        if rate is not None:
            return rate
        if self.budget is None:
            return None
        return Forecast(
            self.budget,
            f"before the first month end the forecast is the budget, {format_money(self.budget)}",
        )
