"""Exit: the settlement when a partner leaves, or the agreement ends, part way through a year.

The position is taken at the exit date. Each pool's budget to that date is its budget for the
year in proportion to the days of the year that have passed (the exit date included), rounded
half up to the penny (of the agreement's part of the year, from commencement, in a year it
commenced part-way through: engine/term.py); the balance is net expenditure to the exit date less that budget, an
overspend when positive. The balance is shared by the pool's exit waterfall (`termination:
on_exit`, the pool's own or the agreement's), or by its risk share for the year where the
agreement states none. The latest day on which notice could be given for the exit date follows
from the agreement's notice period.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..calendar import Duration, add_duration, parse_month_day, year_containing
from ..compile import risk_share_for
from ..lists import counted
from ..money import format_money, format_pounds, parse_amount
from .run import RunError, RunResult, Working, run_ledger
from .settlement import NoLeaver, Settlement, YearContext, no_settlement, settle


@dataclass
class ExitPool:
    pool: dict[str, Any]
    budget: int | None
    budget_to_date: int | None
    actual: int
    balance_kind: str | None
    balance: int | None
    settlement: Settlement | None
    waterfall_from: str  # "pool", "agreement" or "risk share" (no exit terms stated)
    assets: str | None
    working: list[Working] = field(default_factory=list)


@dataclass
class ExitResult:
    run: RunResult  # the position at the exit date (rows, rejected rows, warnings)
    exit_on: date
    partner: str | None
    notice: dict[str, Any] | None  # period, give_by, given, source
    pools: list[ExitPool]
    warnings: list[str]

    def close(self) -> None:
        self.run.close()

    def run_as_pools(self, pool_id: str) -> RunResult:
        """The run with the pool's figures replaced by its exit figures: `budget` the budget to
        the exit date, the variance the balance, the settlement its shares (for scenarios)."""
        pools = []
        for pool, found in zip(self.run.pools, self.pools, strict=True):
            if pool.pool["id"] == pool_id and found.budget_to_date is not None:
                pool = replace(
                    pool,
                    budget=found.budget_to_date,
                    variance_kind=found.balance_kind,
                    variance=found.balance,
                    settlement=found.settlement,
                    explain={"settlement": found.working},
                )
            pools.append(pool)
        return replace(self.run, pools=pools)


def latest_notice_day(exit_on: date, notice: Duration) -> date:
    """The last day on which notice of `notice` length can be given for an exit on `exit_on`:
    the latest day from which the notice period runs out on or before the exit date."""
    day = exit_on
    while add_duration(day, notice) > exit_on:
        day -= timedelta(days=1)
    return day


def exit_settlement(
    ir: dict[str, Any],
    ledger: Path,
    exit_on: date,
    *,
    partner: str | None = None,
    notice_given: date | None = None,
    explain: bool = False,
    engine: str = "auto",
    sheet: str | None = None,
) -> ExitResult:
    """The exit settlement of every pool at `exit_on` (docs/running.md, "Exit"), the ledger
    run on `engine` (`run --engine`), from its `sheet` if it is a workbook."""
    head = ir["agreement"]
    partners = [p["id"] for p in ir["partners"]]
    if partner is not None and partner not in partners:
        raise RunError(
            f"--partner {partner} is not a partner of the agreement",
            usage=True,
            hint="one of " + ", ".join(partners),
        )
    _within_term(head, exit_on)
    if partner is None:
        leaving = [p["id"] for p in ir["pools"] if _gives_to_leaver(p)]
        if leaving:
            raise RunError(
                f"the exit terms of pool `{leaving[0]}` give a step `to leaving partner`, and no "
                "partner is named as leaving",
                usage=True,
                hint="name the partner that leaves with --partner",
            )
    notice = _notice(head, exit_on, notice_given)
    start = parse_month_day(head["financial_year_start"]) or (4, 1)
    year = year_containing(exit_on, *start)
    result = run_ledger(
        ir, ledger, year=year.label, as_of=exit_on, explain=explain, engine=engine, sheet=sheet
    )
    pools = [_pool(ir, pool_result, exit_on, partner) for pool_result in result.pools]
    # the forecast is not the exit's, but rows outside the agreement's term (R030) are
    warnings = [
        w for p in result.pools for w in p.warnings if "forecast" not in w or w.startswith("R030")
    ]
    if notice is not None and not notice["in_time"]:
        warnings.insert(
            0,
            f"an exit on {exit_on} needs {notice['period']}' notice by {notice['give_by']}, before "
            f"the agreement commenced ({head['commencement']}): it can only be agreed by the partners",
        )
    return ExitResult(result, exit_on, partner, notice, pools, result.warnings + warnings)


def _gives_to_leaver(pool: dict[str, Any]) -> bool:
    waterfall = (pool["exit"] or {}).get("waterfall") or {}
    return any(
        step["allocation"]["type"] == "to-leaver"
        for section in waterfall.values()
        for step in section["steps"]
    )


def without_carrying(section: dict[str, Any]) -> dict[str, Any]:
    """A risk-share section as it applies on exit, when there is no next year to carry into: a
    step that would carry an amount forward is passed over, and a last step that would carry all
    that is left shares it by contribution instead."""
    steps = []
    for step in section["steps"]:
        if step["allocation"]["type"] != "carried-forward":
            steps.append(step)
        elif step["kind"] == "rest":
            steps.append({**step, "allocation": {"type": "by-contribution"}})
    return {**section, "steps": steps}


def _within_term(head: dict[str, Any], exit_on: date) -> None:
    commencement = date.fromisoformat(head["commencement"]) if head["commencement"] else None
    expiry = date.fromisoformat(head["expiry"]) if head["expiry"] else None
    if commencement is not None and exit_on < commencement:
        raise RunError(
            f"--exit-on {exit_on} is before the agreement commences ({commencement})",
            usage=True,
        )
    if expiry is not None and exit_on > expiry:
        raise RunError(
            f"--exit-on {exit_on} is after the agreement expires ({expiry}): it ends by itself then",
            usage=True,
        )


def _notice(head: dict[str, Any], exit_on: date, given: date | None) -> dict[str, Any] | None:
    period = head["termination_notice"]
    if period is None:
        if given is not None:
            raise RunError(
                "--notice-given: the agreement states no notice period to check it against",
                usage=True,
                hint="add `termination: { notice: 12 months }` to the agreement",
            )
        return None
    give_by = latest_notice_day(exit_on, Duration(period["count"], period["unit"]))
    span = head.get("termination_span")
    source = f"{span['file']}:{span['line']}" if span else None
    commencement = head["commencement"]
    if given is not None and given > give_by:
        raise RunError(
            f"notice given on {given} is too late for an exit on {exit_on}: "
            f"{period['text']}' notice must be given by {give_by}",
            code="N001",
            hint=f"the earliest exit for notice given on {given} is "
            f"{add_duration(given, Duration(period['count'], period['unit']))}",
        )
    early = commencement is not None and give_by < date.fromisoformat(commencement)
    return {
        "period": period["text"],
        "give_by": give_by.isoformat(),
        "given": given.isoformat() if given else None,
        "source": source,
        "in_time": not early,
    }


def _pool(ir: dict[str, Any], pr: Any, exit_on: date, partner: str | None) -> ExitPool:
    pool = pr.pool
    terms = pool["exit"]
    waterfall = terms["waterfall"] if terms and terms["waterfall"] else None
    origin = terms["from"] if waterfall else "risk share"
    assets = " ".join(terms["assets"].split()) if terms and terms["assets"] else None
    work: list[Working] = []
    if waterfall is None:
        work.append(
            Working(
                "the agreement states no exit terms for this pool",
                f"its risk share for {pr.year.label} shares the balance, passing over any step "
                "that would carry an amount forward (there is no next year)",
            )
        )
    if pr.budget is None:
        return ExitPool(pool, None, None, pr.actual, None, None, None, origin, assets, work)
    year = pr.year
    term = pr.period  # the year, or the agreement's part of it: its budget is for that part
    days = (term.last_day - term.first_day).days + 1
    elapsed = (min(exit_on, term.last_day) - term.first_day).days + 1
    to_date = (pr.budget * elapsed * 2 + days) // (2 * days)  # half up, in whole pence
    of = year.label if term.is_whole_year else term.words()
    work.append(
        Working(
            f"budget to {exit_on}: {format_money(pr.budget)} × {elapsed}/{days} days of {of}",
            format_money(to_date),
        )
    )
    work.append(
        Working(f"net expenditure from {term.first_day} to {exit_on}", format_money(pr.actual))
    )
    contributions = {
        c["partner"]: parse_amount(c["amount"])
        for y in pool["contributions"]
        if y["year"] == year.label
        for c in y["partners"]
    }
    ctx = YearContext(
        [p["id"] for p in ir["partners"]],
        contributions,
        pool["host"],
        lambda _direction: {},
        leaver=partner,
    )
    section_source = (
        waterfall
        if waterfall is not None
        else {k: without_carrying(v) for k, v in (risk_share_for(pool, year.label) or {}).items()}
    )
    if pr.actual == to_date:
        work.append(Working("the balance at the exit date", "nil: nothing to share"))
        return ExitPool(
            pool,
            pr.budget,
            to_date,
            pr.actual,
            "balanced",
            0,
            no_settlement(ctx, section_source),
            origin,
            assets,
            work,
        )
    kind = "overspend" if pr.actual > to_date else "underspend"
    balance = abs(pr.actual - to_date)
    work.append(Working("the balance at the exit date", f"{kind} {format_money(balance)}"))
    try:
        shared = settle(section_source[kind], kind, balance, ctx)
    except NoLeaver:
        raise RunError(
            f"the exit waterfall of pool `{pool['id']}` gives a step `to leaving partner`, "
            "and no partner is named as leaving",
            usage=True,
            hint="name the partner that leaves with --partner",
        ) from None
    label = {"pool": "the pool's exit terms", "agreement": "the agreement's exit terms"}
    for step in shared.steps:
        parts = ", ".join(f"{p} {format_money(v)}" for p, v in step.allocated.items())
        work.append(
            Working(
                f"{kind} step {step.number} ({label.get(origin, 'the risk share')}): {step.text}",
                f"{format_money(step.taken)} {step.basis}: {parts or 'nothing'}",
                step.source,
            )
        )
    return ExitPool(
        pool, pr.budget, to_date, pr.actual, kind, balance, shared, origin, assets, work
    )


def exit_json(result: ExitResult) -> dict[str, Any]:
    """The exit settlement as a JSON-ready object (amounts as strings with two decimals)."""
    run = result.run
    return {
        "agreement": run.ir["agreement"]["id"],
        "exit_on": result.exit_on.isoformat(),
        "partner": result.partner,
        "notice": result.notice,
        "rows": {
            "read": run.totals.read,
            "used": run.totals.used,
            "rejected": len(run.totals.rejected),
        },
        "rejected": [r.to_json() for r in run.rejected],
        "warnings": result.warnings,
        "pools": [_pool_json(p, run.explain) for p in result.pools],
    }


def _pool_json(p: ExitPool, explain: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pool": p.pool["id"],
        "budget": format_pounds(p.budget) if p.budget is not None else None,
        "budget_to_date": format_pounds(p.budget_to_date) if p.budget_to_date is not None else None,
        "actual": format_pounds(p.actual),
        "balance": {"kind": p.balance_kind, "amount": format_pounds(p.balance or 0)}
        if p.balance_kind
        else None,
        "settlement": {
            "shares": {k: format_pounds(v) for k, v in p.settlement.shares.items()},
            "carried_forward": format_pounds(p.settlement.carried_forward),
        }
        if p.settlement
        else None,
        "waterfall": p.waterfall_from,
        "assets": p.assets,
    }
    if explain:
        out["explain"] = [w.to_json() for w in p.working]
    return out


def write_exit_text(result: ExitResult, out: Any) -> None:
    """The exit settlement for people: the notice, then each pool's balance and shares (every
    line with its control characters shown escaped, never sent to the terminal)."""
    from ..terminal import visible

    class _Visible:
        def write(self, text: str) -> None:
            out.write("\n".join(visible(line) for line in text.split("\n")))

    _write_exit_text(result, _Visible())


def _write_exit_text(result: ExitResult, out: Any) -> None:
    run = result.run
    out.write(f"{run.ir['agreement']['title']}\n")
    who = f"{result.partner} leaves" if result.partner else "the agreement ends"
    out.write(f"exit on {result.exit_on}: {who}\n")
    if result.notice:
        n = result.notice
        line = f"notice: {n['period']}, to be given by {n['give_by']}"
        if n["given"]:
            line += f" (given {n['given']}: in time)"
        out.write(line + (f" ({n['source']})" if n["source"] else "") + "\n")
    rows = run.totals
    out.write(
        f"ledger: {counted(rows.read, 'row')} read, {rows.used:,} used, {len(rows.rejected):,} rejected\n"
    )
    for warning in result.warnings:
        out.write(f"warning: {warning}\n")
    for p in result.pools:
        out.write(f"\n{p.pool['name']} ({p.pool['id']})\n")
        if p.budget is None:
            out.write("  no contributions stated for the year: no balance to share\n")
            continue
        out.write(f"  budget to date   {format_money(p.budget_to_date or 0):>20}\n")
        out.write(f"  net expenditure  {format_money(p.actual):>20}\n")
        out.write(f"  balance          {p.balance_kind} {format_money(p.balance or 0)}\n")
        if p.settlement:
            for who_pays, pence in p.settlement.shares.items():
                out.write(f"    {who_pays:<14} {format_money(pence):>20}\n")
        if run.explain:
            for w in p.working:
                out.write(f"    {w.text()}\n")
        if p.assets:
            out.write(f"  assets and staff: {' '.join(p.assets.split())}\n")
