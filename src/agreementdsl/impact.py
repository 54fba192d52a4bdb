"""The money effect of a change: run the old and the new agreement over the same ledger, or the
same scenarios, and say who pays how much more or less in which year."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .money import format_money
from .terminal import visible


@dataclass(frozen=True)
class Effect:
    partner: str
    year: str
    pence: (
        int  # positive: the partner pays more (bears more overspend or gets less underspend back)
    )
    where: str  # the pool, and the scenario when there is one

    def words(self) -> str:
        more = "more" if self.pence > 0 else "less"
        return f"{self.partner} pays {format_money(abs(self.pence))} {more} in {self.year} ({self.where})"

    def to_json(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "year": self.year,
            "amount": f"{self.pence / 100:.2f}",
            "where": self.where,
        }


def _payments(pool: Any) -> dict[str, int]:
    """What each partner pays on the pool's settlement: overspend shares, less underspend returned."""
    if pool.settlement is None or pool.variance_kind not in ("overspend", "underspend"):
        return {}
    sign = 1 if pool.variance_kind == "overspend" else -1
    return {p: sign * v for p, v in pool.settlement.shares.items()}


def _effects(old_pools: list[Any], new_pools: list[Any], label: str) -> list[Effect]:
    effects = []
    old = {p.pool["id"]: p for p in old_pools}
    for pool in new_pools:
        before = _payments(old[pool.pool["id"]]) if pool.pool["id"] in old else {}
        after = _payments(pool)
        for partner in sorted(set(before) | set(after)):
            delta = after.get(partner, 0) - before.get(partner, 0)
            if delta:
                where = f"{pool.pool['name']}{', ' + label if label else ''}"
                effects.append(Effect(partner, pool.year.label, delta, where))
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
