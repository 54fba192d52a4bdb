"""The money effect of a change: run the old and the new agreement over the same ledger, or the
same scenarios, and say who pays how much more or less in which year."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .money import format_money, format_pounds, parse_amount
from .terminal import visible


@dataclass(frozen=True)
class Effect:
    partner: str
    year: str
    # positive: the partner pays more (bears more overspend, gets less underspend back,
    # contributes more, or is charged more unapproved spend)
    pence: int
    where: str  # the pool, and the scenario when there is one
    parts: tuple[tuple[str, int], ...] = ()  # (what, pence) when more than one thing moved

    def words(self) -> str:
        total = _more_or_less(self.pence) if self.pence else "the same in all"
        text = f"{self.partner} pays {total} in {self.year} ({self.where})"
        if len(self.parts) > 1 or (self.parts and self.parts[0][0] != RISK):
            text += ": " + ", ".join(f"{_more_or_less(p)} {what}" for what, p in self.parts)
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "year": self.year,
            "amount": format_pounds(self.pence),
            "where": self.where,
            "parts": {what: format_pounds(p) for what, p in self.parts},
        }


RISK = "on the risk share"
CONTRIBUTION = "in contributions"
UNAPPROVED = "as unapproved spend borne outside the risk share"


def _more_or_less(pence: int) -> str:
    return f"{format_money(abs(pence))} {'more' if pence > 0 else 'less'}"


def _payments(pool: Any) -> dict[str, int]:
    """What each partner pays on the pool's settlement: overspend shares, less underspend returned."""
    if pool.settlement is None or pool.variance_kind not in ("overspend", "underspend"):
        return {}
    sign = 1 if pool.variance_kind == "overspend" else -1
    return {p: sign * v for p, v in pool.settlement.shares.items()}


def _contributions(pool: Any) -> dict[str, int]:
    """Each partner's contribution to the pool for the year, as the agreement states it."""
    for stated in pool.pool["contributions"]:
        if stated["year"] == pool.year.label:
            return {c["partner"]: parse_amount(c["amount"]) for c in stated["partners"]}
    return {}


def _charged(pool: Any) -> dict[str, int]:
    """Unapproved spend each partner bears outside the risk share (where the pool says so)."""
    return dict(pool.borne.by_partner) if pool.borne is not None else {}


def _effects(old_pools: list[Any], new_pools: list[Any], label: str) -> list[Effect]:
    effects = []
    old = {p.pool["id"]: p for p in old_pools}
    for pool in new_pools:
        was = old.get(pool.pool["id"])
        parts = []
        for what, of in ((RISK, _payments), (CONTRIBUTION, _contributions), (UNAPPROVED, _charged)):
            before, after = (of(was) if was is not None else {}), of(pool)
            parts.append((what, before, after))
        partners = sorted({p for _, b, a in parts for p in (*b, *a)})
        for partner in partners:
            moved = tuple(
                (what, a.get(partner, 0) - b.get(partner, 0))
                for what, b, a in parts
                if a.get(partner, 0) != b.get(partner, 0)
            )
            delta = sum(p for _, p in moved)
            if moved:
                where = f"{pool.pool['name']}{', ' + label if label else ''}"
                effects.append(Effect(partner, pool.year.label, delta, where, moved))
    return effects


def impact(old_ir: dict[str, Any], new_ir: dict[str, Any], target: Path) -> list[Effect]:
    """Effects of the change over a ledger file or a scenario file."""
    if target.name.endswith((".test.yaml", ".test.yml")):
        return _scenario_impact(old_ir, new_ir, target)
    from .engine.run import run_ledger

    runs = [run_ledger(ir, target) for ir in (old_ir, new_ir)]
    try:
        return _effects(runs[0].pools, runs[1].pools, "")
    finally:
        for run in runs:
            run.close()


def _scenario_impact(old_ir: dict[str, Any], new_ir: dict[str, Any], target: Path) -> list[Effect]:
    from .scenarios.runner import pool_results
    from .scenarios.spec import read_test_file

    test_file = read_test_file(target)
    effects: list[Effect] = []
    for scenario in test_file.scenarios:
        before = pool_results(old_ir, test_file, scenario)
        after = pool_results(new_ir, test_file, scenario)
        effects.extend(_effects(before, after, f"scenario “{scenario.name}”"))
    return effects


def totals(effects: list[Effect]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for e in effects:
        out[(e.partner, e.year)] += e.pence
    return dict(out)


def format_effects(effects: list[Effect], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"effects": [e.to_json() for e in effects]}, indent=2, ensure_ascii=False)
    if not effects:
        return "Money effect: none (every partner pays the same)"
    if fmt == "md":
        from .render.markup import markdown_text

        return "\n".join(
            ["#### Money effect", *("- " + markdown_text(e.words(), True) for e in effects)]
        )
    return "\n".join(["Money effect:", *("  " + visible(e.words()) for e in effects)])
