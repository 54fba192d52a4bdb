"""`by own elements`: each partner bears the variance of the elements named against it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agreementdsl import load_source
from agreementdsl.source import SourceFile
from engine_support import compile_text, pool_of, run_json

BASE = (Path(__file__).resolve().parent / "defects" / "baseline.yaml").read_text("utf-8")


def _agreement(overspend: str) -> str:
    text = BASE.replace(
        "      nhs: { name: NHS services, partner: pct }\n",
        "      nhs: { name: NHS services, partner: pct }\n"
        "      nhs2: { name: NHS placements, partner: pct }\n",
    ).replace(
        '      2005/06: { pct: "£1,000,000", council: "£500,000" }\n',
        '      2005/06: { pct: "£1,000,000", council: "£500,000" }\n'
        "    budgets:\n"
        '      2005/06: { nhs: "£600,000", nhs2: "£400,000", care: "£500,000" }\n',
    )
    old = "      overspend:\n        first £100,000 to host\n        rest by contribution\n"
    assert text.count(old) == 1
    return text.replace(old, "      overspend:\n" + overspend)


# nhs £100,000 over, nhs2 £60,000 under (both the PCT's), care £30,000 over (the council's):
# the pool is £70,000 over.
ROWS = [
    ["2005-06-01", "mh", "nhs", "spend", "700000.00", "board"],
    ["2005-06-01", "mh", "nhs2", "spend", "340000.00", "board"],
    ["2005-06-01", "mh", "care", "spend", "530000.00", "board"],
]


def _settle(overspend: str, tmp_path: Path) -> dict[str, Any]:
    ir = compile_text(_agreement(overspend), "own.yaml")
    header = ["date", "pool", "element", "kind", "amount", "approved_by"]
    data = run_json(ir, tmp_path, ROWS, date(2006, 3, 31), header)
    return pool_of(data, "mh")


def test_net_each_partner_bears_its_own_net_overspend(tmp_path: Path) -> None:
    pool = _settle(
        "        first £1,000,000 by own elements net\n        rest by contribution\n", tmp_path
    )
    assert pool["variance"] == {"kind": "overspend", "amount": "70000.00"}
    # PCT: £100,000 over less £60,000 under = £40,000; council £30,000: exactly the £70,000
    assert pool["settlement"]["shares"] == {"pct": "40000.00", "council": "30000.00"}


def test_gross_ignores_underspent_elements_and_scales_to_what_is_left(tmp_path: Path) -> None:
    pool = _settle(
        "        first £1,000,000 by own elements gross\n        rest by contribution\n", tmp_path
    )
    # parts £100,000 : £30,000 exceed the £70,000 overspend, so they are scaled to it:
    # 7,000,000p × 100/130 = 5,384,615.38p, × 30/130 = 1,615,384.62p → the spare penny to the
    # council (the larger remainder): PCT £53,846.15, council £16,153.85
    assert pool["settlement"]["shares"] == {"pct": "53846.15", "council": "16153.85"}


def test_a_tier_caps_the_own_parts_and_rest_shares_the_remainder(tmp_path: Path) -> None:
    pool = _settle(
        "        first £50,000 by own elements\n        rest by contribution\n", tmp_path
    )
    # net parts £40,000 : £30,000 capped at £50,000: 5,000,000p × 4/7 = 2,857,142.86p (PCT),
    # × 3/7 = 2,142,857.14p → the penny to the PCT: £28,571.43 and £21,428.57. The rest,
    # £20,000, by contribution 2 : 1: £13,333.33 and £6,666.67 (the penny to the council).
    assert pool["settlement"]["shares"] == {"pct": "41904.76", "council": "28095.24"}


def test_rest_by_own_elements_is_an_error() -> None:
    loaded = load_source(SourceFile("own.yaml", _agreement("        rest by own elements\n")))
    assert [d.code for d in loaded.errors] == ["E612"]


@pytest.mark.parametrize("written", ["by own elements", "by own elements net"])
def test_net_is_the_default_and_the_text_is_canonical(written: str) -> None:
    ir = compile_text(_agreement(f"        first £10 {written}\n        rest by contribution\n"))
    step = ir["pools"][0]["risk_share"]["overspend"]["steps"][0]
    assert step["allocation"] == {"type": "by-own-elements", "basis": "net"}
    assert step["text"] == "first £10 by own elements net"


def test_the_schedule_drafts_it() -> None:
    from agreementdsl.render import build_document
    from agreementdsl.render.writers import render_markdown

    ir = compile_text(
        _agreement("        first £10 by own elements gross\n        rest by contribution\n")
    )
    md = render_markdown(build_document(ir))
    assert (
        "shall be borne by each Partner as to the Overspend on the Elements named against it" in md
    )
    assert "disregarding any Underspend on its other Elements" in md


def test_after_own_elements_each_band_is_what_is_left() -> None:
    """A `by own elements` step may take less than its band; the engine gives each later step
    what is left (up to its own amount), and the schedule says so, never 'as exceeds £X'."""
    from agreementdsl.render import build_document
    from agreementdsl.render.writers import render_markdown

    ir = compile_text(
        _agreement(
            "        first 100% of pool by own elements net\n"
            "        next £50,000 to host\n"
            "        rest by contribution\n"
        )
    )
    md = render_markdown(build_document(ir))
    assert (
        "The Host Partner shall bear so much of what is left of any Overspend after the "
        "paragraphs before this one as does not exceed £50,000"
    ) in md
    assert "So much of any Overspend as is left after the paragraphs before this one" in md
    assert "as exceeds 100 per cent" not in md
