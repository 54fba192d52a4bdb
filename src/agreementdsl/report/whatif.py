"""What-if: who pays what at each outturn level, settled by the engine's own risk-share code.

Each level is settled with `engine.settlement.settle`, so the shares are exact pence and add up
to the variance at every point. The kinks of the waterfall (the outturns where a `first` or
`next` step is exhausted, and the budget itself, where the variance changes direction) are
computed from the steps, not found by sampling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..cells import csv_text
from ..compile import risk_share_for
from ..engine.settlement import YearContext, no_settlement, settle
from ..money import MoneyError, format_money, format_pounds, parse_amount, parse_money, percent_of

MAX_POINTS = 10_001


class WhatIfError(Exception):
    """What-if cannot be worked out: a stable code, a message and a hint (exit 1, or 2 for usage)."""

    def __init__(self, code: str, message: str, hint: str | None = None, usage: bool = False):
        super().__init__(message)
        self.code, self.message, self.hint, self.usage = code, message, hint, usage


@dataclass(frozen=True)
class Kink:
    """An outturn where the waterfall changes slope: a step runs out, or the variance turns."""

    outturn: int
    direction: str  # overspend | underspend | balanced
    text: str  # in words: "first £280,000 to host runs out"
    source: str | None  # file:line of the step


@dataclass(frozen=True)
class Point:
    outturn: int
    kind: str  # overspend | underspend | balanced
    variance: int  # never negative
    shares: dict[str, int]  # partner -> pence (paid for an overspend, returned for an underspend)
    carried_forward: int
    kink: bool


@dataclass
class WhatIf:
    agreement: str
    pool: str
    pool_name: str
    year: str
    budget: int
    partners: list[str]
    kinks: list[Kink]
    points: list[Point] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how steps the range cannot work were taken

    def to_json(self) -> dict[str, object]:
        return {
            "agreement": self.agreement,
            "pool": self.pool,
            "year": self.year,
            "budget": format_pounds(self.budget),
            "partners": self.partners,
            "kinks": [
                {
                    "outturn": format_pounds(k.outturn),
                    "direction": k.direction,
                    "text": k.text,
                    "source": k.source,
                }
                for k in self.kinks
            ],
            "points": [
                {
                    "outturn": format_pounds(p.outturn),
                    "variance": {"kind": p.kind, "amount": format_pounds(p.variance)},
                    "shares": {name: format_pounds(p.shares[name]) for name in self.partners},
                    "carried_forward": format_pounds(p.carried_forward),
                    "kink": p.kink,
                }
                for p in self.points
            ],
            "notes": self.notes,
        }


# ---------------------------------------------------------------- reading the range


def _money(text: str) -> int:
    raw = text.strip().replace(" ", "")
    sign = -1 if raw.startswith("-") else 1
    raw = raw.lstrip("-")
    if not raw.startswith("£"):
        raw = "£" + raw
    return sign * parse_money(raw)


def parse_range(text: str, option: str) -> tuple[int, int]:
    """(from, to) in pence from `£17m..£19m` (pounds, `k`/`m` allowed, `-` for the overspend range)."""
    m = re.match(r"^\s*(.+?)\s*\.\.\s*(.+?)\s*$", text)
    if not m:
        raise WhatIfError(
            "R001",
            f"{option} '{text}' is not a range",
            f"write it as FROM..TO, like {option} £17m..£19m",
            usage=True,
        )
    try:
        low, high = _money(m.group(1)), _money(m.group(2))
    except MoneyError as exc:
        raise WhatIfError(
            "R001", f"{option}: {exc}", "write amounts like £17,500,000 or £17.5m", True
        ) from None
    if low > high:
        raise WhatIfError(
            "R001",
            f"{option} runs backwards ({m.group(1)} is more than {m.group(2)})",
            "write the lower amount first",
            True,
        )
    return low, high


def parse_step(text: str) -> int:
    try:
        step = _money(text)
    except MoneyError as exc:
        raise WhatIfError("R001", f"--step: {exc}", "write it like £100k", True) from None
    if step <= 0:
        raise WhatIfError(
            "R001", f"--step '{text}' must be more than £0", "write it like £100k", True
        )
    return step


# ---------------------------------------------------------------- the pool's year, from the IR
def find_pool(ir: dict[str, Any], pool_id: str) -> dict[str, Any]:
    for pool in ir["pools"]:
        if pool["id"] == pool_id:
            return pool
    known = ", ".join(p["id"] for p in ir["pools"])
    raise WhatIfError(
        "R002", f"the agreement has no pool `{pool_id}`", f"its pools are: {known}", usage=True
    )


def year_context(
    ir: dict[str, Any],
    pool: dict[str, Any],
    year: str,
    element_parts: Callable[[str], dict[str, int]] | None = None,
    own_parts: Callable[[str, bool], dict[str, int]] | None = None,
) -> YearContext:
    """The settlement context of the pool's year, built from the compiled IR alone (and, for
    `by element` and `by own elements` steps, the elements' parts of a ledger when given)."""
    for stated in pool["contributions"]:
        if stated["year"] == year:
            contributions = {c["partner"]: parse_amount(c["amount"]) for c in stated["partners"]}
            return YearContext(
                [p["id"] for p in ir["partners"]],
                contributions,
                pool["host"],
                element_parts or (lambda _direction: {}),
                own_parts=own_parts or (lambda _direction, _gross: {}),
            )
    stated_years = ", ".join(y["year"] for y in pool["contributions"]) or "none"
    raise WhatIfError(
        "R003",
        f"pool `{pool['id']}` states no contributions for {year}, so it has no budget to compare with",
        f"choose a year with --year (years with contributions: {stated_years})",
    )


def kinks(pool: dict[str, Any], ctx: YearContext) -> list[Kink]:
    """Every outturn where a capped step runs out, and the budget, in order of outturn."""
    budget = ctx.pool_total
    found = [Kink(budget, "balanced", "outturn equals the budget: no variance", None)]
    for direction, section in (pool["risk_share"] or {}).items():
        used = 0
        for step in section["steps"]:
            if step["kind"] == "rest":
                break
            cap = (
                parse_amount(step["amount"])
                if step["amount"] is not None
                else percent_of(ctx.pool_total, Decimal(step["pool_percent"]))
            )
            used += cap
            outturn = budget + used if direction == "overspend" else budget - used
            source = f"{step['span']['file']}:{step['span']['line']}"
            found.append(Kink(outturn, direction, f"`{step['text']}` runs out", source))
    return sorted(found, key=lambda k: (k.outturn, k.direction))


def settle_at(pool: dict[str, Any], ctx: YearContext, outturn: int) -> tuple[str, int, Any]:
    """(kind, variance, Settlement) for one outturn: exactly what `run` would settle."""
    risk = pool["risk_share"] or {}
    budget = ctx.pool_total
    if outturn == budget:
        return "balanced", 0, no_settlement(ctx, risk)
    direction = "overspend" if outturn > budget else "underspend"
    return (
        direction,
        abs(outturn - budget),
        settle(risk[direction], direction, abs(outturn - budget), ctx),
    )


def what_if(
    ir: dict[str, Any],
    pool_id: str,
    year: str,
    low: int,
    high: int,
    step: int | None = None,
    *,
    by_overspend: bool = False,
    element_parts: Callable[[str], dict[str, int]] | None = None,
    also: tuple[int, ...] = (),
    own_parts: Callable[[str, bool], dict[str, int]] | None = None,
) -> WhatIf:
    """Settle the pool's year at every level from `low` to `high` (outturns, or overspends).

    The levels are `low`, `low + step`, … up to `high`, and `high` itself, every kink in
    between and the outturns in `also` (the report adds the forecast); the default step gives
    20 intervals.
    """
    pool = find_pool(ir, pool_id)
    pool = {**pool, "risk_share": risk_share_for(pool, year)}  # the one stated for that year
    if not pool["risk_share"]:
        raise WhatIfError(
            "R004", f"pool `{pool_id}` has no risk_share: nothing says who pays", None
        )
    ctx = year_context(ir, pool, year, element_parts, own_parts)
    budget = ctx.pool_total
    by_elements = sorted(
        {
            step["text"]
            for section in pool["risk_share"].values()
            for step in section["steps"]
            if step["allocation"]["type"] in ("by-element", "by-own-elements")
        }
    )
    notes = []
    if by_elements and element_parts is None:
        notes.append(
            f"{', '.join(f'`{t}`' for t in by_elements)}: shared by contribution here, as the engine "
            "does when no element moved that way; without a ledger no element has a variance "
            "(the report works these steps from the ledger's elements)"
        )
    if by_overspend:
        low, high = budget + low, budget + high
    if low < 0:
        raise WhatIfError(
            "R001",
            f"the range starts at an outturn of {format_money(low)}, below £0",
            "start the range at £0 or more",
            True,
        )
    span = high - low
    step = step or max(1, -(-span // 20))
    if span // step + 2 > MAX_POINTS:
        raise WhatIfError(
            "R001",
            f"{format_money(span)} in steps of {format_money(step)} is more than {MAX_POINTS - 1:,} levels",
            "give a larger --step",
            True,
        )
    all_kinks = kinks(pool, ctx)
    inside = [k for k in all_kinks if low <= k.outturn <= high]
    levels = set(range(low, high + 1, step)) | {high} | {k.outturn for k in inside}
    levels |= {a for a in also if low <= a <= high}
    kink_levels = {k.outturn for k in inside}
    points = []
    for outturn in sorted(levels):
        kind, variance, result = settle_at(pool, ctx, outturn)
        points.append(
            Point(
                outturn,
                kind,
                variance,
                result.shares,
                result.carried_forward,
                outturn in kink_levels,
            )
        )
    partners = [p for p in ctx.partners if any(p in pt.shares for pt in points)]
    for i, pt in enumerate(points):
        points[i] = Point(
            pt.outturn,
            pt.kind,
            pt.variance,
            {p: pt.shares.get(p, 0) for p in partners},
            pt.carried_forward,
            pt.kink,
        )
    return WhatIf(
        ir["agreement"]["id"], pool_id, pool["name"], year, budget, partners, inside, points, notes
    )


# ---------------------------------------------------------------- writers
def write_text(result: WhatIf) -> str:
    """A table people can read: one line per level, kinks marked with `◆`."""
    head = ["outturn", "variance", *result.partners, "carried fwd"]
    rows = []
    for p in result.points:
        variance = f"{p.kind} {format_money(p.variance)}" if p.variance else "balanced"
        rows.append(
            [
                ("◆ " if p.kink else "  ") + format_money(p.outturn),
                variance,
                *[format_money(p.shares[name]) for name in result.partners],
                format_money(p.carried_forward),
            ]
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        f"What if: {result.pool_name} ({result.pool}), {result.year}, budget {format_money(result.budget)}",
        "An overspend's shares are what each partner pays; an underspend's, what is returned to it.",
        "",
        "  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)),
    ]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if result.kinks:
        lines += ["", "kinks (◆):"]
        lines += [
            f"  {format_money(k.outturn)}  {k.text}" + (f" ({k.source})" if k.source else "")
            for k in result.kinks
        ]
    if result.notes:
        lines += ["", "notes:", *(f"  {n}" for n in result.notes)]
    from ..terminal import visible

    return "\n".join(visible(line) for line in lines) + "\n"  # names as text, never escapes


def write_csv(result: WhatIf) -> str:
    """One row per level; amounts unsigned in pounds, `kind` says which way the money goes.

    Every cell goes through `cells.safe_cell`, so a partner id cannot run as a formula."""
    header = ["outturn", "kind", "variance", *result.partners, "carried_forward", "kink"]
    rows = [
        [
            format_pounds(p.outturn),
            p.kind,
            format_pounds(p.variance),
            *[format_pounds(p.shares[name]) for name in result.partners],
            format_pounds(p.carried_forward),
            "yes" if p.kink else "",
        ]
        for p in result.points
    ]
    return csv_text([header, *rows])
