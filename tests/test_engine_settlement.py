"""The risk-share waterfall (LANGUAGE.md §4, §10, §11): who bears a year's variance, to the penny.

Every expected figure below is worked by hand in a comment next to it; none was copied from the
program's output. Amounts in the workings are pounds unless they say pence (p).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.cli import main
from agreementdsl.engine.settlement import YearContext, settle
from engine_support import compile_file, compile_text, pool_of
from engine_support import run_json as run_rows

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
THREE = ROOT / "tests" / "data" / "engine" / "three-partners.yaml"
YEAR_END_0506 = date(2006, 3, 31)
YEAR_END_0809 = date(2009, 3, 31)
HEADER = ["date", "pool", "element", "kind", "amount", "approved_by"]


def run_json(
    ir: dict[str, Any],
    tmp_path: Path,
    rows: list[list[str]],
    as_of: date,
    header: list[str] = HEADER,
) -> dict[str, Any]:
    return run_rows(ir, tmp_path, rows, as_of, header)


# ---------------------------------------------------------------- helpers


def spend(pool: str, amount: str, element: str = "", day: str = "2008-06-01") -> list[str]:
    return [day, pool, element, "spend", amount, "board"]


@pytest.fixture(scope="module")
def herefordshire() -> dict[str, Any]:
    return compile_file(HEREFORDSHIRE)


@pytest.fixture(scope="module")
def three() -> dict[str, Any]:
    return compile_file(THREE)


# ---------------------------------------------------------------- the seed: Herefordshire 2005/06
def test_mental_health_overspend_740k(herefordshire: dict[str, Any], tmp_path: Path) -> None:
    # Budget £13,300,000 + £4,100,000 = £17,400,000; outturn £18,140,000 → overspend £740,000.
    # first £280,000 to host (hpct).  rest £460,000 by contribution 13.3 : 4.1 (of 17.4):
    #   hpct 46,000,000p × 133/174 = 35,160,919.54p → floor 35,160,919, remainder .54
    #   hc   46,000,000p ×  41/174 = 10,839,080.46p → floor 10,839,080, remainder .46
    #   floors total 45,999,999p: the one penny left goes to the larger remainder, hpct.
    #   hpct £351,609.20, hc £108,390.80.
    # hpct £280,000 + £351,609.20 = £631,609.20; hc £108,390.80 (LANGUAGE.md §10).
    data = run_json(
        herefordshire,
        tmp_path,
        [spend("mental-health", "18140000.00", "council", "2005-06-01")],
        YEAR_END_0506,
    )
    mh = pool_of(data, "mental-health")
    assert mh["budget"] == "17400000.00"
    assert mh["actual"] == "18140000.00"
    assert mh["variance"] == {"kind": "overspend", "amount": "740000.00"}
    assert mh["settlement"] == {
        "shares": {"hpct": "631609.20", "hc": "108390.80"},
        "carried_forward": "0.00",
    }


def test_learning_disabilities_overspend_874k(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # Budget £3,000,000 + £6,300,000 = £9,300,000; outturn £10,174,000 → overspend £874,000.
    # first £280,000 to host (hc).  rest £594,000 by contribution 3.0 : 6.3 (of 9.3):
    #   hpct 59,400,000p × 30/93 = 19,161,290.32p → floor 19,161,290, remainder .32
    #   hc   59,400,000p × 63/93 = 40,238,709.68p → floor 40,238,709, remainder .68
    #   floors total 59,399,999p: the penny goes to hc.
    #   hpct £191,612.90, hc £402,387.10.
    # hpct £191,612.90; hc £280,000 + £402,387.10 = £682,387.10.  Sum £874,000.00.
    data = run_json(
        herefordshire,
        tmp_path,
        [spend("learning-disabilities", "10174000.00", "council", "2005-06-01")],
        YEAR_END_0506,
    )
    ld = pool_of(data, "learning-disabilities")
    assert ld["budget"] == "9300000.00"
    assert ld["variance"] == {"kind": "overspend", "amount": "874000.00"}
    assert ld["settlement"] == {
        "shares": {"hpct": "191612.90", "hc": "682387.10"},
        "carried_forward": "0.00",
    }


def test_learning_disabilities_underspend_carries_first_100k(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # Outturn £9,050,000 on £9,300,000 → underspend £250,000.
    # first £100,000 carried forward.  rest £150,000 by contribution 3.0 : 6.3:
    #   hpct 15,000,000p × 30/93 =  4,838,709.68p → floor 4,838,709, remainder .68
    #   hc   15,000,000p × 63/93 = 10,161,290.32p → floor 10,161,290, remainder .32
    #   one penny left → hpct.  hpct £48,387.10, hc £101,612.90 (sum £150,000.00).
    data = run_json(
        herefordshire,
        tmp_path,
        [spend("learning-disabilities", "9050000.00", "council", "2005-06-01")],
        YEAR_END_0506,
    )
    ld = pool_of(data, "learning-disabilities")
    assert ld["variance"] == {"kind": "underspend", "amount": "250000.00"}
    assert ld["settlement"] == {
        "shares": {"hpct": "48387.10", "hc": "101612.90"},
        "carried_forward": "100000.00",
    }


def test_underspend_smaller_than_the_first_step_is_all_carried_forward(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # Underspend £60,000 < £100,000: `first` takes all of it; `rest` takes £0.
    data = run_json(
        herefordshire,
        tmp_path,
        [spend("learning-disabilities", "9240000.00", "council", "2005-06-01")],
        YEAR_END_0506,
    )
    ld = pool_of(data, "learning-disabilities")
    assert ld["variance"] == {"kind": "underspend", "amount": "60000.00"}
    assert ld["settlement"] == {
        "shares": {"hpct": "0.00", "hc": "0.00"},
        "carried_forward": "60000.00",
    }


def test_section_4_example_split_60_40(tmp_path: Path) -> None:
    # LANGUAGE.md §4's example put into §1's learning-disabilities pool (host hc).
    # Overspend £874,000:
    #   first £280,000 to host             → hc £280,000
    #   next £500,000 split hpct 60%, hc 40% → hpct £300,000, hc £200,000
    #   rest £94,000 by contribution 3.0 : 6.3:
    #     hpct 9,400,000p × 30/93 = 3,032,258.06p → floor 3,032,258, remainder .06
    #     hc   9,400,000p × 63/93 = 6,367,741.94p → floor 6,367,741, remainder .94 → +1p
    #     hpct £30,322.58, hc £63,677.42
    # hpct £300,000 + £30,322.58 = £330,322.58; hc £280,000 + £200,000 + £63,677.42 = £543,677.42.
    text = HEREFORDSHIRE.read_text("utf-8")
    old = (
        "      overspend:\n        first £280,000 to host\n        rest by contribution\n"
        "      underspend:\n        first £100,000 carried forward\n"
    )
    new = (
        "      overspend:\n        first £280,000 to host\n"
        "        next £500,000 split hpct 60%, hc 40%\n        rest by contribution\n"
        "      underspend:\n        first £100,000 carried forward\n"
    )
    assert text.count(old) == 1
    ir = compile_text(text.replace(old, new), "herefordshire-s4.yaml")
    data = run_json(
        ir,
        tmp_path,
        [spend("learning-disabilities", "10174000.00", "council", "2005-06-01")],
        YEAR_END_0506,
    )
    assert pool_of(data, "learning-disabilities")["settlement"] == {
        "shares": {"hpct": "330322.58", "hc": "543677.42"},
        "carried_forward": "0.00",
    }


# ---------------------------------------------------------------- three partners, penny ties
def test_equally_three_ways_tie_goes_to_first_in_partners(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # Budget £3,000; outturn £3,100 → overspend £100.00 = 10,000p, equally among 3 partners:
    # 3,333.33p each → floors 9,999p, one penny left, all remainders equal (.33) → the partner
    # first in `partners:`, zed (not amber, first alphabetically; not moss, first in the map).
    data = run_json(three, tmp_path, [spend("equal", "3100.00")], YEAR_END_0809)
    settlement = pool_of(data, "equal")["settlement"]
    assert settlement["shares"] == {"zed": "33.34", "amber": "33.33", "moss": "33.33"}
    assert list(settlement["shares"]) == ["zed", "amber", "moss"]  # `partners:` order


def test_by_contribution_with_equal_remainders(three: dict[str, Any], tmp_path: Path) -> None:
    # Contributions zed £100, amber £200, moss £100 (of £400). Outturn £410.02 → overspend
    # £10.02 = 1,002p: zed 250.5p, amber 501p, moss 250.5p → floors 250 + 501 + 250 = 1,001p;
    # one penny left, zed and moss tie at .5 → zed (first in `partners:`).
    data = run_json(three, tmp_path, [spend("weighted", "410.02")], YEAR_END_0809)
    assert pool_of(data, "weighted")["settlement"]["shares"] == {
        "zed": "2.51",
        "amber": "5.01",
        "moss": "2.50",
    }


def test_to_partner_then_by_contribution_underspend(three: dict[str, Any], tmp_path: Path) -> None:
    # Outturn £394.97 on £400 → underspend £5.03.
    # first £1 to amber → amber £1.00.  rest £4.03 = 403p by 1 : 2 : 1:
    #   zed 100.75p, amber 201.5p, moss 100.75p → floors 401p; 2 pennies left → the two largest
    #   remainders, zed (.75) and moss (.75); amber (.5) gets none.  zed 1.01, amber 2.01, moss 1.01.
    # amber 1.00 + 2.01 = 3.01.  Sum 1.01 + 3.01 + 1.01 = 5.03.
    data = run_json(three, tmp_path, [spend("weighted", "394.97")], YEAR_END_0809)
    weighted = pool_of(data, "weighted")
    assert weighted["variance"] == {"kind": "underspend", "amount": "5.03"}
    assert weighted["settlement"] == {
        "shares": {"zed": "1.01", "amber": "3.01", "moss": "1.01"},
        "carried_forward": "0.00",
    }


def test_a_first_step_larger_than_the_variance_takes_it_all(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # Underspend £0.60 < `first £1`: amber takes 60p, rest takes nothing; zeros still listed.
    data = run_json(three, tmp_path, [spend("weighted", "399.40")], YEAR_END_0809)
    assert pool_of(data, "weighted")["settlement"]["shares"] == {
        "zed": "0.00",
        "amber": "0.60",
        "moss": "0.00",
    }


def test_split_bands_then_by_contribution(three: dict[str, Any], tmp_path: Path) -> None:
    # Pool `banded`: zed £300 + amber £100 = £400 (moss contributes nothing).
    # Outturn £600 → overspend £200:
    #   first £100 split zed 60%, amber 40%   → zed 60.00, amber 40.00
    #   next £50 split moss 50%, amber 50%    → moss 25.00, amber 25.00
    #   rest £50 by contribution 300 : 100    → zed 37.50, amber 12.50
    # zed 97.50, amber 77.50, moss 25.00 (sum 200.00).
    data = run_json(three, tmp_path, [spend("banded", "600.00")], YEAR_END_0809)
    assert pool_of(data, "banded")["settlement"] == {
        "shares": {"zed": "97.50", "amber": "77.50", "moss": "25.00"},
        "carried_forward": "0.00",
    }


def test_shares_name_partners_of_steps_that_took_nothing(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # Overspend £80 is all taken by the first step (zed 48.00, amber 32.00); the `next` step that
    # names moss takes £0, yet moss is a partner a step allocates to, so it is listed at 0.00
    # (LANGUAGE.md §11).
    data = run_json(three, tmp_path, [spend("banded", "480.00")], YEAR_END_0809)
    assert pool_of(data, "banded")["settlement"]["shares"] == {
        "zed": "48.00",
        "amber": "32.00",
        "moss": "0.00",
    }


def test_percent_of_pool_carried_forward_then_to_partner_then_equally(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # Pool `banded` underspend: outturn £354.99 on £400 → £45.01.
    #   first 5% of pool carried forward: 5% × £400 = £20.00 carried
    #   next £10 to moss → moss 10.00 (moss contributes nothing but is named)
    #   rest £15.01 = 1,501p equally between the non-zero contributors zed and amber:
    #     750.5p each → floors 1,500p, one penny, tie → zed.  zed 7.51, amber 7.50.
    data = run_json(three, tmp_path, [spend("banded", "354.99")], YEAR_END_0809)
    assert pool_of(data, "banded")["settlement"] == {
        "shares": {"zed": "7.51", "amber": "7.50", "moss": "10.00"},
        "carried_forward": "20.00",
    }


def test_percent_of_pool_rounds_half_up(three: dict[str, Any], tmp_path: Path) -> None:
    # Pool `halfpenny`: zed £50.05 + amber £50.05 = £100.10 = 10,010p.
    # 5% of pool = 500.5p → half up → 501p = £5.01 (half-even would give 500p).
    # Underspend: outturn £90.10 → £10.00. carried £5.01; rest £4.99 = 499p by 1 : 1:
    #   249.5p each → one penny left, tie → zed.  zed 2.50, amber 2.49.
    data = run_json(three, tmp_path, [spend("halfpenny", "90.10")], YEAR_END_0809)
    assert pool_of(data, "halfpenny")["settlement"] == {
        "shares": {"zed": "2.50", "amber": "2.49"},
        "carried_forward": "5.01",
    }


def test_percent_of_pool_to_partner_overspend(three: dict[str, Any], tmp_path: Path) -> None:
    # Overspend: outturn £110.10 → £10.00.  first 5% of pool (£5.01) to amber; rest £4.99 as
    # above: zed 2.50, amber 2.49.  amber 5.01 + 2.49 = 7.50.
    data = run_json(three, tmp_path, [spend("halfpenny", "110.10")], YEAR_END_0809)
    assert pool_of(data, "halfpenny")["settlement"]["shares"] == {"zed": "2.50", "amber": "7.50"}


def test_equally_is_among_non_zero_contributors(three: dict[str, Any], tmp_path: Path) -> None:
    # Pool `lopsided`: moss £100, amber £0, zed £200.  Overspend £1.01 = 101p equally between
    # zed and moss (amber gives nothing): 50.5p each → tie → zed.  zed 0.51, moss 0.50;
    # amber is given a (£0) contribution, so it is listed at 0.00.
    data = run_json(three, tmp_path, [spend("lopsided", "301.01")], YEAR_END_0809)
    assert pool_of(data, "lopsided")["settlement"]["shares"] == {
        "zed": "0.51",
        "amber": "0.00",
        "moss": "0.50",
    }


def test_by_contribution_with_a_zero_contributor(three: dict[str, Any], tmp_path: Path) -> None:
    # Underspend £3.00 by contribution 200 : 0 : 100 → zed 2.00, amber 0.00, moss 1.00.
    data = run_json(three, tmp_path, [spend("lopsided", "297.00")], YEAR_END_0809)
    assert pool_of(data, "lopsided")["settlement"]["shares"] == {
        "zed": "2.00",
        "amber": "0.00",
        "moss": "1.00",
    }


# ---------------------------------------------------------------- by element
def test_by_element_ignores_elements_moving_the_other_way(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # Budgets z1 300, z2 300 (both zed), am 300 (amber), mo 100 (moss); total £1,000.
    # Year-end net: z1 350 (+50), z2 280 (−20, the other way: ignored), am 330 (+30), mo 100 (0).
    # Pool 1,060 → overspend £60.  Parts: zed 50 (not 50 − 20 = 30), amber 30, moss 0.
    # £60 × 50/80 = £37.50 to zed; £60 × 30/80 = £22.50 to amber; moss (a contributor) 0.00.
    rows = [
        spend("elements", "350.00", "z1"),
        spend("elements", "280.00", "z2"),
        spend("elements", "330.00", "am"),
        spend("elements", "100.00", "mo"),
    ]
    data = run_json(three, tmp_path, rows, YEAR_END_0809)
    elements = pool_of(data, "elements")
    assert elements["variance"] == {"kind": "overspend", "amount": "60.00"}
    assert elements["settlement"]["shares"] == {"zed": "37.50", "amber": "22.50", "moss": "0.00"}


def test_by_element_underspend(three: dict[str, Any], tmp_path: Path) -> None:
    # Year-end net: z1 250 (−50), z2 320 (+20, ignored), am 290 (−10), mo 100 → pool 960,
    # underspend £40.  Parts: zed 50, amber 10.  4,000p × 50/60 = 3,333.33p, × 10/60 = 666.67p
    # → floors 3,999p, the penny to the larger remainder (amber .67).  zed 33.33, amber 6.67.
    rows = [
        spend("elements", "250.00", "z1"),
        spend("elements", "320.00", "z2"),
        spend("elements", "290.00", "am"),
        spend("elements", "100.00", "mo"),
    ]
    data = run_json(three, tmp_path, rows, YEAR_END_0809)
    assert pool_of(data, "elements")["settlement"]["shares"] == {
        "zed": "33.33",
        "amber": "6.67",
        "moss": "0.00",
    }


def test_by_element_with_all_zero_parts_falls_back_to_by_contribution(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # Every element exactly on budget; an income of £40 named against no element brings the pool
    # to £960, underspend £40, but no element moved that way: parts all zero → by contribution
    # 600 : 300 : 100 → zed 24.00, amber 12.00, moss 4.00.
    rows = [
        spend("elements", "300.00", "z1"),
        spend("elements", "300.00", "z2"),
        spend("elements", "300.00", "am"),
        spend("elements", "100.00", "mo"),
        ["2008-07-01", "elements", "", "income", "40.00", ""],
    ]
    data = run_json(three, tmp_path, rows, YEAR_END_0809)
    elements = pool_of(data, "elements")
    assert elements["variance"] == {"kind": "underspend", "amount": "40.00"}
    assert elements["settlement"]["shares"] == {"zed": "24.00", "amber": "12.00", "moss": "4.00"}


def test_by_element_before_year_end_uses_each_elements_run_rate(
    three: dict[str, Any], tmp_path: Path
) -> None:
    # As of 30 June 2008: three month ends have passed.  Net to 30 June and run-rates (× 12 ÷ 3):
    #   z1 100 → 400 (+100 on 300); z2 75 → 300 (0); am 60 → 240 (−60, ignored); mo 30 → 120 (+20).
    # Pool 265 → 1,060: forecast overspend £60.  Parts zed 100, moss 20:
    #   £60 × 100/120 = £50.00 zed; £60 × 20/120 = £10.00 moss; amber 0.00.
    rows = [
        spend("elements", "100.00", "z1", "2008-04-15"),
        spend("elements", "75.00", "z2", "2008-05-15"),
        spend("elements", "60.00", "am", "2008-06-15"),
        spend("elements", "30.00", "mo", "2008-06-30"),
    ]
    data = run_json(three, tmp_path, rows, date(2008, 6, 30))
    elements = pool_of(data, "elements")
    assert elements["forecast"] == "1060.00"
    assert elements["variance"] == {"kind": "overspend", "amount": "60.00"}
    assert elements["settlement"]["shares"] == {"zed": "50.00", "amber": "0.00", "moss": "10.00"}


def test_by_element_fallback_with_zero_contributions_is_not_a_crash(tmp_path: Path) -> None:
    # Pool `elements` with every contribution and element budget £0; an income of £5 against no
    # element gives an underspend of £5 that no element explains.  §4: `by contribution` in a
    # year whose contributions total zero is an error, so either `check` reports it (and `run`
    # exits 1 with the diagnostic) or `run` reports it, but not a traceback.
    text = THREE.read_text("utf-8")
    text = text.replace(
        '2008/09: { zed: "£600", amber: "£300", moss: "£100" }',
        '2008/09: { zed: "£0", amber: "£0", moss: "£0" }',
    ).replace(
        '2008/09: { z1: "£300", z2: "£300", am: "£300", mo: "£100" }',
        '2008/09: { z1: "£0", z2: "£0", am: "£0", mo: "£0" }',
    )
    agreement = tmp_path / "zero.yaml"
    agreement.write_text(text, encoding="utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("date,pool,element,kind,amount\n2008-05-01,elements,,income,5.00\n")
    result = CliRunner().invoke(
        main, ["run", str(agreement), "--ledger", str(ledger), "--as-of", "2009-03-31"]
    )
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1)


# ---------------------------------------------------------------- balanced
def test_balanced_year(three: dict[str, Any], tmp_path: Path) -> None:
    # Outturn exactly £3,000 on £3,000: balanced, amount 0.00, every contributor at 0.00.
    data = run_json(three, tmp_path, [spend("equal", "3000.00")], YEAR_END_0809)
    equal = pool_of(data, "equal")
    assert equal["variance"] == {"kind": "balanced", "amount": "0.00"}
    assert equal["settlement"] == {
        "shares": {"zed": "0.00", "amber": "0.00", "moss": "0.00"},
        "carried_forward": "0.00",
    }


def test_balanced_year_names_partners_of_split_steps(three: dict[str, Any], tmp_path: Path) -> None:
    # Pool `banded` balanced (£400 on £400): moss contributes nothing, but the overspend section
    # splits a step to it and the underspend section sends a step `to moss`. In an overspend or
    # an underspend year moss is listed (see the tests above); balanced, it should be too.
    data = run_json(three, tmp_path, [spend("banded", "400.00")], YEAR_END_0809)
    assert pool_of(data, "banded")["settlement"]["shares"] == {
        "zed": "0.00",
        "amber": "0.00",
        "moss": "0.00",
    }


# ---------------------------------------------------------------- settle() directly
def test_settle_directly_with_the_compiled_section(herefordshire: dict[str, Any]) -> None:
    # The same £740,000 as the first test, through engine.settlement.settle.
    mh = next(p for p in herefordshire["pools"] if p["id"] == "mental-health")
    ctx = YearContext(
        ["hpct", "hc"], {"hpct": 1_330_000_000, "hc": 410_000_000}, "hpct", lambda _d: {}
    )
    result = settle(mh["risk_share"]["overspend"], "overspend", 74_000_000, ctx)
    assert result.shares == {"hpct": 63_160_920, "hc": 10_839_080}
    assert result.carried_forward == 0
    assert [s.taken for s in result.steps] == [28_000_000, 46_000_000]


# ---------------------------------------------------------------- property: random waterfalls
PARTNERS = ["zed", "amber", "moss"]

_TEMPLATE = """\
agreement:
  id: waterfall
  title: Waterfall
  basis: nhs-act-2006-s75
  commencement: 2008-04-01
  expiry: 2009-03-31
  aims: x
  review: annual
  termination: {{ notice: 12 months }}
partners:
  zed: {{ name: Zed, kind: nhs-body }}
  amber: {{ name: Amber, kind: local-authority }}
  moss: {{ name: Moss, kind: local-authority }}
roles:
  mgr: {{ title: Manager, partner: zed }}
pools:
  p:
    name: P
    host: zed
    manager: mgr
    services: [x]
    contributions:
      2008/09: {{ zed: "£1,000", amber: "£500", moss: "£250" }}
    risk_share: |
{sections}
    spending: |
      above: mgr
    reporting: |
      quarterly finance report to partners within 20 working days
      annual return to partners within 3 months
"""


@st.composite
def allocations(draw: st.DrawFn, direction: str) -> tuple[str, dict[str, Any]]:
    """(clause words, my own description) of one allocation."""
    kinds = ["to", "host", "contribution", "equally", "split"]
    if direction == "underspend":
        kinds.append("carried")
    kind = draw(st.sampled_from(kinds))
    if kind == "to":
        partner = draw(st.sampled_from(PARTNERS))
        return f"to {partner}", {"type": "to", "partner": partner}
    if kind == "host":
        return "to host", {"type": "to", "partner": "zed"}
    if kind == "contribution":
        return "by contribution", {"type": "contribution"}
    if kind == "equally":
        return "equally", {"type": "equally"}
    if kind == "carried":
        return "carried forward", {"type": "carried"}
    names = draw(st.lists(st.sampled_from(PARTNERS), min_size=1, max_size=3, unique=True))
    # Percentages in hundredths, adding up to exactly 100%.
    cuts = sorted(
        draw(st.lists(st.integers(0, 10_000), min_size=len(names) - 1, max_size=len(names) - 1))
    )
    bounds = [0, *cuts, 10_000]
    hundredths = [b - a for a, b in itertools.pairwise(bounds)]
    if any(h == 0 for h in hundredths):
        hundredths = [10_000 // len(names)] * len(names)
        hundredths[-1] += 10_000 - sum(hundredths)
    words = ", ".join(
        f"{n} {format(Decimal(h) / 100, 'f')}%" for n, h in zip(names, hundredths, strict=True)
    )
    return f"split {words}", {
        "type": "split",
        "weights": {n: Fraction(h, 100) for n, h in zip(names, hundredths, strict=True)},
    }


@st.composite
def waterfalls(draw: st.DrawFn) -> tuple[str, str, list[dict[str, Any]]]:
    """(direction, section text, my own description of the steps)."""
    direction = draw(st.sampled_from(["overspend", "underspend"]))
    capped = draw(st.integers(0, 3))
    lines, steps = [], []
    for i in range(capped + 1):
        kind = "rest" if i == capped else ("first" if i == 0 else "next")
        quantity_text, cap = "", None
        if kind != "rest":
            if draw(st.booleans()):
                pence = draw(st.integers(1, 50_000_000))
                quantity_text = f"£{pence // 100:,}.{pence % 100:02d} "
                cap = ("money", pence)
            else:
                hundredths = draw(st.integers(1, 10_000))
                percent = Decimal(hundredths) / 100
                quantity_text = f"{format(percent, 'f')}% of pool "
                cap = ("percent", Fraction(hundredths, 100))
        words, alloc = draw(allocations(direction))
        lines.append(f"  {kind} {quantity_text}{words}")
        steps.append({"cap": cap, "alloc": alloc})
    other = "underspend" if direction == "overspend" else "overspend"
    text = f"{direction}:\n" + "\n".join(lines) + f"\n{other}:\n  rest by contribution"
    return direction, text, steps


def largest_remainder(amount: int, weights: dict[str, Fraction]) -> dict[str, int]:
    """My own largest-remainder split, ties to the partner first in PARTNERS."""
    names = [p for p in PARTNERS if p in weights]
    total = sum(weights[n] for n in names)
    exact = {n: amount * weights[n] / total for n in names}
    shares = {n: int(exact[n]) for n in names}  # floor: all non-negative
    left = amount - sum(shares.values())
    order = sorted(names, key=lambda n: (-(exact[n] - shares[n]), PARTNERS.index(n)))
    for n in order[:left]:
        shares[n] += 1
    return shares


def expected_settlement(
    steps: list[dict[str, Any]], variance: int, contributions: dict[str, int]
) -> tuple[dict[str, int], int]:
    total = sum(contributions.values())
    shares = {p: 0 for p in PARTNERS if p in contributions}
    carried = 0
    left = variance
    for step in steps:
        cap = step["cap"]
        if cap is None:
            take = left
        elif cap[0] == "money":
            take = min(cap[1], left)
        else:
            exact = total * cap[1] / 100
            whole = exact.numerator // exact.denominator
            take = min(whole + (1 if exact - whole >= Fraction(1, 2) else 0), left)
        left -= take
        alloc = step["alloc"]
        if alloc["type"] == "carried":
            carried += take
            continue
        if alloc["type"] == "to":
            got = {alloc["partner"]: take}
        elif alloc["type"] == "split":
            got = largest_remainder(take, alloc["weights"])
        elif alloc["type"] == "equally":
            got = largest_remainder(
                take, {p: Fraction(1) for p, v in contributions.items() if v > 0}
            )
        else:
            got = largest_remainder(
                take, {p: Fraction(v) for p, v in contributions.items() if v > 0}
            )
        for partner, pence in got.items():
            shares[partner] = shares.get(partner, 0) + pence
    return {p: shares[p] for p in PARTNERS if p in shares}, carried


_compiled: dict[str, dict[str, Any]] = {}


def compiled_section(text: str, direction: str) -> dict[str, Any]:
    if text not in _compiled:
        indented = "\n".join("      " + line for line in text.splitlines())
        ir = compile_text(_TEMPLATE.format(sections=indented), "waterfall.yaml")
        _compiled[text] = ir["pools"][0]["risk_share"][direction]
    return _compiled[text]


contributions_strategy = st.fixed_dictionaries(
    {"zed": st.integers(1, 10**11)},
    optional={"amber": st.integers(0, 10**11), "moss": st.integers(0, 10**11)},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    waterfall=waterfalls(),
    contributions=contributions_strategy,
    variance=st.one_of(st.integers(0, 200), st.integers(0, 10**11)),
)
def test_random_waterfalls_share_the_variance_exactly(
    waterfall: tuple[str, str, list[dict[str, Any]]],
    contributions: dict[str, int],
    variance: int,
) -> None:
    direction, text, steps = waterfall
    section = compiled_section(text, direction)
    ctx = YearContext(PARTNERS, contributions, "zed", lambda _d: {})
    result = settle(section, direction, variance, ctx)

    # The invariants of LANGUAGE.md §4: nothing lost or created, nobody pays a negative share.
    assert sum(result.shares.values()) + result.carried_forward == variance
    assert all(v >= 0 for v in result.shares.values())
    assert result.carried_forward >= 0
    # Every contributor and every partner a step names is listed, in `partners:` order.
    named = set(contributions)
    for step in steps:
        alloc = step["alloc"]
        if alloc["type"] == "to":
            named.add(alloc["partner"])
        if alloc["type"] == "split":
            named.update(alloc["weights"])
    assert set(result.shares) == named
    assert list(result.shares) == [p for p in PARTNERS if p in named]
    # And the figures agree with an independent reading of the waterfall.
    shares, carried = expected_settlement(steps, variance, contributions)
    assert result.carried_forward == carried
    assert {p: v for p, v in result.shares.items() if v} == {p: v for p, v in shares.items() if v}
