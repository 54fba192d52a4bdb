"""The risk-share waterfall: a year's variance shared between partners to the penny.

Each step takes at most its amount of what is left (`rest` takes all of it) and is split on its
own with the largest-remainder method, ties to the partner first in `partners:`; the shares of
a section always add up exactly to the variance (LANGUAGE.md §4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..money import format_money, parse_amount, percent_of, split_largest_remainder


@dataclass(frozen=True)
class StepResult:
    number: int
    text: str
    source: str
    taken: int
    allocated: dict[str, int]  # partner -> pence
    carried: int
    basis: str  # how the step was split, in words


@dataclass
class Settlement:
    shares: dict[str, int]
    carried_forward: int
    steps: list[StepResult] = field(default_factory=list)


@dataclass(frozen=True)
class YearContext:
    """What the allocations need to know about the pool's year."""

    partners: list[str]  # every partner of the agreement, in `partners:` order
    contributions: dict[str, int]  # partner -> pence, as stated for the year
    host: str
    element_parts: Callable[[str], dict[str, int]]  # direction -> partner -> part of the variance
    leaver: str | None = None  # the partner leaving, for an exit waterfall's `to leaving partner`
    # (direction, gross) -> partner -> its own elements' part of the variance (`by own elements`)
    own_parts: Callable[[str, bool], dict[str, int]] | None = None

    @property
    def pool_total(self) -> int:
        return sum(self.contributions.values())


def _split(amount: int, weights: dict[str, Any], order: list[str]) -> dict[str, int]:
    names = [p for p in order if p in weights]
    if not names or sum(weights[p] for p in names) <= 0:
        raise _NothingToShareBy
    shares = split_largest_remainder(amount, [weights[p] for p in names])
    return dict(zip(names, shares, strict=True))


def _allocate(
    alloc: dict[str, Any], amount: int, ctx: YearContext, direction: str
) -> tuple[dict[str, int], int, str]:
    """(partner shares, carried forward, how) for one step's amount."""
    kind = alloc["type"]
    if kind == "to":
        return {alloc["partner"]: amount}, 0, f"all to {alloc['partner']}"
    if kind == "to-leaver":
        if ctx.leaver is None:
            raise NoLeaver
        return {ctx.leaver: amount}, 0, f"all to {ctx.leaver}, the leaving partner"
    if kind == "carried-forward":
        return {}, amount, "carried forward in the pool"
    if kind == "split":
        weights = {s["partner"]: Decimal(s["percent"]) for s in alloc["shares"]}
        how = ", ".join(f"{p} {s}%" for p, s in weights.items())
        return _split(amount, weights, ctx.partners), 0, f"split {how}"
    contributions = {p: v for p, v in ctx.contributions.items() if v > 0}
    if kind == "equally":
        return (
            _split(amount, dict.fromkeys(contributions, 1), ctx.partners),
            0,
            f"equally between {', '.join(p for p in ctx.partners if p in contributions)}",
        )
    if kind == "by-own-elements":
        parts = _own(alloc, ctx, direction)
        if not parts:
            return (
                {},
                0,
                f"by own elements: no partner's elements moved that way ({alloc['basis']})",
            )
        how = ", ".join(f"{p} {format_money(v)}" for p, v in parts.items())
        whole = " in full" if amount == sum(parts.values()) else " in proportion"
        return (
            _split(amount, parts, ctx.partners),
            0,
            f"by own elements ({alloc['basis']}){whole}: {how}",
        )
    if kind == "by-element":
        parts = {p: v for p, v in ctx.element_parts(direction).items() if v > 0}
        if parts:
            how = ", ".join(f"{p} {format_money(v)}" for p, v in parts.items())
            return (
                _split(amount, parts, ctx.partners),
                0,
                f"by element: each partner's part of the {direction} ({how})",
            )
        note = "by element, but no element moved that way, so by contribution"
        return (
            _split(amount, contributions, ctx.partners),
            0,
            note + _contribution_words(contributions),
        )
    return (
        _split(amount, contributions, ctx.partners),
        0,
        "by contribution" + _contribution_words(contributions),
    )


def _own(alloc: dict[str, Any], ctx: YearContext, direction: str) -> dict[str, int]:
    if ctx.own_parts is None:
        return {}
    parts = ctx.own_parts(direction, alloc["basis"] == "gross")
    return {p: v for p, v in parts.items() if v > 0}


def _contribution_words(contributions: dict[str, int]) -> str:
    return " (" + " : ".join(f"{p} {format_money(v)}" for p, v in contributions.items()) + ")"


class NoLeaver(Exception):
    """A step `to leaving partner` with no partner named as leaving."""


class _NothingToShareBy(Exception):
    """The step's weights are all zero (a year whose contributions total £0)."""


def settle(section: dict[str, Any], direction: str, variance: int, ctx: YearContext) -> Settlement:
    """Apply one waterfall section to a variance (a non-negative amount of pence)."""
    shares = {p: 0 for p in ctx.partners if p in ctx.contributions}
    carried = 0
    left = variance
    steps = []
    for step in section["steps"]:
        if step["kind"] == "rest":
            take = left
        else:
            cap = (
                parse_amount(step["amount"])
                if step["amount"] is not None
                else percent_of(ctx.pool_total, Decimal(step["pool_percent"]))
            )
            take = min(cap, left)
        if step["allocation"]["type"] == "by-own-elements":
            take = min(take, sum(_own(step["allocation"], ctx, direction).values()))
        try:
            allocated, kept, how = _allocate(step["allocation"], take, ctx, direction)
        except _NothingToShareBy:
            allocated, kept, how = (
                {ctx.host: take},
                0,
                "nothing to share by (the year's contributions total £0), so all to the host",
            )
        for partner, pence in allocated.items():
            shares[partner] = shares.get(partner, 0) + pence
        carried += kept
        left -= take
        source = f"{step['span']['file']}:{step['span']['line']}"
        steps.append(StepResult(step["number"], step["text"], source, take, allocated, kept, how))
        if step["allocation"]["type"] == "to":
            shares.setdefault(step["allocation"]["partner"], 0)
        elif step["allocation"]["type"] == "to-leaver" and ctx.leaver is not None:
            shares.setdefault(ctx.leaver, 0)
    ordered = {p: shares[p] for p in ctx.partners if p in shares}
    assert sum(ordered.values()) + carried == variance, (
        "a waterfall must allocate the variance exactly"
    )
    return Settlement(ordered, carried, steps)


def no_settlement(ctx: YearContext, risk_share: dict[str, Any]) -> Settlement:
    """A balanced year: every contributing partner and every partner a step names, at zero."""
    shares = {p: 0 for p in ctx.partners if p in ctx.contributions}
    for section in risk_share.values():
        for step in (section or {}).get("steps", []):
            alloc = step["allocation"]
            if alloc["type"] == "to":
                shares.setdefault(alloc["partner"], 0)
            elif alloc["type"] == "split":
                for share in alloc["shares"]:
                    shares.setdefault(share["partner"], 0)
    return Settlement({p: shares[p] for p in ctx.partners if p in shares}, 0)
