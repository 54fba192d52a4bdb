"""Financial years, periods, durations and working days (LANGUAGE.md §2, §6, §7)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agreementdsl.calendar import (
    Duration,
    FinancialYear,
    add_duration,
    add_months,
    add_working_days,
    bank_holidays,
    financial_year,
    is_working_day,
    parse_duration,
    parse_month_day,
    parse_period_label,
    parse_year_label,
    working_days_between,
    year_containing,
)

FY2005 = FinancialYear(2005)


# --- Year labels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start_year"),
    [("2005/06", 2005), ("1999/00", 1999), ("2099/00", 2099), ("2000/01", 2000)],
)
def test_a_year_label_names_its_start_year(text: str, start_year: int) -> None:
    assert parse_year_label(text) == start_year


@pytest.mark.parametrize(
    "text",
    ["2005/07", "2005-06", "05/06", "2005/6", "2005/06 ", "1999/99", "2005/2006", "", "abcd/ef"],
)
def test_a_label_whose_second_year_does_not_follow_the_first_is_not_a_year(text: str) -> None:
    assert parse_year_label(text) is None


@pytest.mark.parametrize(("start_year", "label"), [(2005, "2005/06"), (1999, "1999/00")])
def test_a_year_prints_as_its_label(start_year: int, label: str) -> None:
    assert FinancialYear(start_year).label == label


def test_a_label_gives_back_the_year() -> None:
    assert financial_year("2006/07") == FinancialYear(2006)
    assert financial_year("2006/08") is None


@pytest.mark.parametrize(
    ("text", "period"),
    [("2006/07", (2006, None)), ("2006/07 Q1", (2006, 1)), ("2006/07 Q4", (2006, 4))],
)
def test_a_measurement_period_is_a_year_or_one_of_its_quarters(
    text: str, period: tuple[int, int | None]
) -> None:
    assert parse_period_label(text) == period


@pytest.mark.parametrize("text", ["2006/07 Q5", "2006/08 Q1", "Q1 2006/07"])
def test_a_bad_measurement_period_is_refused(text: str) -> None:
    assert parse_period_label(text) is None


# --- Financial year start --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"), [("04-01", (4, 1)), ("01-01", (1, 1)), ("12-31", (12, 31))]
)
def test_a_year_start_is_month_and_day(text: str, parsed: tuple[int, int]) -> None:
    assert parse_month_day(text) == parsed


@pytest.mark.parametrize("text", ["13-01", "02-30", "02-29", "04-31", "00-10", "4-1", "04/01", ""])
def test_a_year_cannot_start_on_a_day_that_does_not_exist_every_year(text: str) -> None:
    assert parse_month_day(text) is None


def test_a_year_refuses_an_impossible_start() -> None:
    with pytest.raises(ValueError):
        FinancialYear(2005, 2, 29)


# --- Days and periods of a year --------------------------------------------------------------


def test_a_uk_public_sector_year_runs_1_april_to_31_march() -> None:
    assert FY2005.first_day == date(2005, 4, 1)
    assert FY2005.last_day == date(2006, 3, 31)


def test_a_year_ends_the_day_before_the_next_begins_even_across_29_february() -> None:
    assert FinancialYear(2023, 3, 1).last_day == date(2024, 2, 29)
    assert FinancialYear(2023, 3, 1).next().first_day == date(2024, 3, 1)


def test_a_year_contains_its_first_and_last_days_only() -> None:
    assert FY2005.contains(date(2005, 4, 1))
    assert FY2005.contains(date(2006, 3, 31))
    assert not FY2005.contains(date(2005, 3, 31))
    assert not FY2005.contains(date(2006, 4, 1))


def test_month_ends_are_the_last_days_of_april_to_march() -> None:
    assert FY2005.month_ends() == [
        date(2005, 4, 30),
        date(2005, 5, 31),
        date(2005, 6, 30),
        date(2005, 7, 31),
        date(2005, 8, 31),
        date(2005, 9, 30),
        date(2005, 10, 31),
        date(2005, 11, 30),
        date(2005, 12, 31),
        date(2006, 1, 31),
        date(2006, 2, 28),
        date(2006, 3, 31),
    ]


def test_february_ends_on_the_29th_in_a_leap_year() -> None:
    assert date(2008, 2, 29) in FinancialYear(2007).month_ends()


def test_quarters_end_in_june_september_december_and_march() -> None:
    assert FY2005.quarter_ends() == [
        date(2005, 6, 30),
        date(2005, 9, 30),
        date(2005, 12, 31),
        date(2006, 3, 31),
    ]


def test_a_calendar_year_has_calendar_quarters() -> None:
    assert FinancialYear(2005, 1, 1).quarter_ends() == [
        date(2005, 3, 31),
        date(2005, 6, 30),
        date(2005, 9, 30),
        date(2005, 12, 31),
    ]


def test_a_year_starting_mid_month_has_months_ending_the_day_before_the_start_day() -> None:
    ends = FinancialYear(2005, 4, 6).month_ends()
    assert ends[0] == date(2005, 5, 5)
    assert ends[-1] == date(2006, 4, 5)
    assert len(ends) == 12


def test_a_month_too_short_for_the_start_day_starts_on_its_last_day() -> None:
    ends = FinancialYear(2005, 1, 31).month_ends()
    assert ends[:3] == [date(2005, 2, 27), date(2005, 3, 30), date(2005, 4, 29)]
    assert ends[-1] == date(2006, 1, 30)


def test_period_ends_follow_the_reporting_cadence() -> None:
    assert FY2005.period_ends("monthly") == FY2005.month_ends()
    assert FY2005.period_ends("quarterly") == FY2005.quarter_ends()
    assert FY2005.period_ends("annual") == [date(2006, 3, 31)]


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2005, 4, 1), 1),
        (date(2005, 6, 30), 1),
        (date(2005, 7, 1), 2),
        (date(2005, 12, 31), 3),
        (date(2006, 1, 1), 4),
        (date(2006, 3, 31), 4),
    ],
)
def test_quarter_of_a_day(day: date, quarter: int) -> None:
    assert FY2005.quarter_of(day) == quarter


def test_a_day_outside_the_year_has_no_quarter_in_it() -> None:
    with pytest.raises(ValueError):
        FY2005.quarter_of(date(2006, 4, 1))


@pytest.mark.parametrize(
    ("day", "months"),
    [
        (date(2005, 3, 31), 0),
        (date(2005, 4, 1), 0),
        (date(2005, 4, 29), 0),
        (date(2005, 4, 30), 1),
        (date(2005, 5, 1), 1),
        (date(2006, 3, 30), 11),
        (date(2006, 3, 31), 12),
        (date(2007, 1, 1), 12),
    ],
)
def test_months_elapsed_counts_month_ends_on_or_before_the_day(day: date, months: int) -> None:
    assert FY2005.months_elapsed(day) == months


def test_years_follow_one_another() -> None:
    assert FY2005.next() == FinancialYear(2006)
    assert FY2005.previous() == FinancialYear(2004)
    assert FinancialYear(2005, 1, 1).next() == FinancialYear(2006, 1, 1)
    assert FinancialYear(2004) < FY2005 < FinancialYear(2006)


@pytest.mark.parametrize(
    ("day", "start_year"),
    [
        (date(2005, 4, 1), 2005),
        (date(2006, 3, 31), 2005),
        (date(2005, 3, 31), 2004),
        (date(2006, 1, 15), 2005),
    ],
)
def test_year_containing_a_day(day: date, start_year: int) -> None:
    assert year_containing(day) == FinancialYear(start_year)


def test_year_containing_respects_the_agreements_year_start() -> None:
    assert year_containing(date(2005, 4, 5), 4, 6) == FinancialYear(2004, 4, 6)
    assert year_containing(date(2005, 4, 6), 4, 6) == FinancialYear(2005, 4, 6)
    assert year_containing(date(2005, 1, 1), 1, 1) == FinancialYear(2005, 1, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_the_year_containing_a_day_contains_it(day: date) -> None:
    assert year_containing(day).contains(day)
    assert year_containing(day, 7, 15).contains(day)


# --- Durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (Duration(10, "working_days"), "10 working days"),
        (Duration(1, "working_days"), "1 working day"),
        (Duration(1, "months"), "1 month"),
        (Duration(3, "months"), "3 months"),
        (Duration(1, "weeks"), "1 week"),
        (Duration(2, "days"), "2 days"),
    ],
)
def test_a_duration_reads_as_written(duration: Duration, words: str) -> None:
    assert duration.words() == words
    assert parse_duration(words) == duration


def test_a_duration_has_a_known_unit() -> None:
    with pytest.raises(ValueError):
        Duration(3, "fortnights")
    assert parse_duration("3 fortnights") is None


@pytest.mark.parametrize(
    ("day", "duration", "deadline"),
    [
        (date(2006, 3, 31), Duration(3, "months"), date(2006, 6, 30)),
        (date(2005, 6, 30), Duration(1, "months"), date(2005, 7, 30)),
        (date(2006, 1, 31), Duration(1, "months"), date(2006, 2, 28)),
        (date(2008, 1, 31), Duration(1, "months"), date(2008, 2, 29)),
        (date(2005, 11, 30), Duration(3, "months"), date(2006, 2, 28)),
        (date(2005, 4, 30), Duration(10, "working_days"), date(2005, 5, 16)),
        (date(2005, 4, 1), Duration(14, "days"), date(2005, 4, 15)),
        (date(2005, 4, 1), Duration(2, "weeks"), date(2005, 4, 15)),
    ],
)
def test_deadlines_within_a_duration(day: date, duration: Duration, deadline: date) -> None:
    assert add_duration(day, duration) == deadline


def test_calendar_day_deadlines_may_land_on_a_weekend() -> None:
    assert add_duration(date(2005, 4, 1), Duration(1, "days")) == date(2005, 4, 2)  # Saturday
    assert add_duration(date(2005, 3, 31), Duration(2, "months")) == date(2005, 5, 31)


def test_add_months_goes_backwards_too() -> None:
    assert add_months(date(2006, 3, 31), -1) == date(2006, 2, 28)
    assert add_months(date(2006, 1, 15), -13) == date(2004, 12, 15)


# --- Working days ----------------------------------------------------------------------------


def test_the_first_finance_report_is_due_on_16_may_2005() -> None:
    # 30 April 2005 was a Saturday and 2 May the Early May bank holiday, so the 10 working days
    # are 3-6, 9-13 and 16 May (LANGUAGE.md §11).
    assert not is_working_day(date(2005, 5, 2))
    assert add_working_days(date(2005, 4, 30), 10) == date(2005, 5, 16)


def test_working_days_skip_the_weekend() -> None:
    friday = date(2005, 6, 10)
    assert add_working_days(friday, 1) == date(2005, 6, 13)
    assert add_working_days(date(2005, 6, 11), 1) == date(2005, 6, 13)  # from a Saturday


def test_working_days_skip_easter() -> None:
    # Good Friday 25 March and Easter Monday 28 March 2005.
    assert add_working_days(date(2005, 3, 24), 1) == date(2005, 3, 29)


def test_working_days_skip_christmas_and_new_year() -> None:
    # 2005: Christmas Day fell on a Sunday (substitute Tuesday 27th); 2 January 2006 was the
    # New Year substitute.
    assert add_working_days(date(2005, 12, 23), 1) == date(2005, 12, 28)
    assert add_working_days(date(2005, 12, 30), 1) == date(2006, 1, 3)


def test_working_days_count_backwards_and_zero_is_the_day_itself() -> None:
    assert add_working_days(date(2005, 5, 16), -10) == date(2005, 4, 29)
    assert add_working_days(date(2005, 1, 4), -1) == date(2004, 12, 31)
    assert add_working_days(date(2005, 4, 30), 0) == date(2005, 4, 30)


def test_many_working_days_cross_years() -> None:
    assert add_working_days(date(2005, 4, 30), 253) == add_working_days(
        add_working_days(date(2005, 4, 30), 100), 153
    )


@pytest.mark.parametrize(
    "holiday",
    [
        date(1999, 12, 31),  # Millennium
        date(2010, 12, 27),  # Christmas Day (substitute)
        date(2010, 12, 28),  # Boxing Day (substitute)
        date(2021, 12, 27),
        date(2021, 12, 28),
        date(2012, 6, 4),  # Spring bank holiday, moved for the Diamond Jubilee
        date(2012, 6, 5),  # Diamond Jubilee
        date(2020, 5, 8),  # Early May bank holiday moved to VE Day
        date(2022, 9, 19),  # State funeral of Queen Elizabeth II
        date(2023, 5, 8),  # Coronation of King Charles III
        date(2005, 5, 2),  # Early May bank holiday
        date(2005, 3, 25),  # Good Friday
        date(2005, 3, 28),  # Easter Monday
    ],
)
def test_bank_holidays_in_england(holiday: date) -> None:
    assert holiday in bank_holidays(holiday.year)
    assert not is_working_day(holiday)


@pytest.mark.parametrize(
    "ordinary_day",
    [date(2020, 5, 4), date(2012, 5, 28), date(2005, 4, 29), date(2022, 9, 20)],
)
def test_days_that_were_not_bank_holidays(ordinary_day: date) -> None:
    # The bank holidays moved in 2012 and 2020 leave their usual Mondays as working days.
    assert is_working_day(ordinary_day)


def test_only_english_bank_holidays_count() -> None:
    assert is_working_day(date(2005, 1, 4))  # a bank holiday in Scotland only
    assert is_working_day(date(2005, 3, 17))  # St Patrick's Day: Northern Ireland only


def test_a_holiday_on_a_weekend_is_replaced_by_its_substitute_day() -> None:
    holidays_2021 = bank_holidays(2021)
    assert date(2021, 12, 25) not in holidays_2021  # a Saturday
    assert all(day.weekday() < 5 for day in holidays_2021)
    assert len(holidays_2021) == 8


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
    st.integers(min_value=1, max_value=300),
)
def test_add_working_days_lands_on_the_nth_working_day_after(day: date, n: int) -> None:
    result = add_working_days(day, n)
    assert result > day
    assert is_working_day(result)
    between = [day + timedelta(days=k) for k in range(1, (result - day).days + 1)]
    assert sum(is_working_day(d) for d in between) == n
    assert working_days_between(day, result) == n


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)),
    st.integers(min_value=1, max_value=300),
)
def test_counting_back_undoes_counting_forward_from_a_working_day(day: date, n: int) -> None:
    start = add_working_days(day, 1)
    assert add_working_days(add_working_days(start, n), -n) == start
