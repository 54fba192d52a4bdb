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
    if agreement.provisions is not None:  # drafted whole: see `to_the_board_only`
        diags.extend(to_the_board_only(agreement))
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


def _bodies(agreement: m.Agreement) -> dict[str, str]:
    """Roles that are bodies of the partnership (no `partner:`), by id, with their titles."""
    return {r.id: r.title for r in agreement.roles if r.partner is None}


def is_income_and_expenditure(duty: m.Duty) -> bool:
    """A periodic (monthly or quarterly) report about the pool's money, to whomever it goes."""
    words = set(duty.report.lower().replace("-", " ").split())
    return (
        duty.trigger is None
        and duty.cadence in ("monthly", "quarterly")
        and bool(words & FINANCIAL_WORDS)
    )


def meets_regulation_7(duty: m.Duty) -> bool:
    """Regulation 7's quarterly report of income and expenditure: sent to the partners
    themselves, at least quarterly. A report to a body of the partnership (the Board) does not
    meet it, even though the partners sit on that body: the regulation says "to the partners"."""
    return is_income_and_expenditure(duty) and duty.to.name == m.PARTNERS


def to_the_board_only(agreement: m.Agreement) -> list[Diagnostic]:
    """W801 for each pool whose only periodic report of income and expenditure goes to a body
    of the partnership (the Board), not to the partners as regulation 7 requires.

    Like W410 (checks/provisions.py), `check` warns of it for an agreement drafted whole (one
    with `provisions:`); an agreement of financial schedules only (LANGUAGE.md's own example,
    whose mental health pool reports money monthly to the Board) is read within a whole
    agreement that may hold the partners' report, so `check` stays quiet and `render` lists it
    among the drafting notes, drafting that report as going to the Partners.
    """
    bodies = _bodies(agreement)
    diags = []
    for pool in agreement.pools:
        if "reporting" in pool.unparsed or any(meets_regulation_7(d) for d in pool.reporting):
            continue
        to_bodies = [
            d for d in pool.reporting if is_income_and_expenditure(d) and d.to.name in bodies
        ]
        if not to_bodies:
            continue  # none at all: W801 of `_reporting`
        first = to_bodies[0]
        diags.append(
            warning(
                "W801",
                pool.clause_spans.get("reporting", pool.span),
                f"pool `{pool.id}`'s only {first.cadence} report of income and expenditure goes "
                f"to the {bodies[first.to.name]} (`{first.to.name}`), not to the partners: a "
                f"report to a body of the partnership alone does not meet {REGULATION_7} "
                "(paragraphs (4) and (5): the pooled fund manager reports to the partners "
                "quarterly on the pool's income and expenditure)",
                "add `quarterly finance report to partners within 20 working days` and keep "
                f"the {first.cadence} report to `{first.to.name}` beside it",
            )
        )
    return diags


def _reporting(pool: m.Pool, bodies: dict[str, str]) -> list[Diagnostic]:
    """Durations and triggers; W801 where no periodic report of the pool's money goes to the
    partners or to a body of the partnership (for the latter, see `to_the_board_only`); W802."""
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
    if not any(
        meets_regulation_7(d) or (is_income_and_expenditure(d) and d.to.name in bodies)
        for d in pool.reporting
    ):
        diags.append(
            warning(
                "W801",
                anchor,
                f"pool `{pool.id}` has no quarterly report of income and expenditure to the "
                f"partners ({REGULATION_7}: the pooled fund manager reports to the partners "
                "quarterly on the pool's income and expenditure)",
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
