"""An agreement that commences part-way through a financial year runs its first period as that
period, and one that expires before the year's last day ends its last period there.

Durham commences on 1 September 2003: its 2003/04 contributions (£19,482,500) are for the seven
months from 1 September 2003 to 31 March 2004, as its schedule says. Every figure below is worked
by hand from the ledger in the test.
"""

from __future__ import annotations

import io
import json
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agreementdsl.calendar import FinancialYear
from agreementdsl.engine.exit import exit_json, exit_settlement
from agreementdsl.engine.run import run_ledger
from agreementdsl.engine.term import Term, agreement_term
from agreementdsl.engine.years import run_years
from agreementdsl.report.warning import early_warnings
from engine_support import compile_file, compile_text, pool_of, result_json, run_json

ROOT = Path(__file__).resolve().parents[1]
DURHAM_FILE = ROOT / "agreements" / "durham-ld.yaml"
DURHAM = DURHAM_FILE.read_text("utf-8")
POOL = "learning-disabilities"
HEADER = ["date", "pool", "element", "kind", "amount", "partner", "approved_by", "in_plan"]
BOARD = "executives;board"

# A spend booked in August, before the agreement commenced, then seven figures of September
# and October. Net to 31 October: £1,200,000 + £400,000 + £1,723,456.79 = £3,323,456.79.
ROWS = [
    ["2003-08-20", POOL, "council-care", "spend", "50000.00", "", BOARD, ""],
    ["2003-09-15", POOL, "council-care", "spend", "1200000.00", "", BOARD, ""],
    ["2003-09-30", POOL, "health-teams", "spend", "400000.00", "", BOARD, ""],
    ["2003-10-31", POOL, "nhs-placements", "spend", "1723456.79", "", BOARD, ""],
]
AS_OF = date(2003, 11, 15)


def _durham(**changes: str) -> dict[str, Any]:
    text = DURHAM
    for old, new in changes.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return compile_text(text, "durham-ld.yaml")


def _run(tmp_path: Path, rows: list[list[str]] = ROWS, as_of: date = AS_OF) -> dict[str, Any]:
    return run_json(compile_file(DURHAM_FILE), tmp_path, rows, as_of, HEADER)


# ---------------------------------------------------------------- the term
def test_durhams_first_period_is_seven_months_from_commencement() -> None:
    term = agreement_term({"commencement": "2003-09-01", "expiry": "2006-03-31"}, _fy(2003))
    assert (term.first_day, term.last_day, term.length) == (
        date(2003, 9, 1),
        date(2004, 3, 31),
        7,
    )
    assert term.words() == "the period from 1 September 2003 to 31 March 2004"
    assert [m.last for m in term.months][:2] == [date(2003, 9, 30), date(2003, 10, 31)]
    # the later years of the agreement are whole years
    later = agreement_term({"commencement": "2003-09-01", "expiry": "2006-03-31"}, _fy(2004))
    assert later == Term.whole(_fy(2004)) and later.is_whole_year
    # a year the agreement never reaches is run as a whole year, as before
    assert agreement_term({"commencement": "2003-09-01", "expiry": None}, _fy(2002)).is_whole_year


def test_a_month_covered_in_part_counts_by_its_days() -> None:
    # commencing 16 September: 15 of September's 30 days, half a month; 6½ months in all
    term = agreement_term({"commencement": "2003-09-16", "expiry": None}, _fy(2003))
    assert term.months[0].weight == Fraction(1, 2)
    assert term.length == Fraction(13, 2)
    assert term.months_elapsed(date(2003, 10, 31)) == Fraction(3, 2)


def _fy(start: int) -> FinancialYear:
    return FinancialYear(start)


# ---------------------------------------------------------------- position
def test_the_run_rate_is_of_the_seven_months(tmp_path: Path) -> None:
    pool = pool_of(_run(tmp_path), POOL)
    # contributions £14,350,000 + £1,015,000 + £828,000 + £962,500 + £1,213,000 + £1,114,000
    assert pool["budget"] == "19482500.00"
    # actual: from 1 September; the August spend is not the pool's
    assert pool["actual"] == "3323456.79"
    # run-rate at 31 October, the last month end: £3,323,456.79 × 7 ÷ 2 (September and October)
    # = £11,632,098.765, half away from zero £11,632,098.77. (Counted from April it would have
    # been × 12 ÷ 7 = £5,697,354.50, the spend diluted over five months before the pool existed.)
    assert pool["forecast"] == "11632098.77"
    # underspend £19,482,500 − £11,632,098.77; 1% of the pool (£194,825) carried forward
    assert pool["variance"] == {"kind": "underspend", "amount": "7850401.23"}
    assert pool["settlement"]["carried_forward"] == "194825.00"
    shares = [Fraction(v) for v in pool["settlement"]["shares"].values()]
    assert sum(shares) == Fraction("7850401.23") - Fraction("194825.00")


def test_the_months_are_listed_from_the_first_month_of_the_term(tmp_path: Path) -> None:
    pool = pool_of(_run(tmp_path), POOL)
    assert pool["months"] == [
        {"month": "2003-09", "to": "2003-09-30", "net": "1600000.00"},
        {"month": "2003-10", "to": "2003-10-31", "net": "1723456.79"},
        # the month of the as-of date runs to it (it said the month's last day: a user)
        {"month": "2003-11", "to": "2003-11-15", "net": "0.00"},
    ]
    assert pool["elements"][0] == {
        "element": "council-care",
        "budget": "9860000.00",
        "actual": "1200000.00",
    }


def test_a_spend_before_commencement_is_warned_counted_and_left_out(tmp_path: Path) -> None:
    data = _run(tmp_path)
    assert data["rows"] == {"read": 4, "used": 4, "rejected": 0}
    warning = next(w for w in data["warnings"] if w.startswith("R030"))
    assert warning == (
        "R030 pool `learning-disabilities`: net expenditure of £50,000.00 on 2003-08-20 dated "
        "before the agreement commenced on 2003-09-01: left out of its figures for 2003/04, which "
        "are of the period from 1 September 2003 to 31 March 2004 (the rows are counted as used; "
        "correct their dates, or book them outside the pool)"
    )


def test_a_forecast_row_before_commencement_is_not_the_periods_forecast(tmp_path: Path) -> None:
    rows = [*ROWS, ["2003-08-29", POOL, "", "forecast", "25000000.00", "", "", ""]]
    data = _run(tmp_path, rows)
    assert pool_of(data, POOL)["forecast"] == "11632098.77"
    assert any("1 forecast row (row 6) dated before" in w for w in data["warnings"])


# ---------------------------------------------------------------- reports
def test_reports_fall_due_for_the_periods_of_the_term_only(tmp_path: Path) -> None:
    reports = pool_of(_run(tmp_path), POOL)["reports"]
    due = [(r["report"], r["period_end"], r["due"], r["to"]) for r in reports]
    monthly = [(p, d) for r, p, d, to in due if r == "finance report" and to == "board"]
    # 10 working days after each month end from September: 1 January 2004 and 9 and 12 April
    # 2004 (Good Friday, Easter Monday) are bank holidays
    assert monthly == [
        ("2003-09-30", "2003-10-14"),
        ("2003-10-31", "2003-11-14"),
        ("2003-11-30", "2003-12-12"),
        ("2003-12-31", "2004-01-15"),
        ("2004-01-31", "2004-02-13"),
        ("2004-02-29", "2004-03-12"),
        ("2004-03-31", "2004-04-16"),
    ]
    # quarters ending 30 September (its September), 31 December and 31 March, within 1 month
    # the quarterly finance report to the partners (regulation 7), 20 working days on
    quarterly = [(p, d) for r, p, d, to in due if r == "finance report" and to == "partners"]
    assert [p for p, _ in quarterly] == ["2003-09-30", "2003-12-31", "2004-03-31"]
    assert [(p, d) for r, p, d, _ in due if r == "performance report"] == [
        ("2003-09-30", "2003-10-30"),
        ("2003-12-31", "2004-01-31"),
        ("2004-03-31", "2004-04-30"),
    ]
    assert [(p, d) for r, p, d, _ in due if r == "annual return"] == [("2004-03-31", "2004-06-30")]
    assert not [r for r in reports if r["triggered"]]


def test_an_overspend_trigger_is_tested_against_the_terms_run_rate(tmp_path: Path) -> None:
    # £2,800,000 in September alone: × 7 ÷ 1 = £19,600,000, over the £19,482,500 budget by
    # £117,500, which does not exceed 1% (£194,825); £2,900,000 would: £20,300,000, over by
    # £817,500, so the exception report is raised at 30 September, due 5 working days later.
    rows = [["2003-09-30", POOL, "council-care", "spend", "2900000.00", "", BOARD, ""]]
    data = _run(tmp_path, rows, date(2003, 10, 1))
    pool = pool_of(data, POOL)
    assert pool["forecast"] == "20300000.00"
    raised = [r for r in pool["reports"] if r["triggered"]]
    assert [(r["report"], r["period_end"], r["due"]) for r in raised] == [
        ("exception report", "2003-09-30", "2003-10-07")
    ]


def test_the_early_warning_projects_over_the_terms_months(tmp_path: Path) -> None:
    # £2,500,000 in September: × 7 = £17,500,000, inside the budget. At that rate, month by
    # month, spending ends at £17,500,000: no trigger fires in the period
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        ",".join(HEADER) + f"\n2003-09-30,{POOL},council-care,spend,2500000.00,,{BOARD},\n",
        "utf-8",
    )
    result = run_ledger(compile_file(DURHAM_FILE), ledger, as_of=date(2003, 10, 5))
    try:
        warnings = early_warnings(result, result.pools[0])
    finally:
        result.close()
    assert [w.note for w in warnings] == ["at the current run-rate it does not fire this year"] * 2
    # £2,850,000 a month would be over by £467,500 (more than 1%) from the first month end on
    ledger.write_text(
        ",".join(HEADER) + f"\n2003-09-30,{POOL},council-care,spend,2850000.00,,{BOARD},\n",
        "utf-8",
    )
    result = run_ledger(compile_file(DURHAM_FILE), ledger, as_of=date(2003, 10, 5))
    try:
        warnings = early_warnings(result, result.pools[0])
    finally:
        result.close()
    assert [r.period_end for r in warnings[0].raised] == [date(2003, 9, 30)]


# ---------------------------------------------------------------- payments
def test_instalments_fall_due_over_the_terms_quarters_by_their_months(tmp_path: Path) -> None:
    # Quarterly (the default), within 30 days: 1 September (the quarter's one month of the term,
    # 1/7), 1 October and 1 January (three months each, 3/7).
    # dcc £14,350,000: £2,050,000, £6,150,000, £6,150,000; it paid the first in advance, on 28
    # August, and the second on 1 October.
    # Durham Dales £828,000: £118,285.714… and twice £354,857.142…; in pence the first takes the
    # penny left over (the largest remainder, 3/7 against 2/7): £118,285.72, £354,857.14 twice.
    contributions = [
        ["2003-08-28", POOL, "", "contribution", "2050000.00", "dcc", "", ""],
        ["2003-10-01", POOL, "", "contribution", "6150000.00", "dcc", "", ""],
        ["2003-09-10", POOL, "", "contribution", "118285.72", "durham-dales-pct", "", ""],
    ]
    pool = pool_of(_run(tmp_path, ROWS + contributions), POOL)
    paid = {p["partner"]: p for p in pool["contributions"]}
    assert (paid["dcc"]["due_to_date"], paid["dcc"]["shortfall"], paid["dcc"]["late"]) == (
        "8200000.00",
        "0.00",
        [],
    )
    dales = paid["durham-dales-pct"]
    assert (dales["due"], dales["due_to_date"], dales["received"], dales["shortfall"]) == (
        "828000.00",
        "473142.86",
        "118285.72",
        "354857.14",
    )
    # 1 October + 30 days = 31 October; unpaid on 15 November: 15 days late
    assert dales["late"] == [
        {
            "due_on": "2003-10-01",
            "amount": "354857.14",
            "paid_on": None,
            "days_late": 15,
            "paid": "0.00",
            "paid_in_time": "0.00",
            "outstanding": "354857.14",
            "last_paid_on": None,
        }
    ]
    # Sedgefield £1,015,000 ÷ 7 = £145,000 a month: £145,000 + £435,000 due by 15 November
    assert paid["sedgefield-pct"]["due_to_date"] == "580000.00"


def test_monthly_instalments_are_seven(tmp_path: Path) -> None:
    ir = _durham(
        **{
            "  termination: { notice: 12 months }\n": "  termination: { notice: 12 months }\n"
            "  payments: { cadence: monthly, within: 30 days }\n"
        }
    )
    rows = [["2003-09-01", POOL, "", "contribution", "2050000.00", "dcc", "", ""]]
    pool = pool_of(run_json(ir, tmp_path, rows, date(2003, 10, 1), HEADER), POOL)
    dcc = next(p for p in pool["contributions"] if p["partner"] == "dcc")
    # £14,350,000 ÷ 7 = £2,050,000 on 1 September and on 1 October
    assert (dcc["due_to_date"], dcc["shortfall"]) == ("4100000.00", "2050000.00")


# ---------------------------------------------------------------- the last period
def test_an_expiry_before_31_march_ends_the_last_period_there(tmp_path: Path) -> None:
    ir = _durham(**{"  expiry: 2006-03-31\n": "  expiry: 2006-01-31\n"})
    rows = [
        ["2005-04-30", POOL, "council-care", "spend", "3000000.00", "", BOARD, ""],
        ["2006-02-15", POOL, "council-care", "spend", "100.00", "", BOARD, ""],
    ]
    data = run_json(ir, tmp_path, rows, date(2005, 5, 31), HEADER)
    pool = pool_of(data, POOL)
    # ten months, April to January: £3,000,000 × 10 ÷ 2 = £15,000,000
    assert pool["forecast"] == "15000000.00"
    ends = [r["period_end"] for r in pool["reports"] if r["report"] == "performance report"]
    assert ends == ["2005-06-30", "2005-09-30", "2005-12-31", "2006-01-31"]
    monthly = [
        r["period_end"]
        for r in pool["reports"]
        if r["report"] == "finance report" and r["to"] == "board"
    ]
    assert (len(monthly), monthly[-1]) == (10, "2006-01-31")
    annual = [r for r in pool["reports"] if r["report"] == "annual return"]
    assert [(r["period_end"], r["due"]) for r in annual] == [("2006-01-31", "2006-04-30")]
    assert any(
        "£100.00 on 2006-02-15 dated after it expired on 2006-01-31" in w for w in data["warnings"]
    )
    # at the expiry the period has ended: the variance is of the actual
    after = pool_of(run_json(ir, tmp_path, rows, date(2006, 1, 31), HEADER), POOL)
    assert (after["actual"], after["forecast"]) == ("3000000.00", "3000000.00")
    assert after["variance"]["amount"] == "31338340.00"  # £34,338,340 − £3,000,000


def test_a_profile_is_rescaled_to_the_term(tmp_path: Path) -> None:
    # 35% in September and 35% in October of a year's 100%: over Durham's seven months that is
    # 50% by 30 September. £2,000,000 spent in September forecasts £2,000,000 ÷ 50% = £4,000,000.
    ir = _durham(
        **{
            "    host: dcc\n": "    host: dcc\n    forecast:\n      method: profile\n"
            "      profile: { apr: 30%, sep: 35%, oct: 35% }\n"
        }
    )
    rows = [["2003-09-30", POOL, "council-care", "spend", "2000000.00", "", BOARD, ""]]
    pool = pool_of(run_json(ir, tmp_path, rows, date(2003, 10, 5), HEADER), POOL)
    assert pool["forecast"] == "4000000.00"


# ---------------------------------------------------------------- exit, --years
def test_exit_in_the_first_period_takes_the_budget_to_date_of_the_period(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    rows = [*ROWS, ["2003-08-29", POOL, "", "forecast", "25000000.00", "", "", ""]]
    ledger.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n", "utf-8"
    )
    result = exit_settlement(compile_file(DURHAM_FILE), ledger, date(2003, 12, 31), explain=True)
    try:
        data = exit_json(result)
    finally:
        result.close()
    # the rows before commencement are named on exit too (forecast rows among them)
    assert any(w.startswith("R030") and "£50,000.00" in w for w in data["warnings"])
    pool = data["pools"][0]
    # £19,482,500 × 122 ÷ 213 days (1 September 2003 to 31 March 2004; 122 to 31 December)
    # = £11,158,990.6103…, half up £11,158,990.61
    assert (pool["budget_to_date"], pool["actual"]) == ("11158990.61", "3323456.79")
    assert pool["balance"] == {"kind": "underspend", "amount": "7835533.82"}
    steps = [w["step"] for w in pool["explain"]]
    assert (
        "budget to 2003-12-31: £19,482,500.00 × 122/213 days of the period from 1 September "
        "2003 to 31 March 2004" in steps
    )


def test_run_years_runs_the_first_period_then_whole_years(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    rows = [*ROWS, ["2004-04-30", POOL, "council-care", "spend", "100.00", "", BOARD, ""]]
    ledger.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n", "utf-8"
    )
    found = run_years(compile_file(DURHAM_FILE), ledger, "2003/04..2004/05")
    try:
        first, second = (r.pools[0] for r in found.runs)
        assert (first.period.first_day, second.period.first_day) == (
            date(2003, 9, 1),
            date(2004, 4, 1),
        )
        assert first.months[0]["month"] == "2003-09" and second.months[0]["month"] == "2004-04"
        # the first period has ended: its underspend is of the actual, £19,482,500 − £3,323,456.79
        assert (first.variance_kind, first.variance) == ("underspend", 1615904321)
    finally:
        found.close()


# ---------------------------------------------------------------- DuckDB
def test_duckdb_gives_the_same_first_period(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in ROWS) + "\n", "utf-8"
    )
    ir = compile_file(DURHAM_FILE)
    reference = result_json(run_ledger(ir, ledger, as_of=AS_OF, engine="reference"))
    duck = result_json(run_ledger(ir, ledger, as_of=AS_OF, engine="duckdb"))
    assert json.dumps(duck) == json.dumps(reference)
    assert pool_of(duck, POOL)["forecast"] == "11632098.77"


# ---------------------------------------------------------------- report
def test_the_report_pages_budget_line_runs_over_the_periods_months() -> None:
    from agreementdsl.report.figures import budget_profile

    ir = compile_file(DURHAM_FILE)
    term = agreement_term(ir["agreement"], _fy(2003))
    planned, profiled = budget_profile(ir["pools"][0], "2003/04", 1_948_250_000, term)
    # £19,482,500 ÷ 7 = £2,783,214.2857… a month: £2,783,214.29 by 30 September
    assert (len(planned), planned[0], planned[-1], profiled) == (
        7,
        278_321_429,
        1_948_250_000,
        False,
    )


# ---------------------------------------------------------------- outcomes
def test_no_measurement_is_missing_for_a_quarter_before_commencement(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in ROWS) + "\n", "utf-8"
    )
    measures = tmp_path / "measures.csv"
    measures.write_text("outcome,period,value\nld-single-coordinator,2003/04 Q2,92\n", "utf-8")
    result = run_ledger(
        compile_file(DURHAM_FILE), ledger, measures=measures, as_of=date(2004, 1, 15)
    )
    outcomes = result_json(result)["outcomes"]
    coordinator = [
        (o["period"], o["status"]) for o in outcomes if o["id"] == "ld-single-coordinator"
    ]
    # April–June 2003 is before the agreement: no Q1; Q2 (its September) measured; Q3 missing
    assert coordinator == [("2003/04 Q2", "met"), ("2003/04 Q3", "missing")]


def test_the_run_names_the_period_its_figures_are_of(tmp_path: Path) -> None:
    from agreementdsl.engine.output import write_text
    from agreementdsl.engine.run import run_ledger

    pool = pool_of(_run(tmp_path), POOL)
    assert pool["period"] == {"from": "2003-09-01", "to": "2004-03-31"}
    ledger = tmp_path / "ledger.csv"  # written by _run
    result = run_ledger(compile_file(DURHAM_FILE), ledger, as_of=AS_OF)
    try:
        text = io.StringIO()
        write_text(result, text)
    finally:
        result.close()
    assert (
        "  the period from 1 September 2003 to 31 March 2004 (this Agreement's part of "
        "financial year 2003/04): the figures are of that period\n"
    ) in text.getvalue()
    # a whole year names no period
    whole = pool_of(
        run_json(compile_file(DURHAM_FILE), tmp_path, ROWS[:0], date(2004, 6, 30), HEADER), POOL
    )
    assert "period" not in whole
