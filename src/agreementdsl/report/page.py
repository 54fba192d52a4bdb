"""The monthly monitoring report: one self-contained HTML page per agreement.

Built from the compiled IR and the engine's results only (never the YAML model): the figures
come from the same JSON `run --format json` prints (see figures.py), the what-if from the
engine's settlement code, the early warning from its reporting schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from ..compile import risk_share_for
from ..engine.approvals import approvers_words
from ..engine.run import PoolResult, RunResult, _element_parts, _own_parts, pool_data
from ..money import format_money, format_pounds
from ..render.environment import environment
from . import svg
from .figures import (
    Clause,
    Figure,
    Month,
    budget_profile,
    clause,
    contributions_span,
    engine_json,
    months,
    risk_span,
    span_source,
)
from .sent import Sent
from .warning import EarlyWarning, early_warnings, report_status
from .whatif import WhatIf, WhatIfError, kinks, what_if, year_context

MAX_BREACHES = 100  # the largest; `run --format json` lists every one


@dataclass
class PoolView:
    ir: dict[str, Any]
    json: dict[str, Any]
    head: dict[str, Figure | None]
    shares: list[tuple[str, Figure]]
    carried_forward: Figure | None
    month_rows: list[Month]
    elements: list[tuple[str, Figure | None, Figure]]
    breaches: list[dict[str, Any]]
    breach_count: int
    approvals_count: int
    reports: list[dict[str, Any]]
    warnings: list[EarlyWarning]
    disputes: list[dict[str, Any]]
    whatif: WhatIf | None
    whatif_error: str | None
    charts: dict[str, Markup] = field(default_factory=dict)
    clauses: dict[str, Clause] = field(default_factory=dict)
    forecast_line: bool = False  # the cumulative chart draws a path to the forecast outturn
    forecast_how: str = ""  # how the engine reached that forecast (§6: a forecast row, run-rate)
    profiled: bool = False  # the budget to date follows the agreement's budget profile


def _figure(pool_id: str, name: str, value: str | None, where: Clause | None) -> Figure | None:
    return Figure(f"pools.{pool_id}.{name}", value, where) if value is not None else None


def _whatif_range(budget: int, outturn: int | None, ctx_kinks: list[int]) -> tuple[int, int]:
    """From 10% under the budget to 10% over, widened to take in the forecast and every kink."""
    low, high = budget - budget // 10, budget + budget // 10
    for value in [*(ctx_kinks), *([outturn] if outturn is not None else [])]:
        low, high = min(low, value - budget // 40), max(high, value + budget // 40)
    return max(low, 0), high


def _pool_view(
    result: RunResult, pool: PoolResult, data: dict[str, Any], sent: dict[Any, Sent] | None
) -> PoolView:
    pid = pool.pool["id"]
    pj = next(p for p in data["pools"] if p["pool"] == pid)
    # the pool as the run year sees it: its risk share is the one stated for that year
    ir_pool = {**pool.pool, "risk_share": risk_share_for(pool.pool, pj["year"])}
    kind = (pj["variance"] or {}).get("kind")
    where_budget = clause(ir_pool, "contributions", contributions_span(ir_pool, pj["year"]))
    where_risk = clause(ir_pool, "risk", risk_span(ir_pool, kind))
    head = {
        "budget": _figure(pid, "budget", pj["budget"], where_budget),
        "actual": _figure(pid, "actual", pj["actual"], clause(ir_pool, "schedule")),
        "forecast": _figure(pid, "forecast", pj["forecast"], clause(ir_pool, "reporting")),
        "variance": _figure(
            pid, "variance.amount", (pj["variance"] or {}).get("amount"), where_risk
        ),
    }
    shares, carried = [], None
    if pj["settlement"] is not None:
        shares = [
            (p, Figure(f"pools.{pid}.settlement.shares.{p}", v, where_risk))
            for p, v in pj["settlement"]["shares"].items()
        ]
        carried = Figure(
            f"pools.{pid}.settlement.carried_forward",
            pj["settlement"]["carried_forward"],
            where_risk,
        )
    budget = head["budget"].pence if head["budget"] else None
    element_names = {e["id"]: e for e in ir_pool["elements"]}
    elements = [
        (
            element_names[e["element"]]["name"],
            _figure(pid, f"elements.{e['element']}.budget", e["budget"], where_budget),
            Figure(
                f"pools.{pid}.elements.{e['element']}.actual",
                e["actual"],
                Clause(span_source(element_names[e["element"]]["span"]), f"part-{pid}-spec"),
            ),
        )
        for e in pj["elements"]
    ]
    every_breach = sorted(
        (a for a in pj["approvals"] if not a["compliant"]),
        key=lambda a: (-Figure("", a["amount"]).pence, a["row"]),
    )
    breaches = every_breach[:MAX_BREACHES]
    for b in breaches:
        b["approved"] = approvers_words(b["recorded"], b.get("undefined", ()))
        b["figure"] = Figure(
            f"pools.{pid}.approvals.row-{b['row']}.amount",
            b["amount"],
            Clause(b.get("rule") or span_source(ir_pool["span"]), f"part-{pid}-authority"),
        )
    duty_span = {d["number"]: d["span"] for d in ir_pool["reporting"]}
    reports = []
    for due_obj, r in zip(pool.reports, pj["reports"], strict=True):
        key = (pid, r["report"], date.fromisoformat(r["period_end"]))
        record = sent.get(key) if sent is not None else None
        status = report_status(
            due_obj.due, result.as_of, record.sent_on if record else None, sent is not None
        )
        reports.append(
            {
                **r,
                "status": status,
                "sent_on": record.sent_on.isoformat() if record else None,
                "clause": Clause(span_source(duty_span[due_obj.duty]), f"part-{pid}-reporting"),
            }
        )
    disputes = [
        {**d, "clause": Clause(span_source(ir_pool["span"]), f"part-{pid}-disputes")}
        for d in pj["disputes"]
    ]
    whatif, whatif_error = None, None
    if budget is not None and ir_pool["risk_share"]:
        try:
            ctx = year_context(result.ir, ir_pool, pj["year"])
            marks = [k.outturn for k in kinks(ir_pool, ctx)]
            outturn = head["forecast"].pence if head["forecast"] else None
            if result.as_of >= pool.period.last_day:
                outturn = head["actual"].pence if head["actual"] else outturn
            low, high = _whatif_range(budget, outturn, marks)
            sums = pool_data(result.totals, pid, pool.borne)
            parts = _element_parts(ir_pool, sums, pool.period, result.as_of)
            own = _own_parts(ir_pool, sums, pool.period, result.as_of)
            now = (outturn,) if outturn is not None else ()
            whatif = what_if(
                result.ir, pid, pj["year"], low, high, element_parts=parts, also=now, own_parts=own
            )
        except WhatIfError as exc:
            whatif_error = f"{exc.code}: {exc.message}"
    view = PoolView(
        ir_pool,
        pj,
        head,
        shares,
        carried,
        months(pj, ir_pool, budget, pool.period),
        elements,
        breaches,
        len(every_breach),
        len(pj["approvals"]),
        reports,
        early_warnings(result, pool),
        disputes,
        whatif,
        whatif_error,
    )
    view.charts = _charts(view, pool, result)
    return view


def _charts(view: PoolView, pool: PoolResult, result: RunResult) -> dict[str, Markup]:
    pid = view.ir["id"]
    term = pool.period  # the year, or the agreement's part of it (engine/term.py)
    labels = [e.strftime("%b") for e in term.month_ends()]
    last = float(len(labels))
    charts: dict[str, Markup] = {}
    budget = view.head["budget"].pence if view.head["budget"] else None
    rows = view.month_rows
    if rows:
        actual_line = [(0.0, 0)] + [(float(i + 1), m.cumulative) for i, m in enumerate(rows)]
        lines = []
        if budget is not None:
            planned, profiled = budget_profile(view.ir, pool.year.label, budget, term)
            points = [(0.0, 0)] + [(float(k), p) for k, p in enumerate(planned, start=1)]
            name = "budget as profiled" if profiled else "budget (straight line)"
            view.profiled = profiled
            lines.append(svg.Line(name, points, svg.PALETTE[5]))
        lines.append(svg.Line("actual to date", actual_line, svg.PALETTE[0]))
        markers = []
        forecast = view.head["forecast"]
        ended = result.as_of >= term.last_day
        if forecast is not None and not ended:
            done = len([e for e in term.month_ends() if e <= result.as_of])
            start = (float(done), rows[done - 1].cumulative) if done else (0.0, 0)
            lines.append(
                svg.Line(
                    "path to the forecast outturn",
                    [start, (last, forecast.pence)],
                    svg.PALETTE[1],
                    True,
                )
            )
            view.forecast_line = True
            view.forecast_how = pool.forecast.how if pool.forecast else ""
            markers.append((last, forecast.pence, f"forecast {format_money(forecast.pence)}"))
        elif ended and view.head["actual"] is not None:
            markers.append(
                (
                    last,
                    view.head["actual"].pence,
                    f"outturn {format_money(view.head['actual'].pence)}",
                )
            )
        charts["cumulative"] = Markup(
            svg.line_chart(
                f"{pid}-cumulative",
                "Cumulative net expenditure against the budget",
                labels,
                lines,
                markers,
            )
        )
        charts["monthly"] = Markup(
            svg.bar_chart(
                f"{pid}-monthly",
                "Net expenditure by month",
                [m.label for m in rows],
                [m.net.pence for m in rows],
                budget // len(labels) if budget is not None else None,
                f"budget ÷ {len(labels)}",
            )
        )
    if view.elements:
        charts["elements"] = Markup(
            svg.paired_bars(
                f"{pid}-elements",
                "Budget and actual by element",
                [(name, b.pence if b else None, a.pence) for name, b, a in view.elements],
            )
        )
    w = view.whatif
    if w is not None:
        bands = [
            (p, [pt.shares[p] * (1 if pt.kind == "overspend" else -1) for pt in w.points])
            for p in w.partners
        ]
        if any(pt.carried_forward for pt in w.points):
            bands.append(("carried forward", [-pt.carried_forward for pt in w.points]))
        now = view.head["forecast"].pence if view.head["forecast"] else None
        charts["whatif"] = Markup(
            svg.stacked_chart(
                f"{pid}-whatif",
                "Who pays (above the line) or gets back (below it) at each outturn",
                [pt.outturn for pt in w.points],
                bands,
                [(k.outturn, f"{format_money(k.outturn)}: {k.text}") for k in w.kinks],
                now,
            )
        )
    return charts


def build_report(
    result: RunResult,
    *,
    sent: dict[Any, Sent] | None = None,
    extra_rejected: list[Any] | None = None,
    schedule_href: str = "",
    source_name: str = "",
) -> str:
    """The report page as HTML text (self-contained: inline CSS and SVG, no script)."""
    data = engine_json(result)
    pools = [_pool_view(result, p, data, sent) for p in result.pools]
    partners = {p["id"]: p["name"] for p in result.ir["partners"]}
    rejected = data["rejected"] + [r.to_json() for r in extra_rejected or []]
    env = environment()
    env.filters["money"] = lambda v: format_money(Figure("", v).pence) if v is not None else "—"
    env.filters["pounds"] = format_pounds
    return (
        env.get_template("report/report.html.j2")
        .render(
            ir=result.ir,
            data=data,
            pools=pools,
            partners=partners,
            rejected=rejected,
            outcomes=data.get("outcomes"),
            schedule_href=schedule_href,
            source_name=source_name,
            recorded=sent is not None,
        )
        .rstrip()
        + "\n"
    )


def error_page(title: str, problems: list[tuple[str, str, str | None]]) -> str:
    """A page that says, for one agreement, why there is no report: code, message, where."""
    env = environment()
    return env.get_template("report/error.html.j2").render(title=title, problems=problems)
