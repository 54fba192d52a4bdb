"""Early warning: the date a trigger fires at the current run-rate, checked against the engine
itself by running the year through to its end at that run-rate."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agreementdsl.engine.run import run_ledger
from agreementdsl.report.warning import early_warnings, report_status
from engine_support import compile_text, pool_of, result_json

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
# mental health gets a second trigger on net expenditure to date (budget £17,400,000)
WATCHED = TEXT.replace(
    "      when forecast overspend exceeds 2%: exception report to board within 5 working days\n",
    "      when forecast overspend exceeds 2%: exception report to board within 5 working days\n"
    "      when overspend exceeds £100,000: overspend report to board within 5 working days\n",
)
MONTH_ENDS = [
    date(2005, m, 15) if m >= 4 else date(2006, m, 15)
    for m in [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]
]


def _ledger(tmp_path: Path, monthly: str, months: int, extra: list[list[str]] = ()) -> Path:  # type: ignore[assignment]
    path = tmp_path / "ledger.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["date", "pool", "element", "kind", "amount", "approved_by"])
        for day in MONTH_ENDS[:months]:
            writer.writerow(
                [day.isoformat(), "mental-health", "council", "spend", monthly, "executives"]
            )
        writer.writerows(extra)
    return path


def _warnings(ir: dict[str, Any], ledger: Path, as_of: date) -> dict[str, Any]:
    result = run_ledger(ir, ledger, as_of=as_of)
    try:
        pool = next(p for p in result.pools if p.pool["id"] == "mental-health")
        return {w.report: w for w in early_warnings(result, pool)}
    finally:
        result.close()


def test_the_projected_date_is_the_date_the_engine_raises_it_when_the_run_rate_holds(
    tmp_path: Path,
) -> None:
    ir = compile_text(WATCHED, "agreements/herefordshire.yaml")
    # £1,600,000 a month: net to date passes £17,500,000 (budget + £100,000) at the 11th month end
    early = _warnings(ir, _ledger(tmp_path, "1600000.00", 6), date(2005, 9, 30))
    projected = early["overspend report"].projected
    assert projected is not None and projected.period_end == date(2006, 2, 28)
    assert "fires on 2006-02-28" in early["overspend report"].note
    # the engine, given the year that the run-rate projects, raises it on that very day
    full = result_json(run_ledger(ir, _ledger(tmp_path, "1600000.00", 12), as_of=date(2006, 3, 31)))
    raised = [
        r for r in pool_of(full, "mental-health")["reports"] if r["report"] == "overspend report"
    ]
    assert [r["period_end"] for r in raised] == ["2006-02-28"]
    assert projected.due.isoformat() == raised[0]["due"]
    # the forecast trigger already holds (run-rate £19.2m > 102% of budget): raised, not projected
    forecast = early["exception report"]
    assert [r.period_end for r in forecast.raised] == [date(2005, 4, 30)]
    assert forecast.projected is None


def test_a_run_rate_inside_the_budget_fires_nothing(tmp_path: Path) -> None:
    ir = compile_text(WATCHED, "agreements/herefordshire.yaml")
    early = _warnings(ir, _ledger(tmp_path, "1400000.00", 6), date(2005, 9, 30))
    assert all(w.projected is None and not w.raised for w in early.values())
    assert early["overspend report"].note == "at the current run-rate it does not fire this year"


def test_a_forecast_row_after_the_as_of_date_is_not_known_yet(tmp_path: Path) -> None:
    ir = compile_text(WATCHED, "agreements/herefordshire.yaml")
    later = [["2005-12-01", "mental-health", "", "forecast", "20000000.00", ""]]
    early = _warnings(ir, _ledger(tmp_path, "1400000.00", 6, later), date(2005, 9, 30))
    assert early["exception report"].projected is None


def test_before_the_first_month_end_there_is_no_run_rate(tmp_path: Path) -> None:
    ir = compile_text(WATCHED, "agreements/herefordshire.yaml")
    early = _warnings(ir, _ledger(tmp_path, "1600000.00", 1), date(2005, 4, 20))
    assert "no month of the year has ended yet" in early["overspend report"].note


@pytest.mark.parametrize(
    ("due", "sent", "recorded", "status"),
    [
        (date(2005, 5, 16), date(2005, 5, 16), True, "done"),
        (date(2005, 5, 16), date(2005, 5, 20), True, "done late"),
        (date(2005, 5, 16), None, True, "overdue"),
        (date(2005, 5, 16), None, False, "not recorded"),
        (date(2005, 6, 1), None, True, "due today"),
        (date(2005, 6, 14), None, True, "upcoming"),
        (date(2005, 6, 14), date(2005, 6, 2), True, "upcoming"),  # sent after the as-of date
    ],
)
def test_a_report_stands_done_overdue_or_upcoming(
    due: date, sent: date | None, recorded: bool, status: str
) -> None:
    assert report_status(due, date(2005, 6, 1), sent, recorded) == status
