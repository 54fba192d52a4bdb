"""Money and years: financial-year labels, contributions, element budgets, the term covered."""

from __future__ import annotations

import re
from datetime import date

from .. import model as m
from ..calendar import FinancialYear, parse_month_day, parse_year_label, year_containing
from ..contributions import Evaluated, evaluate_contributions, evaluate_streams
from ..diagnostics import Diagnostic, error, warning
from ..money import format_money
from ..streams import check_of_which, check_profile_budgets
from .common import pool_partners


def _year_error(label: str, span: m.Span) -> Diagnostic | None:
    if parse_year_label(label) is not None or not re.fullmatch(r"[0-9]{4}/[0-9]{2}", label):
        return None  # valid, or not of the form at all (the schema reports that)
    hint = "write financial years like `2005/06`"
    head = label[:4]
    if head.isdigit() and head.isascii():
        hint = f"the year after {head} is written `{head}/{(int(head) + 1) % 100:02d}`"
    return error("E501", span, f"`{label}` is not a financial year", hint)


def term_years(agreement: m.Agreement) -> list[str]:
    """Labels of the financial years the agreement's term touches (empty when dates are bad)."""
    md = parse_month_day(agreement.financial_year_start)
    try:
        start = date.fromisoformat(agreement.commencement or "")
        end = date.fromisoformat(agreement.expiry or "")
    except ValueError:
        return []
    if md is None or end < start:
        return []
    try:
        year = year_containing(start, *md)
        last = year_containing(end, *md)
    except ValueError:
        return []  # a date at the calendar's edge (9999-12-31 as "no end")
    if last.start_year - year.start_year > 100:
        last = _last_stated_or(year, 100)
    labels = []
    while year <= last:
        labels.append(year.label)
        year = year.next()
    return labels


def _last_stated_or(first: FinancialYear, years: int) -> FinancialYear:
    """An open-ended term is looked at for its first `years` years only."""
    return FinancialYear(first.start_year + years - 1, first.start_month, first.start_day)


def _ranges(labels: list[str]) -> str:
    """`2006/07 and 2007/08`, or `2006/07 to 2010/11` for a run of more than two."""
    if len(labels) <= 2:
        return " and ".join(labels)
    return f"{labels[0]} to {labels[-1]}"


def span_words(term: list[str]) -> str:
    """`2005/06`, or `2005/06 to 2007/08`."""
    return term[0] if len(term) == 1 else f"{term[0]} to {term[-1]}"


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    fy_span = agreement.key_spans.get("agreement.financial_year_start", agreement.span)
    shaped = re.fullmatch(r"[0-9]{2}-[0-9]{2}", agreement.financial_year_start)
    if shaped and parse_month_day(agreement.financial_year_start) is None:
        diags.append(
            error(
                "E107",
                fy_span,
                f"`{agreement.financial_year_start}` is not a day of the year",
                "write it as MM-DD, like 04-01",
            )
        )
    term = term_years(agreement)
    known = {p.id for p in agreement.partners}
    for pool in agreement.pools:
        diags.extend(_pool(pool, term, known))
    for outcome in agreement.outcomes:
        if outcome.by is not None:
            problem = _year_error(outcome.by, outcome.id_span)
            if problem:
                diags.append(problem)
    return diags


def _pool(pool: m.Pool, term: list[str], known: set[str]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for year in pool.contributions:
        problem = _year_error(year.year, year.span)
        if problem:
            diags.append(problem)
    values, eval_diags = evaluate_contributions(pool)
    diags.extend(eval_diags)
    streams = {k: v.pence for k, v in evaluate_streams(pool).items()}
    diags.extend(check_of_which(pool, values, streams))
    diags.extend(check_profile_budgets(pool))
    partners = [p for p in pool_partners(pool) if p in known]
    for year in pool.contributions:
        named = {c.partner.name for c in year.contributions}
        for pid in partners:
            if pid not in named:
                diags.append(
                    error(
                        "E503",
                        year.span,
                        f"the {year.year} contributions to pool `{pool.id}` do not name `{pid}`",
                        f'every partner of the pool is named each year: add `{pid}: "£0"` if it pays nothing',
                    )
                )
        for pid, ev in values.get(year.year, {}).items():
            if ev.pence < 0:
                diags.append(
                    error(
                        "E504",
                        ev.contribution.span,
                        f"the {year.year} contribution of `{pid}` is negative ({format_money(ev.pence)})",
                        ev.working,
                    )
                )
    stated = [y.year for y in pool.contributions]
    if any(parse_year_label(y) is None for y in stated):
        return diags + _budgets(pool, values)  # a mislabelled year is reported; do not guess
    missing = [label for label in term if label not in stated]
    if missing:
        plural = "years" if len(missing) > 1 else "a year"
        diags.append(
            warning(
                "W501",
                pool.clause_spans.get("contributions", pool.span),
                f"pool `{pool.id}` states no contributions for {_ranges(missing)}, {plural} of the agreement's term",
                "`run` will report no budget or settlement for such a year until a variation states it",
            )
        )
    if term:
        for year in pool.contributions:
            if year.year not in term:
                diags.append(
                    warning(
                        "W502",
                        year.span,
                        f"pool `{pool.id}` states contributions for {year.year}, outside the agreement's term ({span_words(term)})",
                        "check the year, or the agreement's commencement and expiry",
                    )
                )
    diags.extend(_budgets(pool, values))
    return diags


def _budgets(pool: m.Pool, values: dict[str, dict[str, Evaluated]]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    stated = {y.year for y in pool.contributions}
    for budget in pool.budgets:
        problem = _year_error(budget.year, budget.span)
        if problem:
            diags.append(problem)
            continue
        if budget.year not in stated:
            diags.append(
                error(
                    "E505",
                    budget.span,
                    f"pool `{pool.id}` gives budgets for {budget.year} but no contributions",
                    "state the year's contributions, or remove its budgets",
                )
            )
            continue
        amounts = [p for _, p in budget.budgets]
        year_values = list(values.get(budget.year, {}).values())
        contributions = next(y for y in pool.contributions if y.year == budget.year)
        if None in amounts or len(year_values) != len(contributions.contributions):
            continue  # a value is malformed and already reported
        total = sum(v.pence for v in year_values)
        budgeted = sum(p for p in amounts if p is not None)
        if budgeted != total:
            diff = budgeted - total
            words = "more" if diff > 0 else "less"
            diags.append(
                error(
                    "E505",
                    budget.span,
                    f"the {budget.year} element budgets total {format_money(budgeted)}, "
                    f"{format_money(abs(diff))} {words} than the year's contributions of {format_money(total)}",
                    "element budgets divide the pool exactly",
                )
            )
    return diags
