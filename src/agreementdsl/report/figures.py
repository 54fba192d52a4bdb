"""The figures of a monitoring report, read from the engine's JSON results and the compiled IR.

Every money figure on the page is a `Figure`: the JSON path it comes from in `run --format
json` (`pools.mental-health.forecast`), the exact string there, and the clause it comes from.
The page prints `data-figure` and `data-value` for each, so a test (or an auditor) can check the
page against the engine figure by figure.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..engine.output import write_json
from ..engine.run import RunResult
from ..engine.term import Term
from ..money import format_money, parse_amount


@dataclass(frozen=True)
class Clause:
    """Where a figure comes from: `file:line` and the anchor of the rendered schedule."""

    source: str
    anchor: str


@dataclass(frozen=True)
class Figure:
    path: str  # JSON path in `run --format json`, pools and lists keyed by id
    value: str  # the exact string there ("740000.00")
    clause: Clause | None = None

    @property
    def pence(self) -> int:
        return parse_amount(self.value)

    @property
    def text(self) -> str:
        return format_money(self.pence)


def engine_json(result: RunResult) -> dict[str, Any]:
    """The run's results exactly as `run --format json` prints them."""
    out = io.StringIO()
    write_json(result, out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def span_source(span: dict[str, Any]) -> str:
    return f"{span['file']}:{span['line']}"


def clause(pool: dict[str, Any], part: str, span: dict[str, Any] | None = None) -> Clause:
    """The clause of `pool` behind a figure: its Part in the schedule and its line."""
    anchor = f"part-{pool['id']}-{part}" if part != "schedule" else f"schedule-{pool['id']}"
    return Clause(span_source(span or pool["span"]), anchor)


def contributions_span(pool: dict[str, Any], year: str) -> dict[str, Any] | None:
    for stated in pool["contributions"]:
        if stated["year"] == year:
            span: dict[str, Any] = stated["span"]
            return span
    return None


def risk_span(pool: dict[str, Any], kind: str | None) -> dict[str, Any] | None:
    section = (pool["risk_share"] or {}).get(kind or "")
    return section["span"] if section else None


@dataclass(frozen=True)
class Month:
    label: str  # "Apr"
    month: str  # "2005-04"
    net: Figure
    cumulative: int  # pence, the sum of the nets so far
    budget_to_date: int  # the straight-line budget profile to this month's end


def budget_profile(
    pool: dict[str, Any], year: str, budget: int | None, term: Term | None = None
) -> tuple[list[int], bool]:
    """The budget planned to each month end of the year (12 figures, to the penny, halves away
    from nil), and whether it follows the pool's own profile: its `profile` forecast method by
    month or by element (elements by their budgets for the year), else twelfths of the budget.
    With the agreement's `term` within the year (engine/term.py), one figure a month of it."""
    from fractions import Fraction

    from ..engine.forecast import EVEN, cumulative_for, to_term
    from ..engine.run import _element_budgets
    from ..money import round_half_away

    method = pool.get("forecast_method") or {"method": "run-rate"}
    plans: list[tuple[int, list[Fraction]]] = [(budget or 0, to_term(EVEN, term))]
    profiled = False
    if method["method"] == "profile" and method["by"] == "month":
        plans = [(budget or 0, cumulative_for(method["profile"][0]["months"], term))]
        profiled = method["profile"][0]["months"] != "even"
    elif method["method"] == "profile":
        named = {p["element"]: p["months"] for p in method["profile"]}
        by_element = _element_budgets(pool, year)
        if by_element:
            plans = [(b, cumulative_for(named.get(e, "even"), term)) for e, b in by_element.items()]
            profiled = len(by_element) > 1 or named.get(next(iter(by_element)), "even") != "even"
    count = len(plans[0][1])
    return [
        round_half_away(sum((b * c[k] for b, c in plans), Fraction(0))) for k in range(count)
    ], profiled


def months(
    pool_json: dict[str, Any], pool: dict[str, Any], budget: int | None, term: Term | None = None
) -> list[Month]:
    """The year's months so far: net, cumulative net and the budget planned to each month end."""
    pool_id = pool["id"]
    where = clause(pool, "schedule")
    out = []
    running = 0
    planned, _ = budget_profile(pool, pool_json["year"], budget, term)
    for k, m in enumerate(pool_json["months"], start=1):
        net = Figure(f"pools.{pool_id}.months.{m['month']}.net", m["net"], where)
        running += net.pence
        profile = planned[k - 1] if k <= len(planned) else (budget or 0)
        label = date.fromisoformat(str(m["to"])).strftime("%b")
        out.append(Month(label, m["month"], net, running, profile))
    return out


def lookup(data: dict[str, Any], path: str) -> Any:
    """The value at a figure path in the engine's JSON (pools, months, elements, approvals by id)."""
    keyed = {"pools": "pool", "months": "month", "elements": "element", "approvals": "row"}
    node: Any = data
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(node, list):
            raise KeyError(path)
        node = node[part]
        if isinstance(node, list) and part in keyed and i + 1 < len(parts):
            i += 1
            name = parts[i]
            # a month key has a dot-free form (2005-04); a row key is "row-17"
            want = name[4:] if part == "approvals" else name
            node = next(x for x in node if str(x[keyed[part]]) == want)
        i += 1
    return node
