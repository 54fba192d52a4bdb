"""Reporting duties, dispute ladders and outcomes."""

from __future__ import annotations

from .. import model as m
from ..calendar import parse_year_label
from ..diagnostics import Diagnostic, error, warning
from .years import span_words, term_years


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for pool in agreement.pools:
        diags.extend(_reporting(pool))
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


def _reporting(pool: m.Pool) -> list[Diagnostic]:
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
    if not any(c in ("monthly", "quarterly") for c in to_partners):
        diags.append(
            warning(
                "W801",
                anchor,
                f"pool `{pool.id}` has no quarterly report to the partners (SI 2000/617 reg 7: the "
                "pooled fund manager reports to the partners quarterly)",
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
