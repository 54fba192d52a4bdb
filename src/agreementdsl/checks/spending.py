"""Spending: the ladder of delegated authority ends in `above`, and every rule can apply."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .. import model as m
from ..conditions import describe_rule, rule_applies
from ..diagnostics import Diagnostic, error, warning
from ..money import format_money
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
            values[field] = [p.id for p in agreement.partners]
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


def _case_words(amount: int, in_plan: bool, row: dict[str, str]) -> str:
    words = [f"a spend of {format_money(amount)}", "within plan" if in_plan else "outside the plan"]
    words += [f"{field} {value!r}" for field, value in row.items() if not value.startswith("\x00")]
    return " ".join(words[:2]) + (f" ({', '.join(words[2:])})" if words[2:] else "")


def _shadowed(agreement: m.Agreement, pool: m.Pool) -> list[Diagnostic]:
    rules = pool.spending
    cases = _cases(agreement, pool)
    if cases is None:
        return []
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
                    catchers.setdefault(i, {})[first] = _case_words(amount, in_plan, row)
    diags = []
    for i, rule in enumerate(rules):
        if reachable[i] or i not in catchers:
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
