"""Evaluating spending conditions (`where element is respite and ...`) on a transaction."""

from __future__ import annotations

from collections.abc import Mapping

from . import model as m
from .money import format_money


def holds(condition: m.Condition, fields: Mapping[str, str]) -> bool:
    """Whether the condition holds for a transaction's fields (an absent field is "")."""
    if isinstance(condition, m.Comparison):
        value = fields.get(condition.field.name, "")
        found = any(value == v.name for v in condition.values)
        return found != condition.negated
    if isinstance(condition, m.Not):
        return not holds(condition.operand, fields)
    if isinstance(condition, m.All):
        return all(holds(c, fields) for c in condition.operands)
    return any(holds(c, fields) for c in condition.operands)


def rule_applies(
    rule: m.SpendingRule, amount: int, in_plan: bool, fields: Mapping[str, str]
) -> bool:
    """Whether a spending rule covers a spend of `amount` pence with these fields."""
    if rule.limit is not None and amount > rule.limit:
        return False
    if rule.within_plan and not in_plan:
        return False
    return rule.where is None or holds(rule.where, fields)


def describe(condition: m.Condition) -> str:
    """The condition in the clause's own words."""
    if isinstance(condition, m.Comparison):
        values = [
            f'"{v.name}"' if q else v.name
            for v, q in zip(condition.values, condition.quoted, strict=True)
        ]
        if len(values) == 1 and not condition.negated:
            return f"{condition.field.name} is {values[0]}"
        if len(values) == 1:
            return f"{condition.field.name} is not {values[0]}"
        op = "not in" if condition.negated else "in"
        return f"{condition.field.name} {op} [{', '.join(values)}]"
    if isinstance(condition, m.Not):
        return f"not ({describe(condition.operand)})"
    joiner = " and " if isinstance(condition, m.All) else " or "
    return joiner.join(
        f"({describe(c)})" if isinstance(c, m.All | m.AnyOf) else describe(c)
        for c in condition.operands
    )


def describe_rule(rule: m.SpendingRule) -> str:
    """A spending rule as it is written: `up to £50,000 within plan: mh-manager`."""
    words = [
        "above" if rule.limit is None else f"up to {format_money(rule.limit, always_pence=False)}"
    ]
    if rule.within_plan:
        words.append("within plan")
    if rule.where is not None:
        words.append(f"where {describe(rule.where)}")
    return f"{' '.join(words)}: {' and '.join(a.name for a in rule.approvers)}"
