"""Spending: the ladder of delegated authority ends in `above`, and every rule can apply."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .. import model as m
from ..conditions import describe_rule, rule_applies
from ..diagnostics import Diagnostic, error, warning
from ..money import format_money
from .common import pool_partners
from .references import comparisons

MAX_CASES = 50_000  # beyond this many field combinations the shadowing check is skipped


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for pool in agreement.pools:
        rules = pool.spending
        if not rules or "spending" in pool.unparsed:
            continue
        last = rules[-1]
        if not (last.limit is None and last.unconditional):
            diags.append(
                error(
                    "E701",
                    last.span,
                    "the last spending rule must be an unconditional `above`, so that every spend has an approver",
                    "end the clause with a line like `above: executives`",
                )
            )
        diags.extend(_shadowed(agreement, pool))
    return diags


def _amounts(rules: tuple[m.SpendingRule, ...]) -> list[int]:
    points = {1}
    for rule in rules:
        if rule.limit is not None:
            points.update({rule.limit, rule.limit + 1})
    return sorted(p for p in points if p > 0)


def _field_values(agreement: m.Agreement, pool: m.Pool) -> dict[str, list[str]]:
    """A representative value for every way a field can matter to the conditions."""
    used: dict[str, set[str]] = {}
    for rule in pool.spending:
        if rule.where is not None:
            for comp in comparisons(rule.where):
                used.setdefault(comp.field.name, set()).update(v.name for v in comp.values)
    values: dict[str, list[str]] = {}
    for field, literals in used.items():
        if field == "element":
            values[field] = [e.id for e in pool.elements] or [""]
        elif field == "partner":
            own = {*pool_partners(pool), *(e.partner.name for e in pool.elements)}
            values[field] = [p.id for p in agreement.partners if p.id in own] or [
                p.id for p in agreement.partners
            ]
        elif field == "kind":
            values[field] = ["spend"]
        else:
            values[field] = [*sorted(literals), "", "\x00another"]
    return values


def _cases(
    agreement: m.Agreement, pool: m.Pool
) -> Iterator[tuple[int, bool, dict[str, str]]] | None:
    values = _field_values(agreement, pool)
    amounts = _amounts(pool.spending)
    size = len(amounts) * 2
    for options in values.values():
        size *= max(1, len(options))
    if size > MAX_CASES:
        return None
    fields = list(values)

    def generate() -> Iterator[tuple[int, bool, dict[str, str]]]:
        for combo in itertools.product(*(values[f] for f in fields)):
            row = dict(zip(fields, combo, strict=True))
            for amount in amounts:
                for in_plan in (True, False):
                    yield amount, in_plan, row

    return generate()


def _case_words(amount: int, in_plan: bool | None, row: dict[str, str]) -> str:
    words = f"a spend of {format_money(amount)}"
    if in_plan is not None:
        words += " within plan" if in_plan else " not within plan"
    fields = [f"{field} `{value}`" for field, value in row.items() if not value.startswith("\x00")]
    return words + (f" ({', '.join(fields)})" if fields else "")


def _shadowed(agreement: m.Agreement, pool: m.Pool) -> list[Diagnostic]:
    rules = pool.spending
    cases = _cases(agreement, pool)
    if cases is None:
        return []
    uses_plan = any(r.within_plan for r in rules)
    reachable = [False] * len(rules)
    catchers: dict[int, dict[int, str]] = {}  # rule -> earlier rule -> a case it takes
    for amount, in_plan, row in cases:
        first = None
        for i, rule in enumerate(rules):
            if rule_applies(rule, amount, in_plan, row):
                if first is None:
                    first = i
                    reachable[i] = True
                else:
                    plan = in_plan if uses_plan else None
                    catchers.setdefault(i, {})[first] = _case_words(amount, plan, row)
    diags = []
    for i, rule in enumerate(rules):
        if reachable[i]:
            diags.extend(_narrowed(rules, i, catchers.get(i, {})))
            continue
        if rule.limit is not None and rule.limit == 0:
            diags.append(
                warning(
                    "W702",
                    rule.span,
                    "a limit of £0 covers no spend: spends of £0 or less need no approval",
                    "give the rule a limit above £0",
                )
            )
            continue
        if i not in catchers:
            if _names_unknown(agreement, pool, rule):
                continue  # the unknown name is the error, reported by the reference check
            diags.append(
                warning(
                    "W701",
                    rule.span,
                    "this spending rule can never apply: its condition never holds for a spend of this pool",
                    "check the condition's names and `and`/`or`",
                )
            )
            continue
        earlier = sorted(catchers[i])
        names = " or ".join(
            f"`{describe_rule(rules[j])}` (line {rules[j].span.line})" for j in earlier
        )
        example = catchers[i][earlier[-1]]
        diags.append(
            warning(
                "W701",
                rule.span,
                f"this spending rule can never apply: every spend it covers is caught first by {names}; "
                f"for example {example} goes to line {rules[earlier[-1]].span.line}",
                "put narrower limits and conditions before wider ones",
            )
        )
    return diags


def _narrowed(
    rules: tuple[m.SpendingRule, ...], i: int, caught: dict[int, str]
) -> list[Diagnostic]:
    """A conditional rule after a broader one: it only ever sees spends outside that one's condition.

    The earlier rule covers every amount this one does, so what this rule was written for is
    taken first whenever the earlier rule's condition also holds (LANGUAGE.md §5: first rule wins).
    """
    rule = rules[i]
    if rule.unconditional:
        return []

    def covers_all(limit: int | None) -> bool:
        return limit is None or (rule.limit is not None and limit >= rule.limit)

    broader = [j for j in sorted(caught) if covers_all(rules[j].limit)]
    if not broader:
        return []
    j = broader[0]
    earlier = rules[j]
    return [
        warning(
            "W705",
            rule.span,
            f"this rule is reached only by spends that `{describe_rule(earlier)}` (line "
            f"{earlier.span.line}) does not take: for example {caught[j]} goes to line "
            f"{earlier.span.line}, not here",
            f"if this rule is meant for every spend it describes, put it before line {earlier.span.line}",
        )
    ]


def _names_unknown(agreement: m.Agreement, pool: m.Pool, rule: m.SpendingRule) -> bool:
    """Whether the rule's condition names an element, partner, kind or field that does not exist."""
    if rule.where is None:
        return False
    domains = {
        "element": {e.id for e in pool.elements},
        "partner": {p.id for p in agreement.partners},
        "kind": {"spend", "income", "contribution", "forecast"},
    }
    for comp in comparisons(rule.where):
        if comp.field.name not in ("element", "partner", "kind", "supplier", "category"):
            return True
        domain = domains.get(comp.field.name)
        if domain is not None and any(
            (not q or comp.field.name == "element") and v.name not in domain
            for v, q in zip(comp.values, comp.quoted, strict=True)
        ):
            return True
    return False
