"""No partner is returned an underspend it never contributed to (W604).

An underspend is what is left of the partners' money; a step that gives part of it to a partner
that put nothing into the pool that year hands that partner the others' money. The lint reads
every waterfall that applies to a pool (its risk share and the exit waterfall that governs it)
against each year's contributions as evaluated.
"""

from __future__ import annotations

from .. import model as m
from ..contributions import evaluate_contributions
from ..diagnostics import Diagnostic, warning
from ..money import format_percent


def check(agreement: m.Agreement) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for pool in agreement.pools:
        values, _ = evaluate_contributions(pool)
        contributed = {
            year: {p for p, v in partners.items() if v.pence > 0}
            for year, partners in values.items()
        }
        for waterfall in _waterfalls(agreement, pool):
            section = waterfall.section("underspend")
            for step in section.steps if section else ():
                diags.extend(_step(pool, step, contributed))
    return diags


def _waterfalls(agreement: m.Agreement, pool: m.Pool) -> list[m.RiskShare]:
    """The pool's risk share and the exit waterfall that applies to it (its own, else the
    agreement's)."""
    found = [pool.risk_share] if pool.risk_share is not None else []
    exit_terms = pool.exit or agreement.exit
    if exit_terms is not None and exit_terms.waterfall is not None:
        found.append(exit_terms.waterfall)
    return found


def _receivers(pool: m.Pool, alloc: m.Allocation) -> list[tuple[str, str]]:
    """(partner, how the step reaches it) for the partners a step may pay whatever the
    contributions: a named partner, a share of a split, the partner of an element."""
    if isinstance(alloc, m.ToPartner):
        name = alloc.partner.name
        if name == m.HOST:
            return [(pool.host.name, "`to host`")] if pool.host else []
        return [(name, f"`to {name}`")]
    if isinstance(alloc, m.Split):
        return [
            (n.name, f"its {format_percent(share)} of the split")
            for n, share in alloc.shares
            if share > 0
        ]
    if isinstance(alloc, m.ByElement | m.ByOwnElements):
        words = "by element" if isinstance(alloc, m.ByElement) else "by own elements"
        seen: dict[str, str] = {}
        for element in pool.elements:
            seen.setdefault(element.partner.name, f"`{words}` (element `{element.id}`)")
        return list(seen.items())
    return []  # by contribution, equally: only partners that contributed; carried forward: none


def _step(pool: m.Pool, step: m.RiskStep, contributed: dict[str, set[str]]) -> list[Diagnostic]:
    diags = []
    for partner, how in _receivers(pool, step.allocation):
        years = [year for year, givers in contributed.items() if partner not in givers]
        if not years:
            continue
        listed = ", ".join(years)
        diags.append(
            warning(
                "W604",
                step.span,
                f"this underspend step can return money to `{partner}` through {how}, but "
                f"`{partner}` contributes nothing to pool `{pool.id}` in {listed}",
                "return an underspend only to the partners that paid in: `by contribution`, "
                "`equally`, or a split or partner that contributed that year",
            )
        )
    return diags
