"""Regulation 7's quarterly income-and-expenditure report (W801) and the lint that no partner is
returned an underspend it never contributed to (W604)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agreementdsl import load_source
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")
QUARTERLY = "      quarterly finance report to partners within 1 month\n"


def codes(text: str, code: str) -> list[str]:
    loaded = load_source(SourceFile("a.yaml", text))
    assert loaded.ok, [d.message for d in loaded.errors]
    return [d.message for d in loaded.diagnostics if d.code == code]


@pytest.mark.parametrize(
    ("duty", "warned"),
    [
        ("quarterly finance report to partners within 1 month", False),
        ("monthly income and expenditure report to partners within 10 working days", False),
        ("quarterly budget monitoring report to partners within 20 working days", False),
        # activity, not money
        ("quarterly performance report to partners within 1 month", True),
        ("quarterly financial return to partners within 20 working days", False),
        # money, but to an officer of one partner
        ("quarterly finance report to manager within 1 month", True),
        # money to the partners, but only yearly
        ("annual finance report to partners within 3 months", True),
        # only when a trigger holds: not a quarterly report
        ("when overspend exceeds 2%: finance report to partners within 5 working days", True),
    ],
)
def test_reg_7_asks_a_quarterly_report_of_income_and_expenditure(duty: str, warned: bool) -> None:
    text = BASELINE.replace(QUARTERLY, f"      {duty}\n")
    messages = codes(text, "W801")
    assert bool(messages) is warned
    if warned:
        assert messages == [
            "pool `mh` has no quarterly report of income and expenditure to the partners "
            "(regulation 7 of the NHS Bodies and Local Authorities Partnership Arrangements "
            "Regulations 2000, SI 2000/617: the pooled fund manager reports to the partners "
            "quarterly on the pool's income and expenditure)"
        ]


@pytest.mark.parametrize(
    "duty",
    [
        "quarterly finance report to board within 1 month",
        "monthly finance report to board within 10 working days",
    ],
)
def test_a_report_to_the_board_alone_does_not_meet_reg_7(duty: str) -> None:
    # Regulation 7(4) and (5): the pooled fund manager reports to the partners themselves; the
    # Board (a body of the partnership) may also receive the report, but not instead of them.
    text = BASELINE.replace(QUARTERLY, f"      {duty}\n")
    cadence = duty.split()[0]
    assert codes(text, "W801") == [
        f"pool `mh`'s only {cadence} report of income and expenditure goes to the Partnership "
        "Board (`board`), not to the partners: a report to a body of the partnership alone does "
        "not meet regulation 7 of the NHS Bodies and Local Authorities Partnership Arrangements "
        "Regulations 2000, SI 2000/617 (paragraphs (4) and (5): the pooled fund manager reports "
        "to the partners quarterly on the pool's income and expenditure)"
    ]
    both = BASELINE.replace(
        QUARTERLY, f"      {duty}\n      quarterly finance report to partners within 1 month\n"
    )
    assert codes(both, "W801") == []


def test_the_examples_meet_reg_7() -> None:
    # Each pool sends a quarterly finance report to the partners themselves; the monthly finance
    # reports to the Board are kept beside it.
    for name in ("herefordshire", "durham-ld", "bcf-wealdshire"):
        text = (ROOT / "agreements" / f"{name}.yaml").read_text("utf-8")
        assert codes(text, "W801") == [], name


def with_underspend(steps: str, council: str = "£0") -> str:
    text = BASELINE.replace('council: "£500,000"', f'council: "{council}"')
    old = "      underspend:\n        rest by contribution\n"
    assert old in text
    return text.replace(old, "      underspend:\n" + steps)


def test_a_step_to_a_partner_that_paid_nothing_in_is_warned_naming_partner_and_year() -> None:
    text = with_underspend("        first £10,000 to council\n        rest by contribution\n")
    assert codes(text, "W604") == [
        "this underspend step can return money to `council` through `to council`, but "
        "`council` contributes nothing to pool `mh` in 2005/06"
    ]


def test_the_same_step_is_clean_when_the_partner_contributes() -> None:
    text = with_underspend("        first £10,000 to council\n        rest by contribution\n", "£1")
    assert codes(text, "W604") == []


def test_a_split_share_and_an_element_reach_a_partner_that_paid_nothing() -> None:
    text = with_underspend(
        "        first £10,000 split pct 70%, council 30%\n        rest by contribution\n"
    )
    assert codes(text, "W604") == [
        "this underspend step can return money to `council` through its 30% of the split, but "
        "`council` contributes nothing to pool `mh` in 2005/06"
    ]
    text = with_underspend(
        "        first 100% of pool by own elements\n        rest by contribution\n"
    )
    text = text.replace(
        "    risk_share: |",
        '    budgets:\n      2005/06: { nhs: "£1,000,000", care: "£0" }\n    risk_share: |',
    )
    assert codes(text, "W604") == [
        "this underspend step can return money to `council` through `by own elements` "
        "(element `care`), but `council` contributes nothing to pool `mh` in 2005/06"
    ]


def test_by_contribution_equally_and_carried_forward_never_warn() -> None:
    for steps in (
        "        rest by contribution\n",
        "        rest equally\n",
        "        first £5,000 carried forward\n        rest to host\n",
    ):
        assert codes(with_underspend(steps), "W604") == []


def test_an_overspend_step_to_a_partner_that_paid_nothing_is_not_this_lint() -> None:
    text = BASELINE.replace('council: "£500,000"', 'council: "£0"').replace(
        "        first £100,000 to host\n", "        first £100,000 to council\n"
    )
    assert codes(text, "W604") == []


def test_the_bcf_example_no_longer_returns_the_dfg_underspend_to_the_districts() -> None:
    text = (ROOT / "agreements" / "bcf-wealdshire.yaml").read_text("utf-8")
    assert codes(text, "W604") == []
    # as it was drafted: the districts, who pay nothing in, were returned the county's grant
    old = text.replace(
        "      underspend:\n        rest carried forward\n",
        "      underspend:\n        rest by element\n",
    )
    assert old != text
    partners = sorted(m.split("`")[1] for m in codes(old, "W604"))
    assert partners == ["ashdown", "chartwell", "hollowmere"]
