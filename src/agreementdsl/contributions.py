"""Evaluating contribution expressions: each partner's money for each financial year.

`prior year + 2.5%` is the prior year's amount plus 2.5% of it rounded half up to the penny;
a named year (`2005/06 + 2.5%`) takes that year's amount as its base. Shared by the checker
(which reports what cannot be evaluated) and the compiler (which records the working).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import model as m
from .calendar import parse_year_label
from .diagnostics import Diagnostic, error
from .money import format_money, format_percent, percent_of


@dataclass(frozen=True)
class Evaluated:
    """One partner's contribution for one year, with the working that produced it."""

    year: str
    partner: str
    pence: int
    working: str
    contribution: m.Contribution


def _label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


class _Evaluator:
    def __init__(self, pool: m.Pool) -> None:
        self.rows = {
            (y.year, c.partner.name): c for y in pool.contributions for c in y.contributions
        }
        self.done: dict[tuple[str, str], Evaluated | None] = {}
        self.visiting: set[tuple[str, str]] = set()
        self.diagnostics: list[Diagnostic] = []

    def value(self, year: str, partner: str) -> Evaluated | None:
        key = (year, partner)
        if key in self.done:
            return self.done[key]
        contribution = self.rows[key]
        if key in self.visiting:
            self.diagnostics.append(
                error(
                    "E507",
                    contribution.span,
                    f"the contribution of `{partner}` for {year} refers back to itself",
                )
            )
            return None
        self.visiting.add(key)
        result = self._evaluate(year, partner, contribution)
        self.visiting.discard(key)
        self.done[key] = result
        return result

    def _evaluate(self, year: str, partner: str, c: m.Contribution) -> Evaluated | None:
        expr = c.expr
        if expr is None:
            return None
        if isinstance(expr, m.FixedAmount):
            return Evaluated(year, partner, expr.pence, format_money(expr.pence), c)
        base_year = expr.base_year
        start = parse_year_label(year)
        if base_year is None:
            if start is None:
                return None
            base_year = _label(start - 1)
            if (base_year, partner) not in self.rows:
                self.diagnostics.append(
                    error(
                        "E506",
                        c.span,
                        f"`prior year` for {year} has no prior year: {base_year} gives `{partner}` no contribution",
                        'state this year\'s contribution as money, like "£1,000,000"',
                    )
                )
                return None
        elif (base_year, partner) not in self.rows:
            self.diagnostics.append(
                error(
                    "E507",
                    c.span,
                    f"{base_year} gives `{partner}` no contribution to build on",
                    "name a year listed in this pool's contributions",
                )
            )
            return None
        base = self.value(base_year, partner)
        if base is None:
            return None
        if expr.percent is not None:
            delta = percent_of(base.pence, expr.percent)
            how = f"{format_percent(expr.percent)} of {format_money(base.pence)} = {format_money(delta)}"
        else:
            delta = expr.pence or 0
            how = format_money(delta)
        pence = base.pence + expr.sign * delta
        sign = "+" if expr.sign > 0 else "-"
        working = f"{base_year} {format_money(base.pence)}"
        if expr.percent is not None or expr.pence is not None:
            working += f" {sign} {how}"
        return Evaluated(year, partner, pence, f"{working} → {format_money(pence)}", c)


def evaluate_contributions(
    pool: m.Pool,
) -> tuple[dict[str, dict[str, Evaluated]], list[Diagnostic]]:
    """year → partner → evaluated contribution, for every expression that can be evaluated."""
    ev = _Evaluator(pool)
    out: dict[str, dict[str, Evaluated]] = {}
    for year in pool.contributions:
        for c in year.contributions:
            result = ev.value(year.year, c.partner.name)
            if result is not None:
                out.setdefault(year.year, {})[c.partner.name] = result
    return out, ev.diagnostics
