"""Early warning: when, at the current run-rate (or by the pool's own forecast method), each
reporting trigger will fire.

Under the default method the projection spends the §6 run-rate (net expenditure to the last month end ÷ months elapsed)
in every month still to come (of the agreement's part of the year, where it commenced or
expires inside it: engine/term.py), then asks the engine's own reporting schedule (engine.reports)
which triggered duties that projected year would raise, and when. Forecast rows already in the
ledger keep their §6 precedence: the latest one on or before a day is that day's forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from ..engine.forecast import project_parts
from ..engine.position import Position, Series
from ..engine.reports import Due, schedule
from ..engine.run import PoolResult, RunResult, pool_data, pool_position
from ..money import format_money, parse_amount, round_half_away


@dataclass(frozen=True)
class EarlyWarning:
    """One triggered duty: raised already (when), or when the run-rate would raise it."""

    duty: int
    report: str
    to: str
    trigger: str  # the trigger as written
    source: str  # file:line of the duty
    raised: list[Due]  # raised on or before the as-of date (engine results)
    projected: Due | None  # the first raising after the as-of date at the current run-rate
    note: str  # in words, for the page


def _projected_position(result: RunResult, pool: PoolResult) -> Position | None:
    """The pool's year (or the agreement's part of it) with every month after the as-of date
    spent at the current run-rate."""
    term, as_of = pool.period, result.as_of
    year = term.year
    data = pool_data(result.totals, pool.pool["id"], pool.borne)
    ends = [d for d in term.month_ends() if d <= as_of]
    if not ends or as_of >= term.last_day or pool.budget is None:
        return None
    method = (pool.pool.get("forecast_method") or {"method": "run-rate"})["method"]
    if method == "profile":
        return _projected_by_profile(result, pool, ends)
    actual = Position(year, Series(data.net), pool.budget, term=term)
    rate = actual.spent_to(ends[-1]) / term.months_elapsed(ends[-1])  # pence a month, exactly
    net = dict(data.net)
    running = actual.spent_to(as_of)
    months = Fraction(0)
    for month in term.months:
        months += month.weight
        if month.last <= as_of:
            continue
        target = round_half_away(rate * months)
        net[month.last] = net.get(month.last, 0) + target - running
        running = target
    known = [f for f in data.forecasts if f[0] <= as_of]  # no forecast from after the as-of date
    # under `latest forecast` the spending goes on at the run-rate, but the forecast moves only
    # with forecast rows, and none after the as-of date is known
    return Position(year, Series(net), pool.budget, known, method, term=term)


def _projected_by_profile(result: RunResult, pool: PoolResult, ends: list[date]) -> Position:
    """The year projected by the pool's budget profile: each part goes on spending as its profile
    plans, so its forecast holds."""
    term, data = pool.period, pool_data(result.totals, pool.pool["id"], pool.borne)
    year = term.year
    known = [f for f in data.forecasts if f[0] <= result.as_of]
    position = pool_position(pool.pool, term, data, pool.budget)
    parts = position.profile
    if parts is None:
        return Position(year, Series(data.net), pool.budget, known, position.method, term=term)
    projected, net = project_parts(parts, term.first_day, ends, term.month_ends())
    return Position(year, Series(net), pool.budget, known, position.method, projected, term)


def early_warnings(result: RunResult, pool: PoolResult) -> list[EarlyWarning]:
    """For each triggered duty of the pool: when it was raised, and when it would be next."""
    duties = [d for d in pool.pool["reporting"] if d["trigger"] is not None]
    if not duties:
        return []
    projected = _projected_position(result, pool)
    future: list[Due] = []
    if projected is not None:
        future = [
            d
            for d in schedule(duties, projected, pool.period.last_day)
            if d.period_end > result.as_of
        ]
    out = []
    for duty in duties:
        raised = [r for r in pool.reports if r.triggered and r.duty == duty["number"]]
        ahead = next((d for d in future if d.duty == duty["number"]), None)
        out.append(
            EarlyWarning(
                duty["number"],
                duty["report"],
                duty["to"],
                _trigger_words(duty["trigger"]),
                f"{duty['span']['file']}:{duty['span']['line']}",
                raised,
                ahead,
                _note(result, pool, raised, ahead, projected is not None),
            )
        )
    return out


def _trigger_words(trigger: dict[str, Any]) -> str:
    what = ("forecast " if trigger["forecast"] else "") + trigger["direction"]
    limit = (
        f"{trigger['percent']}%"
        if trigger["percent"] is not None
        else format_money(parse_amount(trigger["amount"]), always_pence=False)
    )
    return f"when {what} exceeds {limit}"


def _note(
    result: RunResult, pool: PoolResult, raised: list[Due], ahead: Due | None, projected: bool
) -> str:
    method = (pool.pool.get("forecast_method") or {}).get("method", "run-rate")
    how = {
        "profile": "spending as the budget profile plans",
        "latest forecast": "on the latest forecast",
    }
    at = how.get(method, "at the current run-rate")
    if ahead is not None:
        return f"{at} it fires on {ahead.period_end}; the report would be due {ahead.due}"
    if not projected:
        if result.as_of >= pool.period.last_day:
            return "the year has ended: no projection"
        if pool.budget is None:
            return "no budget for the year: no projection"
        return "no month of the year has ended yet, so there is no run-rate to project"
    if raised:
        return f"{at} it is not raised again this year"
    return f"{at} it does not fire this year"


def report_status(due: date, as_of: date, sent: date | None, recorded: bool) -> str:
    """A report's standing on the as-of date: done, done late, overdue, not recorded, due today
    or upcoming. Without a record of reports sent (`recorded` false) a past one is `not recorded`.
    """
    if sent is not None and sent <= as_of:
        return "done" if sent <= due else "done late"
    if due < as_of:
        return "overdue" if recorded else "not recorded"
    return "due today" if due == as_of else "upcoming"
