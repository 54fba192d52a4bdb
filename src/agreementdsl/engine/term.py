"""The agreement's period within one financial year: from commencement, or to expiry, or both.

An agreement that commences part-way through a financial year runs, in that year, from its
commencement to the year's last day (Durham: 1 September 2003 to 31 March 2004, seven months);
one that expires before the year's last day runs from the year's first day to its expiry. The
contributions the agreement states for that year are for that period, so the engine runs the
year as that period: the run-rate counts and projects its months only, reports fall due for its
periods only, instalments are spread over its months only, and a budget profile is rescaled to
it (docs/running.md, "The first and last period").

The period's months are the financial year's months that it touches. A month it covers only in
part (a commencement on a day other than a month's first, an expiry on a day other than a month's
last) counts as the part of the month it covers, in days: 16 of September's 30 days is 8/15 of a
month. A year the agreement does not reach at all (before commencement, after expiry) is run as a
whole financial year, as it always was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import cached_property
from typing import Any

from ..calendar import FinancialYear


@dataclass(frozen=True)
class Month:
    """One month of a term: its first and last day within the term, and how much of the
    financial year's month that is (1 for a whole month)."""

    first: date
    last: date
    weight: Fraction


@dataclass(frozen=True)
class Term:
    """The days of one financial year that an agreement covers (the whole year, usually)."""

    year: FinancialYear
    first_day: date
    last_day: date

    @classmethod
    def whole(cls, year: FinancialYear) -> Term:
        """The whole financial year."""
        return cls(year, year.first_day, year.last_day)

    @property
    def label(self) -> str:
        return self.year.label

    @property
    def is_whole_year(self) -> bool:
        return self.first_day == self.year.first_day and self.last_day == self.year.last_day

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    @cached_property
    def months(self) -> tuple[Month, ...]:
        """The year's months that the term touches, each cut to the term."""
        out = []
        start = self.year.first_day
        for end in self.year.month_end_dates:
            first, last = max(start, self.first_day), min(end, self.last_day)
            if first <= last:
                covered = (last - first).days + 1
                weight = Fraction(covered, (end - start).days + 1)
                out.append(Month(first, last, weight))
            start = end + timedelta(days=1)
        return tuple(out)

    def month_ends(self) -> list[date]:
        """The last day of each month of the term (the term's last day ends its last month)."""
        return [m.last for m in self.months]

    @cached_property
    def length(self) -> Fraction:
        """How many months the term lasts (12 for a whole year; 7 for Durham's first period)."""
        return sum((m.weight for m in self.months), Fraction(0))

    def months_elapsed(self, day: date) -> Fraction:
        """How many months of the term have ended on or before `day`."""
        return sum((m.weight for m in self.months if m.last <= day), Fraction(0))

    def periods(self, cadence: str) -> list[tuple[date, date, Fraction]]:
        """The term's reporting or payment periods for a cadence (`monthly`, `quarterly`,
        `annual`): each period of the year that the term touches, cut to the term, with the
        months of the term it holds."""
        size = {"monthly": 1, "quarterly": 3, "annual": 12}[cadence]
        out: list[tuple[date, date, Fraction]] = []
        start = self.year.first_day
        ends = self.year.month_end_dates
        for i in range(0, 12, size):
            end = ends[i + size - 1]
            held = [m for m in self.months if start <= m.first <= end]
            if held:
                weight = sum((m.weight for m in held), Fraction(0))
                out.append((held[0].first, held[-1].last, weight))
            start = end + timedelta(days=1)
        return out

    def period_ends(self, cadence: str) -> list[date]:
        """The last day of each of the term's periods for a cadence."""
        return [last for _, last, _ in self.periods(cadence)]

    def words(self) -> str:
        """The term in words: "the period from 1 September 2003 to 31 March 2004"."""
        return f"the period from {day_words(self.first_day)} to {day_words(self.last_day)}"


def day_words(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def months_words(months: Fraction) -> str:
    """A number of months for the working: `7`, or `6.53` where a month counts in part (the
    figure itself is worked exactly)."""
    if months.denominator == 1:
        return str(months.numerator)
    return f"{float(months):.2f}"


def agreement_term(agreement: dict[str, Any], year: FinancialYear) -> Term:
    """The agreement's term within `year` (`agreement` is the IR's `agreement`): cut to its
    commencement and expiry where they fall inside the year; the whole year where neither does,
    and where the year lies wholly outside the agreement's dates."""
    commencement = _day(agreement.get("commencement"))
    expiry = _day(agreement.get("expiry"))
    first, last = year.first_day, year.last_day
    if commencement is not None and commencement > last:
        return Term.whole(year)
    if expiry is not None and expiry < first:
        return Term.whole(year)
    if commencement is not None and commencement > first:
        first = commencement
    if expiry is not None and expiry < last:
        last = expiry
    if first > last:
        return Term.whole(year)
    return Term(year, first, last)


def as_term(year: FinancialYear | Term) -> Term:
    """A Term for a caller that has only the financial year: the whole year."""
    return year if isinstance(year, Term) else Term.whole(year)


def _day(text: object) -> date | None:
    if isinstance(text, date):
        return text
    if isinstance(text, str) and text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None
