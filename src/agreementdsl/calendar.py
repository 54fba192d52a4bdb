"""Financial years, periods, durations and working days for UK Section 75 agreements.

A financial year runs from the agreement's `financial_year_start` (default 1 April) to the day
before the same date a year later, and is named `YYYY/YY` ("2005/06"). Its periods are twelve
months and four quarters counted from its first day. Working days are Monday to Friday except
bank holidays in England, taken from the maintained `holidays` calendar (LANGUAGE.md §2).
The engine calls `year_containing` and `add_working_days` per ledger row: both use per-year caches.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache

DURATION_UNITS = ("working_days", "days", "weeks", "months")
CADENCES = ("monthly", "quarterly", "annual")

_UNIT_WORDS = {
    "working_days": ("working day", "working days"),
    "days": ("day", "days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_YEAR_LABEL = re.compile(r"([0-9]{4})/([0-9]{2})")
_PERIOD_LABEL = re.compile(r"([0-9]{4}/[0-9]{2})(?:\s+[Qq]([1-4]))?")
_MONTH_DAY = re.compile(r"([0-9]{2})-([0-9]{2})")
_DURATION = re.compile(r"([0-9]+)\s+(working\s+days?|days?|weeks?|months?)")
_FIRST_START_YEAR, _LAST_START_YEAR = 1, 9998  # the year after must still be a `date`


def _days_in_month(year: int, month: int) -> int:
    """Number of days in the given month of the given year."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def _is_year_start(month: int, day: int) -> bool:
    """True when (month, day) can start a financial year: a real date, but never 29 February."""
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]


@dataclass(frozen=True, order=True)
class FinancialYear:
    """One financial year, named by the calendar year it starts in (2005 for "2005/06")."""

    start_year: int
    start_month: int = 4
    start_day: int = 1

    def __post_init__(self) -> None:
        if not _FIRST_START_YEAR <= self.start_year <= _LAST_START_YEAR:
            raise ValueError(f"financial year {self.start_year} is out of range")
        if not _is_year_start(self.start_month, self.start_day):
            raise ValueError(
                f"{self.start_month:02d}-{self.start_day:02d} cannot start a financial year"
            )

    @property
    def label(self) -> str:
        """The year's name, `YYYY/YY`: "2005/06", "1999/00"."""
        return f"{self.start_year:04d}/{(self.start_year + 1) % 100:02d}"

    @cached_property
    def first_day(self) -> date:
        """The first day of the year (1 April 2005 for 2005/06)."""
        return date(self.start_year, self.start_month, self.start_day)

    @cached_property
    def last_day(self) -> date:
        """The last day of the year: the day before the next year's first day."""
        return date(self.start_year + 1, self.start_month, self.start_day) - timedelta(days=1)

    @cached_property
    def month_end_dates(self) -> tuple[date, ...]:
        """The twelve month ends of the year, as an immutable tuple (see `month_ends`)."""
        return tuple(add_months(self.first_day, k) - timedelta(days=1) for k in range(1, 13))

    def contains(self, day: date) -> bool:
        """True when `day` falls within this year, first and last day included."""
        return self.first_day <= day <= self.last_day

    def month_ends(self) -> list[date]:
        """The last day of each of the year's twelve months, in order.

        For a year starting on the 1st these are calendar month ends (30 April ... 31 March).
        For a year starting on another day, a month runs from the start day to the day before
        the start day of the next month; where a month is too short for the start day, that
        month starts on its last day (a year starting 31 January has a month 28 Feb–30 Mar).
        """
        return list(self.month_end_dates)

    def quarter_ends(self) -> list[date]:
        """The last day of each quarter: the 3rd, 6th, 9th and 12th month ends."""
        return list(self.month_end_dates[2::3])

    def period_ends(self, cadence: str) -> list[date]:
        """The period ends for a reporting cadence: `monthly`, `quarterly` or `annual`."""
        if cadence == "monthly":
            return self.month_ends()
        if cadence == "quarterly":
            return self.quarter_ends()
        if cadence == "annual":
            return [self.last_day]
        raise ValueError(f"unknown cadence {cadence!r}; expected one of {', '.join(CADENCES)}")

    def quarter_of(self, day: date) -> int:
        """The quarter (1 to 4) of this year that `day` falls in."""
        if not self.contains(day):
            raise ValueError(f"{day.isoformat()} is not in financial year {self.label}")
        return bisect_left(self.month_end_dates, day) // 3 + 1

    def months_elapsed(self, day: date) -> int:
        """How many of the year's month ends fall on or before `day` (0 to 12)."""
        return bisect_right(self.month_end_dates, day)

    def next(self) -> FinancialYear:
        """The following financial year, with the same start."""
        return _financial_year(self.start_year + 1, self.start_month, self.start_day)

    def previous(self) -> FinancialYear:
        """The preceding financial year, with the same start."""
        return _financial_year(self.start_year - 1, self.start_month, self.start_day)


@lru_cache(maxsize=4096)
def _financial_year(start_year: int, start_month: int, start_day: int) -> FinancialYear:
    """A shared FinancialYear instance, so its cached periods are computed once."""
    return FinancialYear(start_year, start_month, start_day)


def financial_year(label: str, start_month: int = 4, start_day: int = 1) -> FinancialYear | None:
    """The year named by a `YYYY/YY` label, or None when the label is not one."""
    start_year = parse_year_label(label)
    if start_year is None:
        return None
    return _financial_year(start_year, start_month, start_day)


def parse_year_label(text: str) -> int | None:
    """The start year of a `YYYY/YY` label ("2005/06" -> 2005, "1999/00" -> 1999).

    None when the text is not that form with the second part the first year plus one, modulo
    100: "2005/07", "2005-06" and "05/06" are all None.
    """
    match = _YEAR_LABEL.fullmatch(text)
    if match is None:
        return None
    start_year, second = int(match[1]), int(match[2])
    if second != (start_year + 1) % 100:
        return None
    if not _FIRST_START_YEAR <= start_year <= _LAST_START_YEAR:
        return None
    return start_year


def parse_period_label(text: str) -> tuple[int, int | None] | None:
    """A measurement period: "2006/07" -> (2006, None), "2006/07 Q1" -> (2006, 1); else None."""
    match = _PERIOD_LABEL.fullmatch(text.strip())
    if match is None:
        return None
    start_year = parse_year_label(match[1])
    if start_year is None:
        return None
    return start_year, int(match[2]) if match[2] else None


def year_containing(day: date, start_month: int = 4, start_day: int = 1) -> FinancialYear:
    """The financial year, starting on the given month and day, that contains `day`."""
    month = day.month
    started = month > start_month or (month == start_month and day.day >= start_day)
    return _financial_year(day.year if started else day.year - 1, start_month, start_day)


def parse_month_day(text: str) -> tuple[int, int] | None:
    """A financial-year start `MM-DD` as (month, day): "04-01" -> (4, 1).

    None for text of another form or a day that does not exist ("13-01", "02-30"); 29 February
    is refused too, since it would not exist in most years.
    """
    match = _MONTH_DAY.fullmatch(text.strip())
    if match is None:
        return None
    month, day = int(match[1]), int(match[2])
    return (month, day) if _is_year_start(month, day) else None


@dataclass(frozen=True)
class Duration:
    """A time limit such as `10 working days` or `3 months`."""

    count: int
    unit: str  # one of DURATION_UNITS

    def __post_init__(self) -> None:
        if self.unit not in DURATION_UNITS:
            raise ValueError(f"unknown duration unit {self.unit!r}")
        if self.count < 0:
            raise ValueError(f"a duration cannot be negative ({self.count})")

    def words(self) -> str:
        """The duration as written in an agreement: "10 working days", "1 month"."""
        singular, plural = _UNIT_WORDS[self.unit]
        return f"{self.count} {singular if self.count == 1 else plural}"


def parse_duration(text: str) -> Duration | None:
    """A Duration from text such as "10 working days" or "1 month"; None when not one."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    unit = " ".join(match[2].split()).replace(" ", "_")
    return Duration(int(match[1]), unit if unit.endswith("s") else unit + "s")


def add_duration(day: date, duration: Duration) -> date:
    """The deadline "within `duration` of `day`" (LANGUAGE.md §2).

    Working days: the Nth working day after `day`. Days and weeks: that many calendar days
    after it, wherever they land. Months: the same day of the month N months later, or that
    month's last day when it is shorter (31 March + 3 months = 30 June).
    """
    if duration.unit == "working_days":
        return add_working_days(day, duration.count)
    if duration.unit == "days":
        return day + timedelta(days=duration.count)
    if duration.unit == "weeks":
        return day + timedelta(weeks=duration.count)
    return add_months(day, duration.count)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier), clamped to that month's end."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


@lru_cache(maxsize=512)
def bank_holidays(year: int) -> frozenset[date]:
    """The bank holidays in England in `year` that fall on a weekday.

    Includes substitute days and one-off holidays (jubilees, coronation, state funeral). A
    holiday whose own date is a Saturday or Sunday is left out: its substitute day is the
    bank holiday, as on the official GOV.UK list.
    """
    import holidays  # deferred: loading the holiday tables is slow and rarely needed

    # Ask for the neighbouring years too, in case a substitute day crosses the new year.
    years = range(max(year - 1, 1), min(year + 1, 9999) + 1)
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=years)
    return frozenset(day for day in calendar if day.year == year and day.weekday() < 5)


def is_working_day(day: date) -> bool:
    """True for Monday to Friday, except bank holidays in England."""
    return day.weekday() < 5 and day not in bank_holidays(day.year)


@lru_cache(maxsize=512)
def _working_ordinals(year: int) -> tuple[int, ...]:
    """The ordinals (`date.toordinal`) of every working day in `year`, in order."""
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    closed = {day.toordinal() for day in bank_holidays(year)}
    # Ordinal 1 (1 January 0001) was a Monday, so ordinal % 7 is 1..5 on weekdays.
    return tuple(o for o in range(first, last + 1) if 1 <= o % 7 <= 5 and o not in closed)


def add_working_days(day: date, n: int) -> date:
    """The Nth working day after `day` (n > 0), before it (n < 0), or `day` itself (n = 0)."""
    if n == 0:
        return day
    year = day.year
    ordinals = _working_ordinals(year)
    if n > 0:
        index = bisect_right(ordinals, day.toordinal()) + n - 1
        while index >= len(ordinals):
            index -= len(ordinals)
            year += 1
            ordinals = _working_ordinals(year)
    else:
        index = bisect_left(ordinals, day.toordinal()) + n
        while index < 0:
            year -= 1
            ordinals = _working_ordinals(year)
            index += len(ordinals)
    return date.fromordinal(ordinals[index])


def working_days_between(start: date, end: date) -> int:
    """How many working days fall after `start` and on or before `end` (0 when end <= start)."""
    count = 0
    for year in range(start.year, end.year + 1):
        ordinals = _working_ordinals(year)
        low = bisect_right(ordinals, start.toordinal())
        high = bisect_right(ordinals, end.toordinal())
        count += max(0, high - low)
    return count
