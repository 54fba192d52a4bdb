"""`unapproved spend: borne by the partner`: spend that breaches delegated authority is charged
to its partner outside the risk share, in run, explain, exit, several years, DuckDB, the
schedule and diff; without the line it stays in the pool (worked by hand, to the penny)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agreementdsl.diff import diff_irs
from agreementdsl.engine.exit import exit_json, exit_settlement
from agreementdsl.engine.output import write_text
from agreementdsl.engine.run import run_ledger
from agreementdsl.engine.years import run_years
from agreementdsl.render import render
from engine_support import compile_text, result_json

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
LINE = "      unapproved spend: borne by the partner\n"
BORNE = HEREFORDSHIRE.replace(
    "      above: executives and board\n", "      above: executives and board\n" + LINE
)
assert BORNE != HEREFORDSHIRE
# Learning disabilities 2005/06: budget £3,000,000 + £6,300,000 = £9,300,000. Rules: up to
# £10,000 respite (ld-manager), up to £25,000 within plan (ld-manager), up to £250,000 (board),
# above (executives and board).
LEDGER = """\
date,pool,element,kind,amount,partner,approved_by,in_plan
2005-06-01,learning-disabilities,council,spend,9000000.00,,executives;board,true
2005-06-02,learning-disabilities,council,spend,300000.00,,ld-manager,true
2005-06-03,learning-disabilities,respite,spend,40000.00,,ld-manager,true
2005-06-04,learning-disabilities,pct-commissioning,spend,120000.00,hc,board,true
2005-06-05,learning-disabilities,pct-commissioning,spend,50000.00,hc,ld-manager,true
2006-03-31,learning-disabilities,pct-commissioning,spend,100000.00,,board,true
"""
# Row 3: £300,000 needs executives and board; ld-manager alone: not compliant, council → hc.
# Row 4: £40,000 of respite needs the board (rule 3): an officer never stands in for a body:
#   not compliant, respite → hpct.
# Row 6: £50,000 needs the board: not compliant; the row names hc, so hc bears it although the
#   element is hpct's.
# Borne: hc £350,000, hpct £40,000, total £390,000. Spend £9,610,000; the pool's net
# expenditure £9,220,000; underspend £80,000, carried forward (the first £100,000 is).
# Without the line: £9,610,000 − £9,300,000 = £310,000 overspend: the first £280,000 to the
# host (hc), the rest £30,000 by contribution 3,000,000 : 6,300,000 = hpct £9,677.42 (967741.93…p
# floors to 967741, remainder .93) and hc £20,322.58 (2032258.06…p floors to 2032258,
# remainder .06): the penny left goes to hpct (larger remainder): hpct £9,677.42, hc £20,322.58.


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER, "utf-8")
    return path


def ld(text: str, ledger: Path, engine: str = "reference", **options: Any) -> dict[str, Any]:
    ir = compile_text(text, "herefordshire.yaml")
    data = result_json(run_ledger(ir, ledger, engine=engine, **options))
    return data["pools"][1]


def test_borne_spend_leaves_the_pool_and_is_charged_to_its_partner(ledger: Path) -> None:
    pool = ld(BORNE, ledger)
    assert pool["unapproved_spend"] == {
        "borne_by": "partner",
        "total": "390000.00",
        "partners": {"hpct": "40000.00", "hc": "350000.00"},
        "spends": 3,
        "source": "herefordshire.yaml:94",
    }
    assert pool["actual"] == "9220000.00"
    assert pool["variance"] == {"kind": "underspend", "amount": "80000.00"}
    assert pool["settlement"] == {
        "shares": {"hpct": "0.00", "hc": "0.00"},
        "carried_forward": "80000.00",
    }
    # the approvals still list every spend, the borne ones not compliant
    assert [a["compliant"] for a in pool["approvals"]] == [True, False, False, True, False, True]


def test_without_the_line_unapproved_spend_is_shared(ledger: Path) -> None:
    pool = ld(HEREFORDSHIRE, ledger)
    assert pool["unapproved_spend"] is None
    assert pool["actual"] == "9610000.00"
    assert pool["variance"] == {"kind": "overspend", "amount": "310000.00"}
    assert pool["settlement"]["shares"] == {"hpct": "9677.42", "hc": "300322.58"}


def test_duckdb_gives_the_same(ledger: Path) -> None:
    assert ld(BORNE, ledger, "duckdb") == ld(BORNE, ledger)


def test_postgres_gives_the_same(ledger: Path, pg_cluster: str) -> None:
    assert ld(BORNE, ledger, "postgres", database=pg_cluster) == ld(BORNE, ledger)


def test_explain_cites_the_line_and_the_text_shows_the_charges(ledger: Path) -> None:
    ir = compile_text(BORNE, "herefordshire.yaml")
    result = run_ledger(ir, ledger, explain=True)
    try:
        why = result.pools[1].explain["actual"][0]
        out = io.StringIO()
        write_text(result, out)
    finally:
        result.close()
    assert why.source == "herefordshire.yaml:94"
    assert why.result == "£390,000.00 (hpct £40,000.00, hc £350,000.00)"
    assert why.step.startswith("unapproved spend: 3 spends not compliant with delegated authority")
    text = out.getvalue()
    assert "  unapproved spend borne by partners, outside the risk share (3 spends)\n" in text
    assert f"    {'hc':<10}{'£350,000.00':>18}\n" in text


def test_mid_year_the_forecast_run_rate_leaves_borne_spend_out(ledger: Path) -> None:
    # To 30 June 2005: net £9,510,000 of which £390,000 borne → £9,120,000 in the pool; run-rate
    # at 30 June: £9,120,000 × 12 ÷ 3 = £36,480,000; overspend £27,180,000.
    pool = ld(BORNE, ledger, as_of=date(2005, 6, 30))
    assert pool["actual"] == "9120000.00"
    assert pool["forecast"] == "36480000.00"
    assert pool["variance"] == {"kind": "overspend", "amount": "27180000.00"}


def test_an_exit_balance_leaves_borne_spend_out(ledger: Path) -> None:
    # Exit on 30 September 2005: 183 of 365 days; budget to date £9,300,000 × 183/365 =
    # £4,662,739.7260… → £4,662,739.73. Net in the pool £9,120,000: overspend £4,457,260.27.
    ir = compile_text(BORNE, "herefordshire.yaml")
    result = exit_settlement(ir, ledger, date(2005, 9, 30))
    try:
        data = exit_json(result)
    finally:
        result.close()
    pool = data["pools"][1]
    assert (pool["budget_to_date"], pool["actual"]) == ("4662739.73", "9120000.00")
    assert pool["balance"] == {"kind": "overspend", "amount": "4457260.27"}


def test_several_years_carry_only_the_pools_own_underspend(ledger: Path) -> None:
    ir = compile_text(BORNE, "herefordshire.yaml")
    result = run_years(ir, ledger, "2005/06..2006/07", as_of=date(2006, 4, 30))
    try:
        chain = result.chain()
    finally:
        result.close()
    ld_chain = [c for c in chain if c["pool"] == "learning-disabilities"]
    assert ld_chain[0]["carried_forward"] == {"kind": "underspend", "amount": "80000.00"}
    assert ld_chain[1]["brought_forward"] == {"kind": "underspend", "amount": "80000.00"}


def test_the_schedule_says_who_bears_unapproved_spend(tmp_path: Path) -> None:
    with_line = _schedule(BORNE, tmp_path)
    without = _schedule(HEREFORDSHIRE, tmp_path)
    assert (
        "shall be borne by the Partner for which it is recorded in the Pooled Fund's accounts"
        in with_line
    )
    assert "shall not be expenditure of the Pooled Fund for the purposes of the risk share" in (
        with_line
    )
    assert without.count("remains expenditure of the Pooled Fund") == 2
    assert with_line.count("remains expenditure of the Pooled Fund") == 1  # mental health


def test_diff_names_the_change() -> None:
    a = compile_text(HEREFORDSHIRE, "herefordshire.yaml")
    b = compile_text(BORNE, "herefordshire.yaml")
    changes = diff_irs(a, b)
    assert [c.what for c in changes if "unapproved" in c.where] == [
        "unapproved spend is now borne by its partner, outside the risk share, and leaves the "
        "pool's variance"
    ]


def _schedule(text: str, folder: Path) -> str:
    ir = compile_text(text, "herefordshire.yaml")
    [path] = render(ir, ["md"], folder, "schedule")
    return path.read_text("utf-8")
