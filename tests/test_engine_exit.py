"""Exit: the balance at the exit date, the notice it needs, and who bears what, to the penny."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agreementdsl.calendar import Duration
from agreementdsl.cli import main
from agreementdsl.engine.exit import exit_json, exit_settlement, latest_notice_day
from agreementdsl.engine.run import RunError
from engine_support import compile_text

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
EXIT_TERMS = """\
  termination:
    notice: 12 months
    on_exit: |
      overspend:
        first £100,000 to leaving partner
        rest by contribution
      underspend:
        rest by contribution
    assets: >
      Each partner keeps the equipment it bought and continues to employ its own staff.
"""
LEDGER = """\
date,pool,element,kind,amount,approved_by
2006-05-10,mental-health,council,spend,4500000.00,board
2006-08-10,mental-health,pct-provider,spend,4500000.00,board
2006-09-30,learning-disabilities,council,spend,4000000.00,board
2006-10-01,mental-health,council,spend,999.00,board
"""


def _with_exit_terms(text: str = HEREFORDSHIRE) -> str:
    assert text.count("  termination: { notice: 12 months }\n") == 1
    return text.replace("  termination: { notice: 12 months }\n", EXIT_TERMS)


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER, "utf-8")
    return path


def _exit(ir: dict[str, Any], ledger: Path, **kw: Any) -> dict[str, Any]:
    result = exit_settlement(ir, ledger, date(2006, 9, 30), **kw)
    try:
        return exit_json(result)
    finally:
        result.close()


def test_an_exit_half_way_through_a_year_under_a_two_step_waterfall(ledger: Path) -> None:
    ir = compile_text(_with_exit_terms(), "herefordshire.yaml")
    data = _exit(ir, ledger, partner="hc", notice_given=date(2005, 9, 1))
    mh, ld = data["pools"]
    # Mental health 2006/07: budget £13,632,500 + £4,100,000 = £17,732,500. 1 April to 30 September
    # is 183 of 365 days: £17,732,500 × 183/365 = £8,890,541.0958… → £8,890,541.10. Net
    # expenditure to 30 September £9,000,000 (the £999 on 1 October is after the exit), so the
    # balance is an overspend of £109,458.90.
    assert (mh["budget"], mh["budget_to_date"], mh["actual"]) == (
        "17732500.00",
        "8890541.10",
        "9000000.00",
    )
    assert mh["balance"] == {"kind": "overspend", "amount": "109458.90"}
    # Step 1: the first £100,000 to the leaving partner, hc. Step 2: the rest, £9,458.90, by
    # contribution 13,632,500 : 4,100,000: hpct 727,187.109…p, hc 218,702.890…p; floors leave a
    # penny, which goes to the larger remainder (hc): hpct £7,271.87, hc £2,187.03.
    assert mh["settlement"]["shares"] == {"hpct": "7271.87", "hc": "102187.03"}
    assert mh["waterfall"] == "agreement"
    assert mh["assets"].startswith("Each partner keeps the equipment")
    # Learning disabilities: £9,300,000 × 183/365 = £4,662,739.726… → £4,662,739.73; spent
    # £4,000,000: an underspend of £662,739.73, returned by contribution 3,000,000 : 6,300,000:
    # hpct 21,378,700.97p, hc 44,895,272.03p → the spare penny to hpct.
    assert ld["balance"] == {"kind": "underspend", "amount": "662739.73"}
    assert ld["settlement"]["shares"] == {"hpct": "213787.01", "hc": "448952.72"}
    assert data["notice"] == {
        "period": "12 months",
        "give_by": "2005-09-30",
        "given": "2005-09-01",
        "source": "herefordshire.yaml:14",  # the `notice:` line
        "in_time": True,
    }


def test_shares_always_add_up_to_the_balance(ledger: Path) -> None:
    ir = compile_text(_with_exit_terms(), "herefordshire.yaml")
    for pool in _exit(ir, ledger, partner="hpct")["pools"]:
        total = sum(int(v.replace(".", "")) for v in pool["settlement"]["shares"].values())
        assert total == int(pool["balance"]["amount"].replace(".", ""))


def test_notice_given_too_late_is_a_clear_error(ledger: Path) -> None:
    ir = compile_text(_with_exit_terms(), "herefordshire.yaml")
    with pytest.raises(RunError) as caught:
        _exit(ir, ledger, partner="hc", notice_given=date(2005, 10, 1))
    assert caught.value.code == "N001"
    assert caught.value.message == (
        "notice given on 2005-10-01 is too late for an exit on 2006-09-30: 12 months' notice "
        "must be given by 2005-09-30"
    )
    assert caught.value.hint == "the earliest exit for notice given on 2005-10-01 is 2006-10-01"


def test_to_leaving_partner_needs_the_partner_named(ledger: Path) -> None:
    ir = compile_text(_with_exit_terms(), "herefordshire.yaml")
    with pytest.raises(RunError, match="no partner is named as leaving") as caught:
        _exit(ir, ledger)
    assert caught.value.usage


def test_without_exit_terms_the_risk_share_applies(ledger: Path) -> None:
    ir = compile_text(HEREFORDSHIRE, "herefordshire.yaml")
    mh = _exit(ir, ledger)["pools"][0]
    # the year's risk share: first £280,000 to the host takes all of £109,458.90
    assert mh["waterfall"] == "risk share"
    assert mh["settlement"]["shares"] == {"hpct": "109458.90", "hc": "0.00"}


def test_a_pool_may_have_its_own_exit_terms(ledger: Path) -> None:
    text = _with_exit_terms().replace(
        "    risk_share: |\n      overspend:\n        first £280,000 to host\n        rest by contribution\n      underspend:\n        first £100,000 carried forward",
        "    termination:\n      on_exit: |\n        overspend:\n          rest to host\n        underspend:\n          rest equally\n"
        "    risk_share: |\n      overspend:\n        first £280,000 to host\n        rest by contribution\n      underspend:\n        first £100,000 carried forward",
    )
    ir = compile_text(text, "herefordshire.yaml")
    mh, ld = _exit(ir, ledger, partner="hpct")["pools"]
    assert (mh["waterfall"], ld["waterfall"]) == ("agreement", "pool")
    # £662,739.73 equally: 66,273,973p / 2 = 33,136,986.5 each → the penny to hpct (first named)
    assert ld["settlement"]["shares"] == {"hpct": "331369.87", "hc": "331369.86"}


@pytest.mark.parametrize(
    ("exit_on", "notice", "give_by"),
    [
        (date(2006, 9, 30), Duration(12, "months"), date(2005, 9, 30)),
        (date(2006, 6, 30), Duration(1, "months"), date(2006, 5, 31)),  # 31 May + 1 month = 30 June
        (date(2006, 3, 31), Duration(3, "months"), date(2005, 12, 31)),
        # 2 January 2006 was a bank holiday; the tenth working day after it is 16 January
        (date(2006, 1, 16), Duration(10, "working_days"), date(2006, 1, 2)),
        (date(2006, 1, 13), Duration(10, "working_days"), date(2005, 12, 29)),  # over Christmas
    ],
)
def test_the_latest_day_for_notice(exit_on: date, notice: Duration, give_by: date) -> None:
    assert latest_notice_day(exit_on, notice) == give_by


def test_the_command_line(tmp_path: Path, ledger: Path) -> None:
    agreement = tmp_path / "herefordshire.yaml"
    agreement.write_text(_with_exit_terms(), "utf-8")
    args = ["run", str(agreement), "--ledger", str(ledger), "--exit-on", "2006-09-30"]
    result = CliRunner().invoke(main, [*args, "--partner", "hc", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pools"][0]["settlement"]["shares"]["hc"] == "102187.03"
    result = CliRunner().invoke(main, [*args, "--partner", "hc", "--explain"])
    assert result.exit_code == 0
    assert "first £100,000 to leaving partner" in result.output
    assert "all to hc, the leaving partner" in result.output
    late = CliRunner().invoke(main, [*args, "--partner", "hc", "--notice-given", "2005-10-01"])
    assert late.exit_code == 1
    assert "error[N001]: notice given on 2005-10-01 is too late" in late.output
    unnamed = CliRunner().invoke(main, args)
    assert unnamed.exit_code == 2
    assert "name the partner that leaves with --partner" in unnamed.output
    mixed = CliRunner().invoke(main, [*args, "--year", "2006/07"])
    assert mixed.exit_code == 2
    stray = CliRunner().invoke(main, [*args[:-2], "--partner", "hc"])
    assert stray.exit_code == 2
    assert "--partner and --notice-given go with --exit-on" in stray.output


def test_on_exit_the_risk_share_carries_nothing_forward(tmp_path: Path) -> None:
    # Learning disabilities has no exit terms; its risk share keeps the first £100,000 of an
    # underspend for next year. On exit there is no next year: that step is passed over and
    # the whole balance is returned by contribution.
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by\n"
        "2006-09-30,learning-disabilities,council,spend,4500000.00,board\n",
        "utf-8",
    )
    ir = compile_text(HEREFORDSHIRE, "herefordshire.yaml")
    ld = _exit(ir, ledger)["pools"][1]
    # £4,662,739.73 − £4,500,000 = £162,739.73 under, all by contribution 3,000,000 : 6,300,000
    assert ld["balance"] == {"kind": "underspend", "amount": "162739.73"}
    assert ld["settlement"]["carried_forward"] == "0.00"
    shares = ld["settlement"]["shares"]
    assert shares == {"hpct": "52496.69", "hc": "110243.04"}


def test_to_leaving_partner_is_refused_up_front_whatever_the_figures(tmp_path: Path) -> None:
    # No overspend reaches the `to leaving partner` step here (the balance is an underspend),
    # but without --partner the exit terms cannot be read: a usage error all the same.
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("date,pool,element,kind,amount,approved_by\n", "utf-8")
    ir = compile_text(_with_exit_terms(), "herefordshire.yaml")
    with pytest.raises(RunError, match="no partner is named as leaving") as caught:
        _exit(ir, ledger)
    assert caught.value.usage
