"""Evaluating contribution expressions: each partner's money for each financial year.

`prior year + 2.5%` is the prior year's amount plus 2.5% of it rounded half up to the penny;
a named year (`2005/06 + 2.5%`) takes that year's amount as its base. Shared by the checker
(which reports what cannot be evaluated) and the compiler (which records the working).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import model as m
from .calendar import parse_year_label
from .diagnostics import Diagnostic, error
from .money import format_money, format_percent, percent_of


@dataclass(frozen=True)
class Evaluated:
    """One partner's contribution (or one stream of it) for one year, with its working."""

    year: str
    partner: str
    pence: int
    working: str
    contribution: m.Contribution
    stream: str | None = None


Key = tuple[str, str, str | None]  # (year, partner, stream or None for a stream-less sum)


def _label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def _who(partner: str, stream: str | None) -> str:
    return f"`{partner}`" if stream is None else f"`{partner}` (stream `{stream}`)"


class _Evaluator:
    def __init__(self, pool: m.Pool) -> None:
        self.rows: dict[Key, tuple[m.Contribution, m.ContributionExpr | None, m.Span]] = {}
        for y in pool.contributions:
            for c in y.contributions:
                if c.streams:
                    for s in c.streams:
                        self.rows[(y.year, c.partner.name, s.id)] = (c, s.expr, s.span)
                else:
                    self.rows[(y.year, c.partner.name, None)] = (c, c.expr, c.span)
        self.done: dict[Key, Evaluated | None] = {}
        self.visiting: set[Key] = set()
        self.diagnostics: list[Diagnostic] = []

    def value(self, key: Key) -> Evaluated | None:
        if key in self.done:
            return self.done[key]
        year, partner, stream = key
        contribution, expr, span = self.rows[key]
        if key in self.visiting:
            self.diagnostics.append(
                error(
                    "E507",
                    span,
                    f"the contribution of {_who(partner, stream)} for {year} refers back to itself",
                )
            )
            return None
        self.visiting.add(key)
        result = self._evaluate(key, contribution, expr, span)
        self.visiting.discard(key)
        self.done[key] = result
        return result

    def _has(self, year: str, partner: str, stream: str | None) -> bool:
        """Whether a base exists: the stream itself, or, for a contribution written as one sum,
        the partner's streams that year (their total is the base)."""
        if (year, partner, stream) in self.rows:
            return True
        return stream is None and bool(_streams_of(self.rows, year, partner))

    def _as_one_sum(self, year: str, partner: str, stream: str | None) -> str:
        if stream is not None and (year, partner, None) in self.rows:
            return f" (it gives `{partner}` one sum, not streams)"
        named = _streams_of(self.rows, year, partner)
        return f" (its streams then are {', '.join(f'`{n}`' for n in named)})" if named else ""

    def _base(self, year: str, partner: str, stream: str | None) -> Evaluated | None:
        """The evaluated base; a one-sum contribution built on a year of streams takes their total."""
        if (year, partner, stream) in self.rows:
            return self.value((year, partner, stream))
        parts = [self.value((year, partner, n)) for n in _streams_of(self.rows, year, partner)]
        if any(p is None for p in parts):
            return None
        total = sum(p.pence for p in parts if p is not None)
        c = self.rows[(year, partner, _streams_of(self.rows, year, partner)[0])][0]
        return Evaluated(year, partner, total, format_money(total), c)

    def _evaluate(
        self, key: Key, c: m.Contribution, expr: m.ContributionExpr | None, span: m.Span
    ) -> Evaluated | None:
        year, partner, stream = key
        if expr is None:
            return None
        if isinstance(expr, m.FixedAmount):
            return Evaluated(year, partner, expr.pence, format_money(expr.pence), c, stream)
        base_year = expr.base_year
        start = parse_year_label(year)
        if base_year is None:
            if start is None:
                return None
            base_year = _label(start - 1)
            if not self._has(base_year, partner, stream):
                self.diagnostics.append(
                    error(
                        "E506",
                        span,
                        f"`prior year` for {year} has no prior year: {base_year} gives {_who(partner, stream)} no contribution"
                        + self._as_one_sum(base_year, partner, stream),
                        'state this year\'s contribution as money, like "£1,000,000"'
                        + (f", or write {base_year}'s as streams too" if stream else ""),
                    )
                )
                return None
        elif not self._has(base_year, partner, stream):
            self.diagnostics.append(
                error(
                    "E507",
                    span,
                    f"{base_year} gives {_who(partner, stream)} no contribution to build on"
                    + self._as_one_sum(base_year, partner, stream),
                    "name a year listed in this pool's contributions"
                    + (" with the same stream" if stream is not None else ""),
                )
            )
            return None
        base = self._base(base_year, partner, stream)
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
        return Evaluated(year, partner, pence, f"{working} → {format_money(pence)}", c, stream)


def _streams_of(rows: Mapping[Key, object], year: str, partner: str) -> list[str]:
    return [k[2] for k in rows if k[0] == year and k[1] == partner and k[2] is not None]


def _evaluate_all(pool: m.Pool) -> tuple[_Evaluator, dict[str, dict[str, Evaluated]]]:
    ev = _Evaluator(pool)
    out: dict[str, dict[str, Evaluated]] = {}
    for year in pool.contributions:
        for c in year.contributions:
            if not c.streams:
                result = ev.value((year.year, c.partner.name, None))
                if result is not None:
                    out.setdefault(year.year, {})[c.partner.name] = result
                continue
            parts = [ev.value((year.year, c.partner.name, s.id)) for s in c.streams]
            done = [p for p in parts if p is not None]
            if len(done) == len(parts):
                total = sum(p.pence for p in done)
                working = "; ".join(f"{p.stream}: {p.working}" for p in done)
                out.setdefault(year.year, {})[c.partner.name] = Evaluated(
                    year.year, c.partner.name, total, f"{working}; total {format_money(total)}", c
                )
    return ev, out


def evaluate_contributions(
    pool: m.Pool,
) -> tuple[dict[str, dict[str, Evaluated]], list[Diagnostic]]:
    """year → partner → evaluated contribution (the total of its streams), for every
    contribution that can be evaluated."""
    ev, out = _evaluate_all(pool)
    return out, ev.diagnostics


def evaluate_streams(pool: m.Pool) -> dict[tuple[str, str, str], Evaluated]:
    """(year, partner, stream) → the evaluated stream, for every stream that can be evaluated."""
    ev, _ = _evaluate_all(pool)
    return {(y, p, s): v for (y, p, s), v in ev.done.items() if s is not None and v is not None}
