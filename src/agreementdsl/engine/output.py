"""Writing run results: the JSON contract of LANGUAGE.md §11 (streamed), and text for people."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from ..lists import counted
from ..money import format_money, format_pounds, parse_amount
from ..terminal import visible as v
from .approvals import Decision
from .executor import Classified
from .funding import contributed, has_detail
from .ledger import Rejected
from .orders import iter_with_rows, with_first, with_rows
from .run import PoolResult, RunResult
from .summary import tally


def _approvals(result: RunResult, pool: PoolResult) -> Iterator[Classified]:
    """The pool's spends of the run year dated on or before the as-of date, in row order."""
    year = result.year
    for item in result.approvals:
        if (
            item.pool == pool.pool["id"]
            and year.first_day <= item.day <= result.as_of
            and item.day <= year.last_day
        ):
            yield item


def approval_json(result: RunResult, item: Classified) -> dict[str, object]:
    d = item.decision
    out: dict[str, object] = {
        "row": item.row,
        "date": item.day.isoformat(),
        "amount": format_pounds(item.amount),
        **d.to_json(),
    }
    if result.explain:
        authority = result.authorities[item.pool]
        out["explain"] = authority.why_not_lower(d, item.amount, item.in_plan, item.fields)
    return out


APPROVALS = ("all", "breaches")  # which spends `run` lists: --approvals


def _approval_lines(
    result: RunResult, pool: PoolResult, only_breaches: bool = False
) -> Iterator[str]:
    """The pool's approvals as JSON text, one line each, built from cached fragments.

    With --explain every line is built in full; otherwise the part that depends only on the
    decision is encoded once per distinct decision, which keeps a million spends quick.
    `only_breaches` leaves out the spends that comply (--approvals breaches).
    """
    if result.explain:
        for item in _approvals(result, pool):
            if not (only_breaches and item.decision.compliant):
                yield json.dumps(approval_json(result, item), ensure_ascii=False)
        return
    index = result.approvals.pools.index(pool.pool["id"])
    first, last = (
        result.year.first_day.toordinal(),
        min(result.as_of, result.year.last_day).toordinal(),
    )
    table = result.approvals.table
    dates: dict[int, str] = {}
    # A compliant spend under --approvals breaches has the empty fragment: skipped below at no
    # cost to the rows that are listed.
    fragments: dict[int, str] = (
        {i: "" for i, (d, _, _) in enumerate(table) if d.compliant} if only_breaches else {}
    )
    spool = result.approvals
    records = (
        spool.records_for({i for i, (d, _, _) in enumerate(table) if not d.compliant}, index)
        if only_breaches
        else spool.records(index)
    )
    for row, amount, ordinal, _, ident in records:  # of this pool only
        if ordinal < first or ordinal > last:
            continue
        tail = fragments.get(ident)
        if not tail:
            if tail == "":
                continue
            parts = table[ident][0].to_json()
            tail = fragments[ident] = json.dumps(parts, ensure_ascii=False)[1:]
        day = dates.get(ordinal)
        if day is None:
            day = dates[ordinal] = date.fromordinal(ordinal).isoformat()
        whole, pence = divmod(amount, 100)
        yield f'{{"row": {row}, "date": "{day}", "amount": "{whole}.{pence:02d}", {tail}'


def _pool_head(pool: PoolResult) -> dict[str, Any]:
    settlement = None
    if pool.settlement is not None:
        settlement = {
            "shares": {p: format_pounds(v) for p, v in pool.settlement.shares.items()},
            "carried_forward": format_pounds(pool.settlement.carried_forward),
        }
    return (
        {
            "pool": pool.pool["id"],
            "year": pool.year.label,
        }
        | (
            # a part-year period (the agreement commences or expires within the year): the
            # figures are of it
            {
                "period": {
                    "from": pool.period.first_day.isoformat(),
                    "to": pool.period.last_day.isoformat(),
                }
            }
            if not pool.period.is_whole_year
            else {}
        )
        | {
            "budget": format_pounds(pool.budget) if pool.budget is not None else None,
            "actual": format_pounds(pool.actual),
            "forecast": format_pounds(pool.forecast.pence)
            if pool.forecast is not None and pool.budget is not None
            else None,
            "variance": {"kind": pool.variance_kind, "amount": format_pounds(pool.variance or 0)}
            if pool.variance_kind
            else None,
            "settlement": settlement,
        }
        | _brought_forward(pool)
        | _paid(pool)
        | {"contributed": contributed(pool.pool, pool.year.label)}
        | {"unapproved_spend": pool.borne.to_json() if pool.borne is not None else None}
    )


def _paid(pool: PoolResult) -> dict[str, Any]:
    """Contributions paid against those due, where the ledger records contributions."""
    return {"contributions": [p.to_json() for p in pool.paid] if pool.paid is not None else None}


def _brought_forward(pool: PoolResult) -> dict[str, Any]:
    """Only in a run of several years: the balance the year before carried into this one."""
    if pool.brought_forward is None:
        return {}
    signed = pool.brought_forward
    kind = "underspend" if signed > 0 else "overspend" if signed < 0 else None
    return {
        "brought_forward": {"kind": kind, "amount": format_pounds(abs(signed))} if kind else None
    }


def write_json(
    result: RunResult,
    out: IO[str],
    approvals: str = "all",
    explain_row: dict[str, object] | None = None,
) -> None:
    """One JSON object; approvals are streamed from the spool so memory stays flat.

    `approvals` is "all" (every spend, the contract of LANGUAGE.md §11) or "breaches" (only
    the spends that breach delegated authority; each pool then says so in `approvals_listed`).
    """
    only_breaches = _approvals_option(approvals) == "breaches"
    dumps = json.dumps
    head = {
        "agreement": result.ir["agreement"]["id"],
        "as_of": result.as_of.isoformat(),
        "year": result.year.label,
        "rows": {
            "read": result.totals.read,
            "used": result.totals.used,
            "rejected": len(result.totals.rejected),
        },
        "rejected": [r.to_json() for r in result.rejected],
        "warnings": result.warnings + [w for p in result.pools for w in p.warnings],
    }
    out.write("{\n")
    for key, value in head.items():
        out.write(f"  {dumps(key)}: {dumps(value, ensure_ascii=False)},\n")
    out.write('  "pools": [')
    for i, pool in enumerate(result.pools):
        out.write(",\n    {" if i else "\n    {")
        for key, value in _pool_head(pool).items():
            out.write(f"\n      {dumps(key)}: {dumps(value, ensure_ascii=False)},")
        if only_breaches:
            out.write('\n      "approvals_listed": "breaches",')
        out.write('\n      "approvals": [')
        any_lines = False
        batch: list[str] = []
        for line in _approval_lines(result, pool, only_breaches):
            batch.append(line)
            if len(batch) >= 4096:
                out.write(("," if any_lines else "") + "\n        " + ",\n        ".join(batch))
                any_lines, batch = True, []
        if batch:
            out.write(("," if any_lines else "") + "\n        " + ",\n        ".join(batch))
            any_lines = True
        out.write("\n      ],\n" if any_lines else "],\n")
        tail: dict[str, Any] = {
            "reports": [r.to_json() for r in pool.reports],
            "disputes": [s.to_json() for s in pool.disputes],
            "split_orders": _STREAMED,
            "elements": pool.elements,
            "months": pool.months,
        }
        if result.explain:
            tail["explain"] = {
                k: [w.to_json() for w in pool.explain[k]]
                for k in EXPLAIN_ORDER
                if k in pool.explain
            }
        for i, (k, value) in enumerate(tail.items()):
            out.write(f"{',' + chr(10) if i else ''}      {dumps(k)}: ")
            if value is _STREAMED:  # each split order as it is read: "[a, b]" as dumps writes it
                out.write("[")
                for j, order in enumerate(iter_with_rows(result.totals, pool.split_orders)):
                    out.write((", " if j else "") + dumps(order.to_json(), ensure_ascii=False))
                out.write("]")
            else:
                out.write(dumps(value, ensure_ascii=False))
        out.write("\n    }")
    out.write("\n  ]")
    if result.outcomes is not None:
        out.write(f',\n  "outcomes": {dumps(result.outcomes, ensure_ascii=False)}')
    if explain_row is not None:  # run --explain-row N
        out.write(f',\n  "explain_row": {dumps(explain_row, ensure_ascii=False)}')
    out.write("\n}\n")


def _approvals_option(approvals: str) -> str:
    if approvals not in APPROVALS:
        raise ValueError(f"approvals must be one of {', '.join(APPROVALS)}, not {approvals!r}")
    return approvals


# ---------------------------------------------------------------- text
def write_text(
    result: RunResult, out: IO[str], style: Any = None, approvals: str = "breaches"
) -> None:
    """A summary people can read: per pool the figures, breaches, reports and disputes.

    `approvals` "breaches" (the default) counts the spends and lists the first 20 breaches;
    "all" lists every spend of the year to the as-of date, compliant or not."""
    every = _approvals_option(approvals) == "all"
    _read_split_rows(result, SPLIT_ORDERS_SHOWN)
    s = style or (lambda text, **_: text)
    ir = result.ir
    rows = result.totals
    out.write(s(v(ir["agreement"]["title"]), bold=True) + "\n")
    out.write(
        f"{v(ir['agreement']['id'])} · financial year {result.year.label} · as of {result.as_of}\n"
    )
    left_out = " (left out of every figure below; listed at the end)" if rows.rejected else ""
    out.write(
        f"ledger: {counted(rows.read, 'row')} read, {rows.used:,} used, {len(rows.rejected):,} rejected"
        f"{left_out}\n"
    )
    for warning in result.warnings:
        out.write(s(f"warning: {v(warning)}", fg="yellow") + "\n")
    for pool in result.pools:
        _pool_text(result, pool, out, s, every)
    if result.rejected:
        write_rejected("Rejected rows", result.rejected, out, s)
    if result.outcomes is not None:
        out.write("\n" + s("Outcomes", bold=True) + "\n")
        for o in result.outcomes:
            colour = {"met": "green", "missed": "red", "missing": "yellow"}[str(o["status"])]
            value = o["value"] if o["value"] is not None else "—"
            out.write(
                f"  {v(o['id']):<28} {v(o['period']):<11} {v(value):>8}  target {v(o['target']):<8} "
                + s(str(o["status"]), fg=colour)
                + "\n"
            )


SHOWN_REJECTED = 50  # rejected rows listed in the text output (JSON lists every one)


def write_rejected(title: str, rows: list[Rejected], out: IO[str], s: Any) -> None:
    """The text output's list of rejected rows: the first SHOWN_REJECTED, then how many more,
    and then, so that the rows not listed are not just a number, how many of all carry each
    code (most first), when they carry more than one."""
    out.write("\n" + s(f"{title} ({len(rows):,})", bold=True) + "\n")
    for r in rows[:SHOWN_REJECTED]:
        where = f"{v(r.file)}:{r.row}" if r.file else f"row {r.row}"
        out.write(f"  {where:>12}  {r.code}  {v(r.message)}\n")
    if len(rows) > SHOWN_REJECTED:
        out.write(f"  … and {len(rows) - SHOWN_REJECTED:,} more (use --format json for all)\n")
        codes = Counter(r.code for r in rows)
        if len(codes) == 1:
            return  # the title's count is already the one code's
        out.write(
            "  all by code: "
            + ", ".join(
                f"{code} {n:,}" for code, n in sorted(codes.items(), key=lambda c: (-c[1], c[0]))
            )
            + "\n"
        )


def _pool_text(
    result: RunResult, pool: PoolResult, out: IO[str], s: Any, every: bool = False
) -> None:
    out.write("\n" + s(f"{v(pool.pool['name'])} ({v(pool.pool['id'])})", bold=True) + "\n")
    if not pool.period.is_whole_year:
        out.write(
            f"  {pool.period.words()} (this Agreement's part of financial year "
            f"{pool.year.label}): the figures are of that period\n"
        )
    for warning in pool.warnings:
        out.write(s(f"  warning: {v(warning)}", fg="yellow") + "\n")
    money = lambda v: format_money(v) if v is not None else "—"  # noqa: E731
    out.write(f"  {'budget':<12}{money(pool.budget):>18}\n")
    out.write(f"  {'actual':<12}{money(pool.actual):>18}\n")
    out.write(
        f"  {'forecast':<12}{money(pool.forecast.pence if pool.forecast and pool.budget is not None else None):>18}\n"
    )
    if pool.variance_kind:
        colour = "red" if pool.variance_kind == "overspend" else "green"
        out.write(
            f"  {'variance':<12}{money(pool.variance):>18}  "
            + s(pool.variance_kind, fg=colour)
            + "\n"
        )
    if pool.settlement is not None:
        if result.as_of >= pool.year.last_day:
            out.write("  settlement\n")
        else:  # the year has not ended: the shares are of the forecast outturn
            out.write("  settlement, indicative (on the forecast outturn)\n")
        for partner, pence in pool.settlement.shares.items():
            out.write(f"    {v(partner):<10}{format_money(pence):>18}\n")
        if pool.settlement.carried_forward:
            carried = format_money(pool.settlement.carried_forward)
            out.write(f"    carried forward{' ' * max(2, 13 - len(carried))}{carried}\n")
    _contributed_text(pool, out)
    if pool.borne is not None:
        out.write(
            "  unapproved spend borne by partners, outside the risk share "
            f"({pool.borne.spends} spend{'' if pool.borne.spends == 1 else 's'})\n"
        )
        for partner, pence in pool.borne.by_partner.items():
            out.write(f"    {v(partner):<10}{format_money(pence):>18}\n")
    if pool.paid:
        out.write("  contributions received against due to date\n")
        for paid in pool.paid:
            short = f"  {format_money(paid.shortfall)} short" if paid.shortfall else ""
            late = f"  {len(paid.late)} late" if paid.late else ""
            out.write(
                f"    {v(paid.partner):<10}{format_money(paid.received):>18} of "
                f"{format_money(paid.due_to_date)}{short}{late}\n"
            )
    if pool.elements:
        out.write("  by element\n")
        for e in pool.elements:
            budget = (
                f"  (budget {format_money(parse_amount(str(e['budget'])))})" if e["budget"] else ""
            )
            out.write(
                f"    {v(e['element']):<22}{format_money(parse_amount(str(e['actual']))):>18}{budget}\n"
            )
    if pool.months:
        # `Apr 2005`: `04/05` read as the financial year 2004/05 to a finance officer
        cells = [
            f"{date.fromisoformat(str(m['month']) + '-01').strftime('%b %Y')} "
            f"{format_money(parse_amount(str(m['net'])), always_pence=False)}"
            for m in pool.months
        ]
        out.write("  by month\n")
        for i in range(0, len(cells), 4):
            out.write("    " + "   ".join(f"{c:<22}" for c in cells[i : i + 4]).rstrip() + "\n")
    _explain(pool, out, s)
    _breaches(result, pool, out, s)
    _split_orders(result, pool, out, s)
    if every:
        _every_approval(result, pool, out, s)
    _reports(result, pool, out, s)
    if pool.disputes:
        out.write("  disputes open\n")
        for d in pool.disputes:
            flag = s(" overdue", fg="red") if d.overdue else ""
            deadline = f"deadline {d.deadline}" if d.deadline else "no time limit"
            by = f", notice served by {v(d.dispute.raised_by)}" if d.dispute.raised_by else ""
            out.write(
                f"    {v(d.dispute.id):<8} stage {d.stage}: {v(d.holder)}, {deadline}{flag}{by}\n"
            )


EXPLAIN_ORDER = ("budget", "actual", "forecast", "variance", "settlement")
SPLIT_ORDERS_SHOWN = 20
_STREAMED = object()  # a value of the JSON written as it is read


def _read_split_rows(result: RunResult, first: int | None) -> None:
    """Read the rows of every pool's split orders (or of its first few) in one go."""
    wanted = [o for p in result.pools for o in p.split_orders[:first]]
    filled = iter(with_rows(result.totals, wanted))
    for pool in result.pools:
        shown = len(pool.split_orders) if first is None else min(len(pool.split_orders), first)
        pool.split_orders = with_first(pool.split_orders, [next(filled) for _ in range(shown)])


def _split_orders(result: RunResult, pool: PoolResult, out: IO[str], s: Any) -> None:
    """Each possible split order (R020), the first few; JSON lists every one."""
    found = pool.split_orders
    if not found:
        return
    out.write(s(f"  possible split orders (R020): {len(found):,}", fg="yellow") + "\n")
    for order in with_rows(result.totals, found[:SPLIT_ORDERS_SHOWN]):
        out.write(f"    {v(order.line())}\n")
    if len(found) > SPLIT_ORDERS_SHOWN:
        more = len(found) - SPLIT_ORDERS_SHOWN
        out.write(f"    … and {more:,} more (use --format json for all)\n")


def _explain(pool: PoolResult, out: IO[str], s: Any) -> None:
    for figure in EXPLAIN_ORDER:
        lines = pool.explain.get(figure, [])
        if not lines:
            continue
        out.write(s(f"  why {figure}:", dim=True) + "\n")
        for line in lines:
            out.write(s(f"    {v(line.text())}", dim=True) + "\n")


def _breaches(result: RunResult, pool: PoolResult, out: IO[str], s: Any) -> None:
    last = min(result.as_of, result.year.last_day)
    counted = tally(result.approvals, pool.pool["id"], result.year.first_day, last, keep=20)
    count, total_breaches, breaches = counted.spends, counted.breaches, counted.first
    out.write(
        f"  approvals   {count:,} spend{'' if count == 1 else 's'}, "
        + s(
            f"{total_breaches:,} breaching delegated authority",
            fg="red" if total_breaches else "green",
        )
        + "\n"
    )
    for item in breaches:
        d = item.decision
        out.write(
            f"    row {item.row:<7} {format_money(item.amount):>16}  needs {' and '.join(map(v, d.required))}, {_approved(d)}\n"
        )
        if result.explain:
            for line in result.authorities[item.pool].why_not_lower(
                d, item.amount, item.in_plan, item.fields
            ):
                out.write(s(f"      {v(line)}", dim=True) + "\n")
    if total_breaches > len(breaches):
        out.write(
            f"    … and {total_breaches - len(breaches):,} more (`--approvals all` lists every "
            "spend, `--format json` every breach)\n"
        )


def _every_approval(result: RunResult, pool: PoolResult, out: IO[str], s: Any) -> None:
    """--approvals all: every spend of the year to the as-of date, in row order, streamed."""
    out.write("  every spend\n")
    for item in _approvals(result, pool):
        d = item.decision
        mark = "ok    " if d.compliant else s("BREACH", fg="red")
        needs = " and ".join(map(v, d.required)) or "no rule"
        out.write(
            f"    {mark} row {item.row:<7} {item.day} {format_money(item.amount):>16}  "
            f"needs {needs}, {_approved(d)}\n"
        )


def _approved(d: Decision) -> str:
    """Who approved a spend, as the text output says it (`Decision.approved_words`)."""
    return v(d.approved_words())


def _reports(result: RunResult, pool: PoolResult, out: IO[str], s: Any) -> None:
    if not pool.reports:
        return
    legend = " (! raised by a trigger)" if any(r.triggered for r in pool.reports) else ""
    out.write(f"  reports{legend}\n")
    for r in pool.reports:
        status = (
            "past"
            if r.due < result.as_of
            else ("due today" if r.due == result.as_of else "upcoming")
        )
        colour = {"past": None, "due today": "yellow", "upcoming": "cyan"}[status]
        mark = "!" if r.triggered else " "
        line = f"   {mark}{r.due}  {v(r.report)} to {v(r.to)} (period to {r.period_end})"
        out.write((s(line, fg=colour) if colour else line) + "\n")


def _contributed_text(pool: PoolResult, out: IO[str]) -> None:
    """Each partner's contribution by stream, and its "of which" parts, where there are any."""
    rows = contributed(pool.pool, pool.year.label)
    if not has_detail(rows):
        return
    out.write("  contributions by stream\n")
    for row in rows or []:
        amount = format_money(parse_amount(row["amount"])) if row["amount"] else "—"
        out.write(f"    {v(row['partner']):<10}{amount:>18}\n")
        for st in row["streams"] if row["streams"][0]["stream"] else []:
            each = format_money(parse_amount(st["amount"])) if st["amount"] else "—"
            how = "" if st["expression"].startswith("£") else f" ({v(st['expression'])})"
            out.write(f"      {v(st['stream']):<8}{each:>18}  {v(st['name'])}{how}\n")
        for part in row["of_which"]:
            each = format_money(parse_amount(part["amount"]))
            out.write(f"      of which {each} is {v(part['name'])}\n")
