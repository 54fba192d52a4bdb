"""Reporting duties, dispute ladders and outcomes."""

from __future__ import annotations

from .. import model as m
from ..calendar import parse_year_label
from ..diagnostics import Diagnostic, error, warning
from .years import span_words, term_years


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for pool in agreement.pools:
        diags.extend(_reporting(pool, _bodies(agreement)))
        diags.extend(_disputes(pool))
    diags.extend(_outcomes(agreement))
    return diags


def _duration(duration: m.Duration | None) -> list[Diagnostic]:
    if duration is not None and duration.count <= 0:
        return [
            error(
                "E801",
                duration.span,
                "a time limit must be at least 1",
                "write e.g. `within 10 working days`",
            )
        ]
    return []


REGULATION_7 = (
    "regulation 7 of the NHS Bodies and Local Authorities Partnership Arrangements "
    "Regulations 2000, SI 2000/617"
)
# Words of a report's name that make it a report of the pool's money (W801): a `performance
# report` alone tells the partners nothing of income and expenditure.
FINANCIAL_WORDS = frozenset(
    {
        "finance",
        "financial",
        "income",
        "expenditure",
        "budget",
        "outturn",
        "accounts",
        "money",
        "return",
    }
)


def _bodies(agreement: m.Agreement) -> frozenset[str]:
    """Roles that are bodies of the partnership (no `partner:`): they act for the partners
    jointly, so a report to one is a report to the partners."""
    return frozenset(r.id for r in agreement.roles if r.partner is None)


def is_income_and_expenditure(duty: m.Duty, bodies: frozenset[str]) -> bool:
    """A monthly or quarterly report about the pool's money, to the partners or to a body of
    the partnership (reg 7's quarterly reports)."""
    words = set(duty.report.lower().replace("-", " ").split())
    return (
        duty.trigger is None
        and duty.cadence in ("monthly", "quarterly")
        and (duty.to.name == m.PARTNERS or duty.to.name in bodies)
        and bool(words & FINANCIAL_WORDS)
    )


def _reporting(pool: m.Pool, bodies: frozenset[str] = frozenset()) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for duty in pool.reporting:
        diags.extend(_duration(duty.deadline))
        trigger = duty.trigger
        if trigger is not None and (
            (trigger.percent is not None and trigger.percent <= 0) or trigger.pence == 0
        ):
            diags.append(
                warning(
                    "W803",
                    trigger.span,
                    "this trigger holds at any variance at all",
                    "give a threshold above zero",
                )
            )
    if "reporting" in pool.unparsed:
        return diags
    to_partners = [d.cadence for d in pool.reporting if d.to.name == m.PARTNERS and d.cadence]
    anchor = pool.clause_spans.get("reporting", pool.span)
    if not any(is_income_and_expenditure(d, bodies) for d in pool.reporting):
        diags.append(
            warning(
                "W801",
                anchor,
                f"pool `{pool.id}` has no quarterly report of income and expenditure to the partners "
                f"({REGULATION_7}: the pooled fund manager reports to the partners quarterly on "
                "the pool's income and expenditure)",
                "add e.g. `quarterly finance report to partners within 20 working days`",
            )
        )
    if "annual" not in to_partners:
        diags.append(
            warning(
                "W802",
                anchor,
                f"pool `{pool.id}` has no annual return to the partners (SI 2000/617 reg 7: an annual "
                "return of income and expenditure)",
                "add e.g. `annual return to partners within 3 months`",
            )
        )
    return diags


def _disputes(pool: m.Pool) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    stages = pool.disputes
    for expected, stage in enumerate(stages, start=1):
        if stage.number != expected:
            diags.append(
                error(
                    "E802",
                    stage.span,
                    f"dispute stage {stage.number} should be numbered {expected}",
                    "number the stages 1, 2, 3 … without gaps",
                )
            )
        diags.extend(_duration(stage.limit))
        if stage.limit is None and expected < len(stages):
            diags.append(
                error(
                    "E803",
                    stage.span,
                    f"dispute stage {stage.number} has no time limit, but only the last stage may lack one",
                    "add e.g. `within 20 working days`",
                )
            )
    return diags


def _outcomes(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    seen: dict[str, m.Outcome] = {}
    term = term_years(agreement)
    for outcome in agreement.outcomes:
        if outcome.id in seen:
            diags.append(
                error(
                    "E902",
                    outcome.id_span,
                    f"outcome `{outcome.id}` is defined twice (first on line {seen[outcome.id].span.line})",
                )
            )
        seen.setdefault(outcome.id, outcome)
        if (
            outcome.by
            and term
            and outcome.by not in term
            and parse_year_label(outcome.by) is not None
        ):
            diags.append(
                warning(
                    "W902",
                    outcome.id_span,
                    f"outcome `{outcome.id}` is due by {outcome.by}, outside the agreement's term ({span_words(term)})",
                )
            )
    return diags
