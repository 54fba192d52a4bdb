"""Spending: the ladder of delegated authority ends in `above`, and every rule can apply."""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from typing import Any

from .. import model as m
from ..conditions import describe_rule, holds
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


def _combos(agreement: m.Agreement, pool: m.Pool) -> list[dict[str, str]] | None:
    """Every combination of representative field values (None: too many cases to try)."""
    values = _field_values(agreement, pool)
    size = len(_amounts(pool.spending)) * 2
    for options in values.values():
        size *= max(1, len(options))
    if size > MAX_CASES:
        return None
    fields = list(values)
    return [
        dict(zip(fields, combo, strict=True))
        for combo in itertools.product(*(values[f] for f in fields))
    ]


def _case_words(amount: int, in_plan: bool | None, row: dict[str, str]) -> str:
    words = f"a spend of {format_money(amount)}"
    if in_plan is not None:
        words += " within plan" if in_plan else " not within plan"
    fields = [f"{field} `{value}`" for field, value in row.items() if not value.startswith("\x00")]
    return words + (f" ({', '.join(fields)})" if fields else "")


NO_LIMIT = 10**40  # pence: more than any amount (an `above` rule's limit)


def _limit(rule: m.SpendingRule) -> int:
    """The rule's limit in pence; an `above` rule has none (NO_LIMIT)."""
    return NO_LIMIT if rule.limit is None else rule.limit


def _records(rules: tuple[m.SpendingRule, ...], held: list[int]) -> tuple[list[int], list[int]]:
    """Of the rules whose condition holds (`held`, in order), those that are first for some
    amount: each covers more than every rule before it. (Their limits, ascending; their indexes.)

    The first rule for an amount is then the first of these whose limit reaches it.
    """
    limits: list[int] = []
    indexes: list[int] = []
    for i in held:
        limit = _limit(rules[i])
        if limit > (limits[-1] if limits else 0):
            limits.append(limit)
            indexes.append(i)
            if limit == NO_LIMIT:
                break
    return limits, indexes


def _shadowed(agreement: m.Agreement, pool: m.Pool) -> list[Diagnostic]:
    """W701/W702 for rules no spend reaches, with the rules that catch their spends first.

    Every combination of field values and within-plan is tried, over every amount where a limit
    starts or ends. For one combination only the limits matter, so the rule that is first for an
    amount is found among the ladder of ever higher limits (`_records`): the work grows with
    combinations times rules, not combinations times amounts times rules.
    """
    rules = pool.spending
    combos = _combos(agreement, pool)
    if combos is None:
        return []
    amounts = _amounts(rules)
    uses_plan = any(r.within_plan for r in rules)
    reachable = [False] * len(rules)
    ladders = []
    for c, row in enumerate(combos):
        for in_plan in (True, False):
            held = [
                i
                for i, r in enumerate(rules)
                if (in_plan or not r.within_plan) and (r.where is None or holds(r.where, row))
            ]
            limits, indexes = _records(rules, held)
            for i in indexes:
                reachable[i] = True
            ladders.append((c, in_plan, row, held, limits, indexes))
    # rule -> earlier rules that take its spends first; and (first, when, case) of the last case
    # taken by the latest such rule, the example the warning gives
    catchers: dict[int, set[int]] = {}
    example: dict[int, tuple[int, tuple[int, int, bool], tuple[int, bool, dict[str, str]]]] = {}
    for c, in_plan, row, held, limits, indexes in ladders:
        for i in held:
            if reachable[i]:
                continue
            limit = _limit(rules[i])
            reach = [j for j in range(bisect_left(limits, limit) + 1) if j < len(indexes)]
            reach = [j for j in reach if indexes[j] < i]
            for j in reach:
                top = min(limits[j], limit)
                pick = bisect_right(amounts, top) - 1
                if pick < 0 or (j > 0 and amounts[pick] <= limits[j - 1]):
                    continue
                first, amount = indexes[j], amounts[pick]
                catchers.setdefault(i, set()).add(first)
                key = (first, (c, amount, not in_plan), (amount, in_plan, row))
                if i not in example or key[:2] > example[i][:2]:
                    example[i] = key
    diags = []
    for i, rule in enumerate(rules):
        if reachable[i]:
            diags.extend(_narrowed(rules, i, ladders, amounts, uses_plan))
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
        amount, in_plan, row = example[i][2]
        case = _case_words(amount, in_plan if uses_plan else None, row)
        diags.append(
            warning(
                "W701",
                rule.span,
                f"this spending rule can never apply: every spend it covers is caught first by {names}; "
                f"for example {case} goes to line {rules[earlier[-1]].span.line}",
                "put narrower limits and conditions before wider ones",
            )
        )
    return diags


def _narrowed(
    rules: tuple[m.SpendingRule, ...],
    i: int,
    ladders: list[tuple[Any, ...]],
    amounts: list[int],
    uses_plan: bool,
) -> list[Diagnostic]:
    """W705: a conditional rule after a broader one, which takes first the spends both describe.

    The earlier rule covers every amount this one does and its condition is not a special case
    of this one's (a narrower rule put first on purpose): so this rule only ever sees the spends
    the earlier rule's condition turns away (LANGUAGE.md §5: the first rule that applies wins).
    """
    rule = rules[i]
    if rule.unconditional:
        return []
    top = _limit(rule)
    for j in range(i):
        earlier = rules[j]
        if _limit(earlier) < top:
            continue
        both = [lad for lad in ladders if i in lad[3] and j in lad[3]]
        special_case = all(i in lad[3] for lad in ladders if j in lad[3])
        if not both or special_case:
            continue
        _, in_plan, row, *_ = both[0]
        amount = top if top != NO_LIMIT else amounts[-1]
        case = _case_words(amount, in_plan if uses_plan else None, row)
        return [
            warning(
                "W705",
                rule.span,
                f"this rule is reached only by spends that `{describe_rule(earlier)}` (line "
                f"{earlier.span.line}) does not take: for example {case} goes to line "
                f"{earlier.span.line}, not here",
                f"if this rule is meant for every spend it describes, put it before line {earlier.span.line}",
            )
        ]
    return []


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
