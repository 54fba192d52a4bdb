"""`risk_share` stated per financial year: the last stated applies to later years, in run,
--years, exit, explain, the schedule and diff (worked by hand, to the penny)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agreementdsl import load_source
from agreementdsl.compile import risk_share_for
from agreementdsl.diff import diff_irs
from agreementdsl.engine.exit import exit_json, exit_settlement
from agreementdsl.engine.run import run_ledger
from agreementdsl.engine.years import run_years
from agreementdsl.render import render
from agreementdsl.source import SourceFile
from engine_support import compile_text, result_json

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
ONE = """\
    risk_share: |
      overspend:
        first £280,000 to host
        rest by contribution
      underspend:
        rest by contribution
"""
PER_YEAR = """\
    risk_share:
      2005/06: |
        overspend:
          first £280,000 to host
          rest by contribution
        underspend:
          rest by contribution
      2006/07: |
        overspend:
          rest by contribution
        underspend:
          rest by contribution
"""
assert HEREFORDSHIRE.count(ONE) == 1  # the mental health pool's
YEARS = HEREFORDSHIRE.replace(ONE, PER_YEAR)
LEDGER = """\
date,pool,element,kind,amount,approved_by
2006-03-31,mental-health,council,spend,18140000.00,executives
2006-09-30,mental-health,council,spend,9000000.00,executives
2007-03-31,mental-health,council,spend,9000000.00,executives
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER, "utf-8")
    return path


def mental_health(text: str, ledger: Path, **options: Any) -> dict[str, Any]:
    ir = compile_text(text, "herefordshire.yaml")
    return result_json(run_ledger(ir, ledger, **options))["pools"][0]


def test_2005_06_keeps_the_host_tier(ledger: Path) -> None:
    # £18,140,000 − £17,400,000 = £740,000: LANGUAGE.md §10's figures
    pool = mental_health(YEARS, ledger, year="2005/06")
    assert pool["settlement"]["shares"] == {"hpct": "631609.20", "hc": "108390.80"}


def test_2006_07_shares_the_whole_overspend_by_contribution(ledger: Path) -> None:
    # Budget 2006/07: £13,300,000 × 1.025 = £13,632,500 + £4,100,000 = £17,732,500. Spend
    # £18,000,000: overspend £267,500, by contribution 13,632,500 : 4,100,000: hpct
    # 20,565,028.90…p, hc 6,184,971.09…p; the penny to hpct (.90 > .09).
    pool = mental_health(YEARS, ledger, year="2006/07")
    assert pool["variance"] == {"kind": "overspend", "amount": "267500.00"}
    assert pool["settlement"]["shares"] == {"hpct": "205650.29", "hc": "61849.71"}
    # stated once, the host tier takes it all
    pool = mental_health(HEREFORDSHIRE, ledger, year="2006/07")
    assert pool["settlement"]["shares"] == {"hpct": "267500.00", "hc": "0.00"}


def test_the_last_stated_applies_to_later_years_and_explain_cites_it(ledger: Path) -> None:
    ir = compile_text(YEARS, "herefordshire.yaml")
    pool = ir["pools"][0]
    assert risk_share_for(pool, "2007/08") == pool["risk_share_years"][1]["waterfall"]
    assert risk_share_for(pool, "2004/05") == pool["risk_share_years"][0]["waterfall"]
    data = result_json(run_ledger(ir, ledger, year="2006/07", explain=True))
    [step] = [w for w in data["pools"][0]["explain"]["settlement"] if w["source"]]
    assert step["source"] == "herefordshire.yaml:54"  # 2006/07's `rest by contribution`


def test_several_years_settle_each_year_by_its_own_waterfall(ledger: Path) -> None:
    ir = compile_text(YEARS, "herefordshire.yaml")
    result = run_years(ir, ledger, "2005/06..2006/07", as_of=date(2007, 3, 31))
    try:
        shares = [run.pools[0].settlement.shares for run in result.runs]  # type: ignore[union-attr]
    finally:
        result.close()
    assert shares == [
        {"hpct": 63160920, "hc": 10839080},
        {"hpct": 20565029, "hc": 6184971},
    ]


def test_an_exit_in_2006_07_shares_the_balance_by_that_years_waterfall(ledger: Path) -> None:
    # Exit 30 September 2006: 183/365 of £17,732,500 = £8,890,541.10; net £9,000,000: an
    # overspend of £109,458.90, by contribution: hpct 8,415,048.38…p, hc 2,530,841.61…p; the
    # penny to hc (.62 > .38).
    ir = compile_text(YEARS, "herefordshire.yaml")
    result = exit_settlement(ir, ledger, date(2006, 9, 30))
    try:
        data = exit_json(result)
    finally:
        result.close()
    pool = data["pools"][0]
    assert pool["balance"] == {"kind": "overspend", "amount": "109458.90"}
    assert pool["settlement"]["shares"] == {"hpct": "84150.48", "hc": "25308.42"}


def test_the_schedule_says_which_years_each_waterfall_governs(tmp_path: Path) -> None:
    ir = compile_text(YEARS, "herefordshire.yaml")
    [path] = render(ir, ["md"], tmp_path, "schedule")
    text = path.read_text("utf-8")
    # each stated year covers itself; the last stated also every later year; no "earlier" year
    assert (
        "Any Overspend of the Pooled Fund in the Financial Year 2005/06 shall be dealt with as "
        "follows:" in text
    )
    assert (
        "Any Overspend of the Pooled Fund in the Financial Year 2006/07 and each later "
        "Financial Year shall be dealt with as follows:" in text
    )
    assert "any earlier Financial Year" not in text


def test_years_of_the_term_before_the_first_stated_are_named(tmp_path: Path) -> None:
    # The first waterfall stated for 2006/07 also governs 2005/06 (the engine applies it to a
    # year before all those stated): the schedule names that year rather than "any earlier".
    text = YEARS.replace("      2005/06: |\n", "      2006/07: |\n", 1).replace(
        "      2006/07: |\n        overspend:\n          rest by contribution",
        "      2007/08: |\n        overspend:\n          rest by contribution",
    )
    assert text.count("      2007/08: |") == 1
    ir = compile_text(text, "herefordshire.yaml")
    [path] = render(ir, ["md"], tmp_path, "schedule")
    md = path.read_text("utf-8")
    assert (
        "Any Overspend of the Pooled Fund in the Financial Years 2005/06 and 2006/07 shall be "
        "dealt with as follows:" in md
    )
    assert (
        "Any Overspend of the Pooled Fund in the Financial Year 2007/08 and each later "
        "Financial Year shall be dealt with as follows:" in md
    )
    assert "earlier" not in md.split("Risk share")[1].split("Delegated authority")[0]


def test_diff_shows_the_change_year_by_year() -> None:
    changes = diff_irs(
        compile_text(HEREFORDSHIRE, "herefordshire.yaml"), compile_text(YEARS, "herefordshire.yaml")
    )
    assert [(c.where, c.what) for c in changes] == [
        (
            "Mental Health Services Pooled Fund, risk share",
            "the risk share was stated as one clause and is now stated per financial year from "
            "2005/06, 2006/07",
        ),
        (
            "Mental Health Services Pooled Fund, risk share for 2006/07, overspend step 1",
            "the step `first £280,000 to host` is removed",
        ),
    ]


def test_a_bad_year_and_a_bad_waterfall_are_reported_where_written() -> None:
    text = YEARS.replace("      2006/07: |\n", "      2006/08: |\n")
    loaded = load_source(SourceFile("a.yaml", text))
    assert [(d.code, d.span.line) for d in loaded.errors] == [("E501", 52)]
    text = YEARS.replace(
        "        overspend:\n          rest by contribution\n",
        "        overspend:\n          next £5,000 to host\n          rest by contribution\n",
    )
    loaded = load_source(SourceFile("a.yaml", text))
    assert [d.code for d in loaded.errors] == ["E602"]
