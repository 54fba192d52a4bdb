"""Reporting duties and the forecast (LANGUAGE.md §2, §6, §11).

Bank holidays in England used below, worked from the published calendar:
2005: 2 May, 30 May, 29 Aug, 26 and 27 Dec.  2006: 2 Jan, 14 and 17 Apr, 1 May.
2008: 5 May, 26 May, 25 Aug, 25 and 26 Dec.  2009: 1 Jan, 10 and 13 Apr.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engine_support import compile_file, compile_text, pool_of
from engine_support import run_json as run_rows

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
WATCH = ROOT / "tests" / "data" / "engine" / "watch.yaml"
HEADER = ["date", "pool", "element", "kind", "amount", "approved_by"]


def run_json(
    ir: dict[str, Any],
    tmp_path: Path,
    rows: list[list[str]],
    as_of: date,
    header: list[str] = HEADER,
) -> dict[str, Any]:
    return run_rows(ir, tmp_path, rows, as_of, header)


@pytest.fixture(scope="module")
def watch() -> dict[str, Any]:
    return compile_file(WATCH)


@pytest.fixture(scope="module")
def herefordshire() -> dict[str, Any]:
    return compile_file(HEREFORDSHIRE)


def reports(data: dict[str, Any], pool: str, name: str | None = None) -> list[tuple[str, ...]]:
    return [
        (r["report"], r["period_end"], r["due"])
        for r in pool_of(data, pool)["reports"]
        if name is None or r["report"] == name
    ]


def forecast(pool: str, day: str, amount: str) -> list[str]:
    return [day, pool, "", "forecast", amount, ""]


def spend(pool: str, day: str, amount: str) -> list[str]:
    return [day, pool, "", "spend", amount, "board"]


# ---------------------------------------------------------------- Herefordshire (§11 example)
def test_herefordshire_due_dates(herefordshire: dict[str, Any], tmp_path: Path) -> None:
    data = run_json(
        herefordshire,
        tmp_path,
        [["2005-04-05", "mental-health", "council", "spend", "1.00", "board"]],
        date(2005, 4, 5),
    )
    mh = reports(data, "mental-health")
    # 30 April 2005 is a Saturday; 2 May is a bank holiday. Ten working days after 30 April:
    # 3, 4, 5, 6, 9, 10, 11, 12, 13, 16 May → 16 May 2005 (§11's example).
    assert ("finance report", "2005-04-30", "2005-05-16") in mh
    # 31 December 2005 (Sat): 2 January 2006 is a bank holiday; 3–6 Jan (4), 9–13 (9), 16 (10).
    assert ("finance report", "2005-12-31", "2006-01-16") in mh
    # 31 March 2006 (Fri): 3–7 Apr (5), 10–13 (9), 14 and 17 Apr are Easter, 18 Apr (10).
    assert ("finance report", "2006-03-31", "2006-04-18") in mh
    # quarterly within 1 month: 30 June → 30 July (a Saturday: months are not moved).
    assert ("performance report", "2005-06-30", "2005-07-30") in mh
    assert ("performance report", "2005-12-31", "2006-01-31") in mh
    # annual within 3 months of 31 March → 30 June (June is shorter).
    assert ("annual return", "2006-03-31", "2006-06-30") in mh
    # Every periodic due date of the year, though the as-of date is 5 April 2005.
    assert len(mh) == 12 + 4 + 1
    ld = reports(data, "learning-disabilities")
    # quarterly within 20 working days of 31 March 2006: 3–7 Apr (5), 10–13 (9), 18–21 (13),
    # 24–28 (18), 1 May is a bank holiday, 2 May (19), 3 May (20).
    assert ("finance report", "2006-03-31", "2006-05-03") in ld
    assert len(ld) == 4 + 1


# ---------------------------------------------------------------- every due date, in order
# (report, period_end, due) for pool `watch`, worked by hand, ordered by due date then clause:
#   1 quarterly zeta report within 1 month     3 annual return within 3 months
#   2 monthly alpha report within 1 month      4 quarterly cash report within 10 days
#   5 annual audit letter within 2 weeks       6–8 triggered
WATCH_SCHEDULE = [
    ("underspend note", "2008-04-30", "2008-05-10"),  # 8: see the trigger test; Sat, not moved
    ("alpha report", "2008-04-30", "2008-05-30"),
    ("exception report", "2008-06-10", "2008-06-17"),  # 6: see the trigger test
    ("alpha report", "2008-05-31", "2008-06-30"),
    ("cash report", "2008-06-30", "2008-07-10"),
    ("zeta report", "2008-06-30", "2008-07-30"),  # same due date as alpha: clause 1 first
    ("alpha report", "2008-06-30", "2008-07-30"),
    ("exception report", "2008-08-20", "2008-08-28"),
    ("alpha report", "2008-07-31", "2008-08-31"),
    ("alpha report", "2008-08-31", "2008-09-30"),  # 31 Aug + 1 month: September is shorter
    ("cash report", "2008-09-30", "2008-10-10"),
    ("zeta report", "2008-09-30", "2008-10-30"),
    ("alpha report", "2008-09-30", "2008-10-30"),
    ("alpha report", "2008-10-31", "2008-11-30"),
    ("alpha report", "2008-11-30", "2008-12-30"),
    ("cash report", "2008-12-31", "2009-01-10"),  # a Saturday: calendar days are not moved
    ("zeta report", "2008-12-31", "2009-01-31"),
    ("alpha report", "2008-12-31", "2009-01-31"),
    ("alpha report", "2009-01-31", "2009-02-28"),  # February 2009 has 28 days
    ("alpha report", "2009-02-28", "2009-03-28"),
    ("cash report", "2009-03-31", "2009-04-10"),  # Good Friday: not moved either
    ("audit letter", "2009-03-31", "2009-04-14"),  # 2 weeks = 14 calendar days
    ("zeta report", "2009-03-31", "2009-04-30"),
    ("alpha report", "2009-03-31", "2009-04-30"),
    ("annual return", "2009-03-31", "2009-06-30"),
]

# The forecast rows that drive `watch`'s triggered duties (budget £1,000,000; 2% = £20,000).
WATCH_FORECASTS = [
    # Dated in 2007/08: only forecast rows within the year count, or the exception report would
    # be raised at the first month end.
    forecast("watch", "2008-03-31", "5000000.00"),
    # Exactly 2% over: `exceeds` is strictly greater, so not raised.
    forecast("watch", "2008-05-06", "1020000.00"),
    # One penny above 2%: raised on 10 June (Tue); 5 working days: 11, 12, 13, 16, 17 June.
    forecast("watch", "2008-06-10", "1020000.01"),
    # Back on budget: the trigger stops holding.
    forecast("watch", "2008-07-15", "1000000.00"),
    # Holds again: raised again on 20 August (Wed); 21, 22, (25 Aug bank holiday) 26, 27, 28.
    forecast("watch", "2008-08-20", "1100000.00"),
]


def test_every_due_date_in_order(watch: dict[str, Any], tmp_path: Path) -> None:
    # Triggered duties, as of 30 September 2008:
    # - underspend note (forecast underspend > £100,000): at the first test, 30 April, there is no
    #   forecast row in the year, so the forecast is the run-rate £0 × 12 ÷ 1 = £0, an underspend
    #   of £1,000,000: raised (no previous test), due 10 calendar days later, 10 May.  From 6 May
    #   the forecast rows put the underspend at £0, so it is not raised again.
    # - exception report: raised 10 June and 20 August (see WATCH_FORECASTS).
    # - overspend notice: no spending, never.
    data = run_json(watch, tmp_path, WATCH_FORECASTS, date(2008, 9, 30))
    assert reports(data, "watch") == WATCH_SCHEDULE
    full = pool_of(data, "watch")["reports"]
    assert [r["to"] for r in full[:3]] == ["board", "board", "board"]
    assert [r["triggered"] for r in full[:3]] == [True, False, True]


def test_triggered_duties_only_up_to_the_as_of_date(watch: dict[str, Any], tmp_path: Path) -> None:
    # As of 19 August the second raising (20 August) has not happened; periodic dues all listed.
    data = run_json(watch, tmp_path, WATCH_FORECASTS, date(2008, 8, 19))
    assert reports(data, "watch", "exception report") == [
        ("exception report", "2008-06-10", "2008-06-17")
    ]
    assert len(reports(data, "watch", "alpha report")) == 12


def test_threshold_is_compared_exactly_without_rounding(
    watch: dict[str, Any], tmp_path: Path
) -> None:
    # Pool `exact`: budget £1,234,567.89; 2% of it = £24,691.3578 (not a whole penny).
    # Forecast £1,259,259.24 = budget + £24,691.35: below 2% → not raised.
    # Forecast £1,259,259.25 = budget + £24,691.36: above 2% → raised (a limit rounded to the
    # penny, £24,691.36, would wrongly not be exceeded).
    rows = [
        forecast("exact", "2008-05-06", "1259259.24"),
        forecast("exact", "2008-06-10", "1259259.25"),
    ]
    data = run_json(watch, tmp_path, rows, date(2008, 9, 30))
    assert reports(data, "exact", "exception report") == [
        ("exception report", "2008-06-10", "2008-06-17")
    ]


def test_overspend_trigger_uses_net_expenditure_to_date(
    watch: dict[str, Any], tmp_path: Path
) -> None:
    # `when overspend exceeds £500` compares net expenditure to the test day with the budget.
    # 31 May: £1,000,000 net, overspend £0.  30 June: £1,000,500, overspend exactly £500: not
    # raised.  31 July: £1,000,500.01: raised, period_end 31 July (Thu); 5 working days: 1, 4, 5,
    # 6, 7 August.  (A spend on 20 June is first seen at the 30 June month end.)
    rows = [
        spend("watch", "2008-05-15", "1000000.00"),
        spend("watch", "2008-06-20", "500.00"),
        spend("watch", "2008-07-10", "0.01"),
    ]
    data = run_json(watch, tmp_path, rows, date(2008, 8, 31))
    assert reports(data, "watch", "overspend notice") == [
        ("overspend notice", "2008-07-31", "2008-08-07")
    ]
    notice = next(r for r in pool_of(data, "watch")["reports"] if r["report"] == "overspend notice")
    assert notice["to"] == "partners"
    assert notice["triggered"] is True


def test_a_pool_without_a_budget_lists_periodic_duties_but_raises_nothing(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # Without its 2007/08 contributions mental health has no budget that year, so its forecast
    # trigger cannot hold however much is spent; every periodic duty is still listed.
    line = '      2007/08: { hpct: "prior year + 2.5%", hc: "prior year" }\n'
    text = HEREFORDSHIRE.read_text("utf-8")
    assert text.count(line) == 1
    ir = compile_text(text.replace(line, ""), "herefordshire.yaml")
    rows = [["2007-05-01", "mental-health", "council", "spend", "99000000.00", "board"]]
    data = run_json(ir, tmp_path, rows, date(2008, 3, 31))
    mh = pool_of(data, "mental-health")
    assert (mh["year"], mh["budget"]) == ("2007/08", None)
    assert len(mh["reports"]) == 12 + 4 + 1
    assert not any(r["triggered"] for r in mh["reports"])


def test_working_day_deadlines_across_christmas_and_easter(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # Learning disabilities, 2006/07 (no contributions that year: reports are still given).
    # Bank holidays: 28 Aug, 25 and 26 Dec 2006; 1 Jan, 6 and 9 Apr (Easter), 7 May 2007.
    rows = [["2006-05-01", "learning-disabilities", "council", "spend", "1.00", "board"]]
    data = run_json(herefordshire, tmp_path, rows, date(2006, 5, 1))
    assert [r["due"] for r in pool_of(data, "learning-disabilities")["reports"]] == [
        # 30 June 2006 (Fri) + 20 working days: 3–7 Jul (5) … 24–28 Jul (20) → 28 July.
        "2006-07-28",
        # 30 Sep 2006 (Sat): 2–6 Oct (5) … 23–27 Oct (20) → 27 October.
        "2006-10-27",
        # 31 Dec 2006 (Sun): 1 Jan is a holiday; 2–5 Jan (4), 8–12 (9), 15–19 (14),
        # 22–26 (19), 29 Jan (20).
        "2007-01-29",
        # 31 Mar 2007 (Sat): 2–5 Apr (4), 6 and 9 Apr are Easter, 10–13 (8), 16–20 (13),
        # 23–27 (18), 30 Apr (19), 1 May (20).
        "2007-05-01",
        # annual within 3 months of 31 March 2007.
        "2007-06-30",
    ]


# ---------------------------------------------------------------- the forecast outturn (§6)
def test_forecast_is_the_latest_forecast_row_later_row_winning_a_tie(
    watch: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        forecast("watch", "2008-05-06", "1010000.00"),
        forecast("watch", "2008-06-10", "1030000.00"),
        forecast("watch", "2008-06-10", "1040000.00"),  # same day, later row: wins
        forecast("watch", "2008-07-15", "990000.00"),  # after the as-of date
        forecast("watch", "2009-05-01", "1.00"),  # outside the year
    ]
    data = run_json(watch, tmp_path, rows, date(2008, 6, 30))
    pool = pool_of(data, "watch")
    assert pool["forecast"] == "1040000.00"
    assert pool["variance"] == {"kind": "overspend", "amount": "40000.00"}


def test_forecast_before_the_first_month_end_is_the_budget(
    watch: dict[str, Any], tmp_path: Path
) -> None:
    data = run_json(watch, tmp_path, [spend("watch", "2008-04-10", "999.00")], date(2008, 4, 29))
    pool = pool_of(data, "watch")
    assert (pool["actual"], pool["forecast"]) == ("999.00", "1000000.00")
    assert pool["variance"] == {"kind": "balanced", "amount": "0.00"}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # Net £0.01 to 30 November 2008, 8 months elapsed: 1p × 12 ÷ 8 = 1.5p → 2p (half away
        # from zero).  Net −£0.01 (an income): −1.5p → −2p.
        ("spend", "0.02"),
        ("income", "-0.02"),
    ],
)
def test_run_rate_rounds_half_away_from_zero(
    watch: dict[str, Any], tmp_path: Path, kind: str, expected: str
) -> None:
    rows = [["2008-05-15", "watch", "", kind, "0.01", "board"]]
    # The as-of date is 15 December: the run-rate is taken at the last month end, 30 November.
    data = run_json(watch, tmp_path, rows, date(2008, 12, 15))
    assert pool_of(data, "watch")["forecast"] == expected


def test_run_rate_takes_the_last_month_end(watch: dict[str, Any], tmp_path: Path) -> None:
    # Net to 30 June: £300,000 (three months) → £300,000 × 12 ÷ 3 = £1,200,000.  The spend of
    # 1 July is after that month end and does not count until 31 July.
    rows = [
        spend("watch", "2008-04-15", "100000.00"),
        spend("watch", "2008-06-30", "200000.00"),
        spend("watch", "2008-07-01", "700000.00"),
    ]
    data = run_json(watch, tmp_path, rows, date(2008, 7, 30))
    pool = pool_of(data, "watch")
    assert pool["actual"] == "1000000.00"
    assert pool["forecast"] == "1200000.00"
    assert pool["variance"] == {"kind": "overspend", "amount": "200000.00"}


def test_a_financial_year_starting_in_july(tmp_path: Path) -> None:
    # watch.yaml with `financial_year_start: 07-01`: 2008/09 runs 1 July 2008 – 30 June 2009,
    # its quarters end 30 Sep, 31 Dec, 31 Mar and 30 Jun (§2).
    text = WATCH.read_text("utf-8").replace(
        "  commencement: 2008-04-01\n  expiry: 2009-03-31\n",
        "  commencement: 2008-07-01\n  expiry: 2009-06-30\n  financial_year_start: 07-01\n",
    )
    path = tmp_path / "july.yaml"
    path.write_text(text, encoding="utf-8")
    ir = compile_file(path)
    data = run_json(
        ir, tmp_path, [forecast("watch", "2008-09-30", "1100000.00")], date(2008, 9, 30)
    )
    assert pool_of(data, "watch")["year"] == "2008/09"
    assert reports(data, "watch", "zeta report") == [
        ("zeta report", "2008-09-30", "2008-10-30"),
        ("zeta report", "2008-12-31", "2009-01-31"),
        ("zeta report", "2009-03-31", "2009-04-30"),
        ("zeta report", "2009-06-30", "2009-07-30"),
    ]
    # annual: 30 June 2009 + 3 months = 30 September.
    assert reports(data, "watch", "annual return") == [
        ("annual return", "2009-06-30", "2009-09-30")
    ]
    # Forecast £1,100,000 on 30 Sep (Tue): 10% over, raised; 1, 2, 3, 6, 7 October.
    assert reports(data, "watch", "exception report") == [
        ("exception report", "2008-09-30", "2008-10-07")
    ]
