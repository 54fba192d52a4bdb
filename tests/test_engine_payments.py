"""Contributions paid against those due: a shortfall or a late instalment is flagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from engine_support import compile_file, compile_text, pool_of, run_json

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
HEADER = ["date", "pool", "element", "kind", "amount", "partner", "approved_by"]


def _rows(*payments: tuple[str, str, str]) -> list[list[str]]:
    return [["2005-04-05", "mental-health", "council", "spend", "10.00", "", "board"]] + [
        [day, "mental-health", "", "contribution", amount, who, ""] for day, amount, who in payments
    ]


def test_a_partner_short_of_what_is_due_is_flagged(tmp_path: Path) -> None:
    # hpct's £13,300,000 falls due in four quarterly instalments of £3,325,000 (1 April, 1 July,
    # 1 October, 1 January). By 31 December three are due: £9,975,000. It paid £9,000,000.
    ir = compile_file(HEREFORDSHIRE)
    rows = _rows(
        ("2005-04-01", "3325000.00", "hpct"),
        ("2005-07-01", "3325000.00", "hpct"),
        ("2005-10-03", "2350000.00", "hpct"),
        ("2005-04-01", "1025000.00", "hc"),
        ("2005-07-01", "1025000.00", "hc"),
        ("2005-10-01", "1025000.00", "hc"),
    )
    data = run_json(ir, tmp_path, rows, date(2005, 12, 31), HEADER)
    hpct, hc = pool_of(data, "mental-health")["contributions"]
    assert (hpct["due_to_date"], hpct["received"], hpct["shortfall"]) == (
        "9975000.00",
        "9000000.00",
        "975000.00",
    )
    # the third instalment is met in part (£2,350,000 of £3,325,000 on 3 October), and 30 days
    # from 1 October have passed: 61 days late by 31 December, £975,000 of it outstanding
    assert hpct["late"] == [
        {
            "due_on": "2005-10-01",
            "amount": "3325000.00",
            "paid_on": None,
            "days_late": 61,
            "paid": "2350000.00",
            "paid_in_time": "2350000.00",
            "outstanding": "975000.00",
            "last_paid_on": "2005-10-03",
        }
    ]
    assert any(
        "hpct's instalment of £3,325,000.00 due on 2005-10-01 is paid in part: £2,350,000.00 of "
        "it by 2005-10-03, £975,000.00 outstanding, 61 days after the time allowed" in w
        for w in data["warnings"]
    )
    assert (hc["shortfall"], hc["late"]) == ("0.00", [])
    assert any(
        "hpct has paid £9,000,000.00 of the £9,975,000.00 due by 2005-12-31, £975,000.00 short" in w
        for w in data["warnings"]
    )


def test_a_late_instalment_is_flagged_and_annual_terms_are_read(tmp_path: Path) -> None:
    text = HEREFORDSHIRE.read_text("utf-8").replace(
        "  termination: { notice: 12 months }",
        "  termination: { notice: 12 months }\n  payments: { cadence: annual, within: 10 working days }",
    )
    ir = compile_text(text, "herefordshire.yaml")
    assert ir["pools"][0]["payments"] == {"cadence": "annual", "within": "10 working days"}
    rows = _rows(("2005-05-02", "13300000.00", "hpct"), ("2005-04-08", "4100000.00", "hc"))
    data = run_json(ir, tmp_path, rows, date(2005, 6, 30), HEADER)
    hpct, hc = pool_of(data, "mental-health")["contributions"]
    # due 1 April 2005 (a Friday); the tenth working day after it is 15 April (Easter 2005 fell
    # in March, so no bank holiday comes between); paid 2 May: 17 days late
    assert hpct["late"] == [
        {
            "due_on": "2005-04-01",
            "amount": "13300000.00",
            "paid_on": "2005-05-02",
            "days_late": 17,
            "paid": "13300000.00",
            "paid_in_time": "0.00",
            "outstanding": "0.00",
            "last_paid_on": None,
        }
    ]
    assert hc["late"] == []


def test_a_ledger_without_contributions_is_not_checked(tmp_path: Path) -> None:
    ir = compile_file(HEREFORDSHIRE)
    data = run_json(ir, tmp_path, _rows(), date(2005, 12, 31), HEADER)
    assert pool_of(data, "mental-health")["contributions"] is None
    assert not any("short" in w for w in data["warnings"])


def test_an_instalment_with_nothing_towards_it_is_not_yet_paid(tmp_path: Path) -> None:
    # hpct pays the first two instalments exactly; nothing reaches the third by 31 December
    ir = compile_file(HEREFORDSHIRE)
    rows = _rows(("2005-04-01", "3325000.00", "hpct"), ("2005-07-01", "3325000.00", "hpct"))
    data = run_json(ir, tmp_path, rows, date(2005, 12, 31), HEADER)
    hpct = pool_of(data, "mental-health")["contributions"][0]
    assert [(i["paid"], i["outstanding"], i["last_paid_on"]) for i in hpct["late"]] == [
        ("0.00", "3325000.00", None)
    ]
    assert any(
        "hpct's instalment of £3,325,000.00 due on 2005-10-01 is not yet paid, 61 days after" in w
        for w in data["warnings"]
    )


def test_one_day_late_is_said_in_the_singular(tmp_path: Path) -> None:
    # the third instalment is due on 2005-10-01; the time allowed ends 30 days on, 2005-10-31
    ir = compile_file(HEREFORDSHIRE)
    rows = _rows(("2005-04-01", "3325000.00", "hpct"), ("2005-07-01", "3325000.00", "hpct"))
    data = run_json(ir, tmp_path, rows, date(2005, 11, 1), HEADER)
    late = [w for w in data["warnings"] if "due on 2005-10-01 is not yet paid" in w]
    assert late and all(w.endswith(", 1 day after the time allowed") for w in late), late


def test_an_instalment_paid_late_says_how_much_of_it_came_in_time(tmp_path: Path) -> None:
    """Most of an instalment paid within the days allowed and the rest later: the warning and
    the JSON say how much came in time (found by a user: it read as all of it late)."""
    ir = compile_file(HEREFORDSHIRE)
    rows = _rows(
        ("2005-04-01", "3325000.00", "hpct"),
        ("2005-07-20", "3000000.00", "hpct"),  # the second instalment, due 1 July: most of it
        ("2005-09-30", "325000.00", "hpct"),  # and the rest, 61 days after 31 July
    )
    data = run_json(ir, tmp_path, rows, date(2005, 9, 30), HEADER)
    hpct = pool_of(data, "mental-health")["contributions"][0]
    assert [(i["due_on"], i["paid_on"], i["paid_in_time"]) for i in hpct["late"]] == [
        ("2005-07-01", "2005-09-30", "3000000.00")
    ]
    assert any(
        w.endswith(
            "hpct's instalment of £3,325,000.00 due on 2005-07-01 was paid on 2005-09-30, 61 days "
            "after the time allowed; £3,000,000.00 of it was paid in time (by 2005-07-31)"
        )
        for w in data["warnings"]
    ), data["warnings"]
