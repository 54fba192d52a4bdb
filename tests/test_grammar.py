"""The clause grammar: every form parses to the model; errors say what was expected, in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agreementdsl import model as m
from agreementdsl.grammar import ClauseText, build_clause


def _clause(kind: str, text: str) -> tuple[object, list[str]]:
    result, diags = build_clause(kind, ClauseText(text, "t.yaml", lambda line, col: (line, col)))
    return result, [f"{d.span.line}:{d.span.col} {d.code} {d.message}" for d in diags]


def test_contribution_forms() -> None:
    assert _clause("contribution", "£13,300,000")[0] == m.FixedAmount(1_330_000_000)
    assert _clause("contribution", "prior year")[0] == m.Relative(None, 1)
    assert _clause("contribution", "prior year + 2.5%")[0] == m.Relative(
        None, 1, percent=Decimal("2.5")
    )
    assert _clause("contribution", "prior year - £100,000")[0] == m.Relative(
        None, -1, pence=10_000_000
    )
    assert _clause("contribution", "2005/06 + 2.5%")[0] == m.Relative(
        "2005/06", 1, percent=Decimal("2.5")
    )


def test_risk_share_sections_and_steps() -> None:
    sections, errors = _clause(
        "risk_share",
        "overspend:\n  first £280,000 to host\n  next £500,000 split hpct 60%, hc 40%\n  rest by contribution\n"
        "underspend:\n  first 5% of pool carried forward\n  next £1k equally\n  rest by element\n",
    )
    assert errors == []
    assert isinstance(sections, list)
    over, under = sections
    assert [s.kind for s in over.steps] == ["first", "next", "rest"]
    assert over.steps[0].quantity == 28_000_000
    assert over.steps[0].allocation == m.ToPartner(
        m.Named("host", over.steps[0].allocation.partner.span)
    )
    split = over.steps[1].allocation
    assert isinstance(split, m.Split)
    assert [(n.name, p) for n, p in split.shares] == [("hpct", Decimal(60)), ("hc", Decimal(40))]
    assert under.steps[0].quantity == m.PoolPercent(Decimal(5))
    assert isinstance(under.steps[0].allocation, m.CarriedForward)
    assert isinstance(under.steps[1].allocation, m.Equally)
    assert isinstance(under.steps[2].allocation, m.ByElement)


def test_spending_conditions_bind_not_then_and_then_or() -> None:
    rules, errors = _clause(
        "spending",
        'up to £10,000 where element is respite or not supplier is "Acme" and category in [a, "b c"]: x\nabove: y\n',
    )
    assert errors == []
    assert isinstance(rules, list)
    where = rules[0].where
    assert isinstance(where, m.AnyOf)
    left, right = where.operands
    assert isinstance(left, m.Comparison) and left.field.name == "element"
    assert isinstance(right, m.All)
    assert isinstance(right.operands[0], m.Not)
    values = right.operands[1]
    assert isinstance(values, m.Comparison)
    assert [v.name for v in values.values] == ["a", "b c"]
    assert values.quoted == (False, True)


def test_within_plan_and_where_together() -> None:
    rules, errors = _clause("spending", "up to £1k within plan where element is x: m\nabove: b\n")
    assert errors == []
    assert isinstance(rules, list)
    assert rules[0].within_plan and rules[0].where is not None


def test_reporting_report_names() -> None:
    duties, errors = _clause(
        "reporting",
        "monthly finance report to board within 10 working days\n"
        "annual return to partners within 3 months\n"
        "when forecast overspend exceeds 2%: exception report to board within 5 working days\n"
        "when overspend exceeds £50k: urgent notice to partners within 1 week\n",
    )
    assert errors == []
    assert isinstance(duties, list)
    assert [d.report for d in duties] == [
        "finance report",
        "annual return",
        "exception report",
        "urgent notice",
    ]
    assert duties[2].trigger == m.Trigger(
        True, "overspend", Decimal(2), None, duties[2].trigger.span
    )
    assert duties[3].trigger is not None and duties[3].trigger.pence == 5_000_000
    assert duties[0].deadline.unit == "working_days" and duties[3].deadline.unit == "weeks"


def test_dispute_holders() -> None:
    stages, errors = _clause(
        "disputes",
        "1. mh-manager within 10 working days\n2. mediation by the Centre for Effective Dispute Resolution within 20 days\n"
        "3. expert determination\n",
    )
    assert errors == []
    assert isinstance(stages, list)
    assert [s.holder_text for s in stages] == [
        "mh-manager",
        "mediation by the Centre for Effective Dispute Resolution",
        "expert determination",
    ]
    assert stages[2].limit is None


def test_comments_and_blank_lines_are_ignored() -> None:
    rules, errors = _clause(
        "spending", "\n# delegated authority\nup to £5k: a  # the manager\n\nabove: b\n"
    )
    assert errors == []
    assert isinstance(rules, list) and len(rules) == 2


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (
            "spending",
            "up to 25000: board\nabove: x\n",
            "1:7 E201 unexpected `25000` in spending; expected an amount such as `£50,000`",
        ),
        (
            "spending",
            "below £4: x\nabove: y\n",
            "1:1 E201 unexpected `below` in spending; expected `above` or `up to`",
        ),
        (
            "reporting",
            "monthly report to board within 10 work days\n",
            "1:35 E201 unexpected `work` in reporting",
        ),
        (
            "disputes",
            "1 board within 5 days\n",
            "1:3 E201 unexpected `board` in disputes; expected `.`",
        ),
        ("contribution", "£0.005", "1:1 E502 `£0.005` is not a whole number of pence"),
    ],
)
def test_syntax_errors_name_what_was_expected(kind: str, text: str, expected: str) -> None:
    _, errors = _clause(kind, text)
    assert errors and errors[0].startswith(expected)


def test_every_bad_line_is_reported() -> None:
    _, errors = _clause("spending", "up to 5: a\nup to £5k: B\nabove: c\n")
    assert [e.split()[0] for e in errors] == ["1:7", "2:12"]


def test_only_named_approvers_ends_a_spending_clause() -> None:
    items, errors = _clause(
        "spending", "up to £1,000: manager\nabove: board\nonly   named approvers\n"
    )
    assert errors == []
    assert isinstance(items, list)
    assert [type(i) for i in items] == [m.SpendingRule, m.SpendingRule, m.OnlyNamed]
    _, errors = _clause("spending", "up to £1,000: manager\nonly named approvers\nabove: board\n")
    # after `only named approvers` only the closing line on unapproved spend may follow
    assert errors == [
        "3:1 E201 unexpected `above` in spending; expected `unapproved spend: borne by the partner`"
    ]


def test_unapproved_spend_borne_by_the_partner_closes_a_spending_clause() -> None:
    items, errors = _clause(
        "spending",
        "up to £1,000: manager\nabove: board\nonly named approvers\n"
        "unapproved spend:  borne by the partner\n",
    )
    assert errors == []
    assert isinstance(items, list)
    assert [type(i) for i in items] == [
        m.SpendingRule,
        m.SpendingRule,
        m.OnlyNamed,
        m.BorneByPartner,
    ]
    items, errors = _clause("spending", "above: board\nunapproved spend: borne by the partner\n")
    assert errors == []
    assert isinstance(items, list)
    assert [type(i) for i in items] == [m.SpendingRule, m.BorneByPartner]
    _, errors = _clause("spending", "above: board\nunapproved spend: borne by partner\n")
    assert errors == ["2:28 E201 unexpected `partner` in spending; expected `the`"]
