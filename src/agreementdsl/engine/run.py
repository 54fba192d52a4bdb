"""Running a compiled agreement over a ledger: the library entry point behind `agreementdsl run`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..calendar import FinancialYear, financial_year, parse_month_day, year_containing
from ..compile import risk_share_for
from ..files import FileRefused, require_regular
from ..lists import counted
from ..money import format_money, format_pounds, parse_amount
from .approvals import Authority
from .disputes import Standing, read_disputes, standing
from .executor import ApprovalSpool, Executor, PoolTotals, RowExecutor, Totals
from .forecast import Part, cumulative_for, profile_parts, profiled
from .ledger import LedgerError, LedgerReader, PoolShape, Rejected
from .orders import SplitOrder, select, split_orders
from .orders import warning as order_warning
from .outcomes import judge, read_measures
from .parallel import ParallelExecutor
from .payments import Paid, contributions_paid
from .payments import warnings_for as payment_warnings
from .position import Forecast, Position, Series
from .reports import Due, schedule
from .settlement import Settlement, YearContext, no_settlement, settle
from .sql.choose import EngineError, choose_engine
from .term import Term, agreement_term, as_term
from .unapproved import Borne, borne

LATE_ROWS_DAYS = 31  # rows this long after the as-of date suggest the wrong as-of date


class RunError(Exception):
    """The run cannot give results: a usage problem (exit 2) or unusable input (exit 1)."""

    def __init__(
        self, message: str, *, usage: bool = False, code: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.code = code
        self.hint = hint


@dataclass
class Working:
    """One line of an explanation: what was done, where the rule is written, what came of it."""

    step: str
    result: str
    source: str | None = None

    def text(self) -> str:
        where = f" ({self.source})" if self.source else ""
        return f"{self.step}{where} → {self.result}"

    def to_json(self) -> dict[str, object]:
        return {"step": self.step, "source": self.source, "result": self.result}


@dataclass
class PoolResult:
    pool: dict[str, Any]  # the pool's IR
    year: FinancialYear
    budget: int | None
    actual: int
    forecast: Forecast | None
    variance_kind: str | None
    variance: int | None
    settlement: Settlement | None
    reports: list[Due]
    disputes: list[Standing]
    elements: list[dict[str, object]]
    explain: dict[str, list[Working]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    months: list[dict[str, object]] = field(default_factory=list)  # net expenditure by month
    # Several years chained (run --years): the balance carried in from the year before, signed
    # (+ an underspend kept in the pool, - a deficit that is a first call on this year's pool).
    brought_forward: int | None = None
    paid: list[Paid] | None = None  # contributions paid against due (a ledger that records them)
    borne: Borne | None = None  # unapproved spend the partners bear (the pool's line says so)
    # of the year, to the as-of date (orders.Counted, or a list)
    split_orders: Sequence[SplitOrder] = field(default_factory=list)
    # The agreement's period within the year (engine/term.py): the whole year unless the
    # agreement commences or expires inside it.
    term: Term | None = None

    @property
    def period(self) -> Term:
        """The term the pool's figures are of (the whole year where none was set)."""
        return self.term or Term.whole(self.year)


@dataclass
class RunResult:
    ir: dict[str, Any]
    as_of: date
    year: FinancialYear
    totals: Totals
    pools: list[PoolResult]
    rejected: list[Rejected]
    outcomes: list[dict[str, object]] | None
    warnings: list[str]
    authorities: dict[str, Authority]
    explain: bool

    @property
    def approvals(self) -> ApprovalSpool:
        return self.totals.approvals

    def close(self) -> None:
        self.totals.approvals.close()


def _shapes(ir: dict[str, Any]) -> dict[str, PoolShape]:
    return {p["id"]: PoolShape({e["id"]: e["partner"] for e in p["elements"]}) for p in ir["pools"]}


@dataclass
class Executed:
    """One pass over a ledger: what any year and as-of date is then answered from."""

    totals: Totals
    authorities: dict[str, Authority]
    warnings: list[str]
    orders: Sequence[SplitOrder] = field(default_factory=list)  # split orders, every year's


def execute_ledger(
    ir: dict[str, Any],
    ledger: Path | str,
    progress: object = None,
    engine: str = "auto",
    sheet: str | None = None,
    database: str | None = None,
    authorities: dict[str, Authority] | None = None,
) -> Executed:
    """Read and classify every row of the ledger once.

    `engine` chooses the executor: "reference" (the row loop), "duckdb", "postgres" or "spark"
    (the rules as SQL) or "auto" (DuckDB for large ledgers and for Parquet or workbooks,
    PostgreSQL for a `postgresql://` ledger or with `database`); see engine/sql/choose.py.
    A `str` ledger is a `postgresql://…?table=…` URL; `database` is the URL of a database to
    load a ledger file into. `authorities` (pool id -> Authority) stands in for those the IR's
    roles give (engine/multi.py: several agreements' pools, each judged with its own roles).
    """
    try:
        chosen = choose_engine(engine, ledger, sheet, database)
    except EngineError as exc:
        raise RunError(str(exc), usage=True, hint="see docs/engines.md") from None
    if authorities is None:
        roles = frozenset(r["id"] for r in ir["roles"])
        authorities = {p["id"]: Authority(p, roles) for p in ir["pools"]}
    if isinstance(ledger, str):
        return _execute_database(ir, ledger, progress, authorities)
    _regular(ledger)
    element_partners = {
        p["id"]: {e["id"]: e["partner"] for e in p["elements"]} for p in ir["pools"]
    }
    reader = LedgerReader(ledger, _shapes(ir), frozenset(p["id"] for p in ir["partners"]))
    if chosen == "duckdb":
        from .sql.duck import DuckDBExecutor  # imported only when used: DuckDB loads slowly

        executor: Executor = DuckDBExecutor(ir, authorities, sheet)
    elif chosen == "postgres":
        from .sql.postgres import PostgresExecutor, file_source

        assert database is not None
        executor = PostgresExecutor(ir, authorities, file_source(database), sheet)
    elif chosen == "spark":
        from .sql.spark import SparkExecutor

        executor = SparkExecutor(ir, authorities, sheet)
    else:
        executor = ParallelExecutor(RowExecutor(authorities, element_partners))
    totals = executor.execute(reader, progress)
    return Executed(totals, authorities, list(reader.warnings), split_orders(totals, rows=False))


def _execute_database(
    ir: dict[str, Any], url: str, progress: object, authorities: dict[str, Authority]
) -> Executed:
    """A ledger in a PostgreSQL table or query (`postgresql://…?table=…`), each pool judged
    by its `Authority` (`execute_ledger`)."""
    from .sql.postgres import PostgresExecutor, ledger_path, parse_url

    source = parse_url(url)
    reader = LedgerReader(
        ledger_path(source), _shapes(ir), frozenset(p["id"] for p in ir["partners"])
    )
    totals = PostgresExecutor(ir, authorities, source).execute(reader, progress)
    return Executed(totals, authorities, list(reader.warnings), split_orders(totals, rows=False))


def _regular(*paths: Path | None) -> None:
    """Refuse (P005) a ledger, disputes or measures path that is a FIFO, a device or a folder:
    reading it would block or never end."""
    for path in paths:
        try:
            if path is not None:
                require_regular(path)
        except FileRefused as exc:
            raise LedgerError(exc.code, f"{exc.path}: {exc.message}", exc.hint) from None


def parse_year(ir: dict[str, Any], label: str, option: str = "--year") -> FinancialYear:
    """A financial year of the agreement's calendar, or a usage error naming the option."""
    start = parse_month_day(ir["agreement"]["financial_year_start"]) or (4, 1)
    found = financial_year(label, *start)
    if found is None:
        raise RunError(
            f"{option} {label} is not a financial year", usage=True, hint="write it like 2005/06"
        )
    return found


def run_ledger(
    ir: dict[str, Any],
    ledger: Path | str,
    *,
    disputes: Path | None = None,
    measures: Path | None = None,
    year: str | None = None,
    as_of: date | None = None,
    explain: bool = False,
    progress: object = None,
    engine: str = "auto",
    sheet: str | None = None,
    database: str | None = None,
    each_year: bool = True,
) -> RunResult:
    """Run the agreement's rules over a ledger file, or a `postgresql://` ledger (LANGUAGE.md
    §3–§11; docs/engines.md); `each_year` as for `year_results`."""
    wanted = parse_year(ir, year) if year is not None else None
    executed = execute_ledger(ir, ledger, progress, engine, sheet, database)
    given = as_of is not None
    as_of = as_of or default_as_of(executed, wanted)
    return year_results(
        ir,
        executed,
        wanted,
        as_of,
        disputes=disputes,
        measures=measures,
        explain=explain,
        each_year=each_year,
        as_of_given=given,
    )


def default_as_of(executed: Executed, wanted: FinancialYear | None) -> date:
    """The last ledger date (within the year asked for, if any); an error when there is none."""
    totals = executed.totals
    days = [d for d in totals.days if wanted is None or wanted.contains(d)]
    if days:
        return days[-1]
    totals.approvals.close()
    if totals.read and not totals.used:
        first = totals.rejected[0]
        raise RunError(
            f"none of the ledger's {counted(totals.read, 'row')} can be used (the first, row {first.row}: {first.code} {first.message}), so the as-of date is unknown",
            usage=True,
            hint="correct the rows; `--format json` with `--as-of` lists every one",
        )
    raise RunError(
        "the ledger has no usable dates"
        + (f" in {wanted.label}" if wanted else "")
        + ", so the as-of date is unknown",
        usage=True,
        hint="give --as-of YYYY-MM-DD",
    )


def year_results(
    ir: dict[str, Any],
    executed: Executed,
    wanted: FinancialYear | None,
    as_of: date,
    *,
    disputes: Path | None = None,
    measures: Path | None = None,
    explain: bool = False,
    brought_forward: dict[str, int] | None = None,
    each_year: bool = True,
    as_of_given: bool = False,
) -> RunResult:
    """The results of one financial year (the one asked for, or the one holding `as_of`);
    `each_year`: whether the caller can run each year in turn (`--years`; a folder run cannot),
    and `as_of_given`: whether `as_of` was given rather than the ledger's last date, both for
    the warning on rows outside the year."""
    _regular(disputes, measures)
    start = parse_month_day(ir["agreement"]["financial_year_start"]) or (4, 1)
    totals, authorities = executed.totals, executed.authorities
    run_year = wanted or year_containing(as_of, *start)
    rejected = list(totals.rejected)
    open_disputes: list[Any] = []
    if disputes is not None:
        ladders = {p["id"]: bool(p["disputes"]) for p in ir["pools"]}
        found, bad = read_disputes(disputes, ladders, frozenset(p["id"] for p in ir["partners"]))
        open_disputes, rejected = found, rejected + bad
    outcomes = None
    if measures is not None:
        found_m, bad_m = read_measures(measures, {o["id"] for o in ir["outcomes"]})
        rejected += bad_m
        outcomes = judge(
            [o for o in ir["outcomes"] if o["target"]],
            found_m,
            run_year,
            as_of,
            agreement_term(ir["agreement"], run_year),
        )
    carried = brought_forward or {}
    results = [
        _pool(ir, p, totals, run_year, as_of, open_disputes, explain, carried.get(p["id"]))
        for p in ir["pools"]
    ]
    last = min(as_of, run_year.last_day)
    for result in results:
        result.split_orders = select(executed.orders, result.pool["id"], run_year.first_day, last)
        if result.split_orders:
            result.warnings.append(order_warning(result.pool["id"], result.split_orders))
    warnings = list(executed.warnings)
    if totals.read and not totals.used:
        warnings.append(
            f"none of the ledger's {counted(totals.read, 'row')} can be used: every figure below is "
            "of an empty ledger"
        )
    if as_of < run_year.first_day:
        warnings.append(
            f"the as-of date {as_of} is before financial year {run_year.label} begins "
            f"({run_year.first_day}): none of the year's rows is counted yet"
        )
    later = [d for d in totals.days if run_year.contains(d) and d > as_of]
    if later and (later[-1] - as_of).days > LATE_ROWS_DAYS:
        warnings.append(
            f"the ledger holds rows of {run_year.label} up to {later[-1]}, "
            f"{(later[-1] - as_of).days} days after the as-of date {as_of}: the figures leave them out"
        )
    outside = [d for d in totals.days if not run_year.contains(d)]
    if outside and wanted is None:
        # the year was taken from the as-of date (the ledger's last, by default): a row dated a
        # year on, or a ledger of several years, would otherwise leave the others out unsaid
        warnings.append(_outside_year(run_year, as_of, outside, start, each_year, as_of_given))
    return RunResult(
        ir, as_of, run_year, totals, results, rejected, outcomes, warnings, authorities, explain
    )


def _outside_year(
    run_year: FinancialYear,
    as_of: date,
    outside: list[date],
    start: tuple[int, int],
    each_year: bool,
    as_of_given: bool,
) -> str:
    """The warning on rows dated outside the year that the as-of date chose: what chose the
    year, which days are left out (those before it and those after it apart), and the options
    that run the rest."""
    defaulted = not as_of_given
    chose = " (the ledger's last date)" if defaulted else ""
    before = [d for d in outside if d < run_year.first_day]
    after = [d for d in outside if d > run_year.last_day]
    when = " and ".join(_days_words(days) for days in (before, after) if days)
    named: set[str] = set()
    for d in outside:
        try:
            named.add(year_containing(d, *start).label)
        except ValueError:  # a date in year 1 or 9999 has no whole financial year to name
            named.add("")
    years = sorted(named)
    hints = [
        f"`--year {years[0]}` runs the year they are in"
        if len(years) == 1 and years[0]
        else "`--year` names the year to run"
    ]
    years = [y for y in years if y]
    # with an as-of date given, `--years` may not go past its year
    if each_year and years and (defaulted or max(years) <= run_year.label):
        first = min(years[0], run_year.label)
        final = max(years[-1], run_year.label)
        hints.append(f"`--years {first}..{final}` runs each year in turn")
    return (
        f"the year run is {run_year.label}, the one holding the as-of date {as_of}{chose}; "
        f"the ledger's rows dated outside it, {when}, are left out of the figures "
        f"({'; '.join(hints)})"
    )


def _days_words(days: list[date]) -> str:
    """Some dates in order, in words: `on 1 day, D` or `on N days from A to B`."""
    if len(days) == 1:
        return f"on 1 day, {days[0]}"
    return f"on {len(days):,} days from {days[0]} to {days[-1]}"


def _contributions(pool: dict[str, Any], label: str) -> tuple[dict[str, int] | None, list[Working]]:
    for year in pool["contributions"]:
        if year["year"] == label:
            amounts = {c["partner"]: parse_amount(c["amount"]) for c in year["partners"]}
            working = [
                Working(
                    f"{c['partner']} contributes {c['expression']}",
                    c["working"],
                    f"{c['span']['file']}:{c['span']['line']}",
                )
                for c in year["partners"]
            ]
            return amounts, working
    return None, []


def _element_budgets(pool: dict[str, Any], label: str) -> dict[str, int]:
    for year in pool["budgets"]:
        if year["year"] == label:
            return {
                e["element"]: parse_amount(e["amount"])
                for e in year["elements"]
                if e["amount"] is not None
            }
    return {}


def _pool(
    ir: dict[str, Any],
    pool: dict[str, Any],
    totals: Totals,
    year: FinancialYear,
    as_of: date,
    disputes: list[Any],
    explain: bool,
    brought_forward: int | None = None,
) -> PoolResult:
    term = agreement_term(ir["agreement"], year)
    contributions, budget_working = _contributions(pool, year.label)
    budget = sum(contributions.values()) if contributions is not None else None
    charged = borne(ir, pool, totals, term.first_day, min(as_of, term.last_day))
    data = pool_data(totals, pool["id"], charged)
    position = pool_position(pool, term, data, budget)
    actual = position.actual(as_of)
    forecast = position.forecast(as_of)
    year_ended = as_of >= term.last_day
    outturn = actual if year_ended else (forecast.pence if forecast else None)
    warnings = []
    if not year_ended and forecast is not None and budget is not None and forecast.pence < actual:
        warnings.append(
            f"pool `{pool['id']}`: the forecast outturn {format_money(forecast.pence)} ({forecast.how}) "
            f"is below the net expenditure already incurred, {format_money(actual)} to {as_of}"
        )
    ignored = [f for f in position.forecasts if f[0] <= as_of]
    if position.method == "profile" and ignored and not year_ended:
        warnings.append(
            f"pool `{pool['id']}` forecasts by its budget profile, so its {len(ignored)} forecast "
            f"row(s) to {as_of} are not used (the latest, row {ignored[-1][1]}, forecasts "
            f"{format_money(ignored[-1][2])}); name `forecast: latest forecast` to use them"
        )
    outside = outside_term(pool["id"], term, data)
    if outside:
        warnings.append(outside)
    if (
        budget is not None
        and as_of >= term.first_day
        and not any(term.first_day <= d <= min(as_of, term.last_day) for d in data.net)
        and not position.forecasts
    ):
        warnings.append(
            f"pool `{pool['id']}` has no expenditure and no forecast in {year.label} up to {as_of}: "
            "its forecast outturn and settlement are of an empty ledger"
        )
    elements = _elements(pool, data, term, as_of)
    paid = None
    if contributions is not None and data.received:
        paid = contributions_paid(pool["payments"], contributions, data.received, term, as_of)
        warnings.extend(payment_warnings(pool["id"], paid, as_of))
    variance_kind = variance = settlement = None
    work: dict[str, list[Working]] = {}
    if budget is None or contributions is None:
        warnings.append(
            f"pool `{pool['id']}` states no contributions for {year.label}: no budget, forecast, variance or settlement"
        )
    else:
        whose = (
            "the year's contributions"
            if term.is_whole_year
            else f"the contributions for {term.words()}"
        )
        work["budget"] = [
            *budget_working,
            Working(f"budget: the total of {whose}", format_money(budget)),
        ]
        assert outturn is not None
        available = budget + (brought_forward or 0)
        if brought_forward:
            work["budget"].append(_brought_forward_working(brought_forward, year, available))
        variance_kind, variance, settlement, settle_work = _settle(
            ir, pool, contributions, available, outturn, term, as_of, data
        )
        work["settlement"] = settle_work
        basis = (
            "actual net expenditure (the year has ended)"
            if year_ended
            else f"the forecast outturn ({forecast.how if forecast else ''})"
        )
        against = (
            "the budget" if not brought_forward else "the budget and the balance brought forward"
        )
        work["variance"] = [
            Working(
                f"variance of {basis} against {against} {format_money(available)}",
                f"{variance_kind} {format_money(variance or 0)}",
            )
        ]
    work["actual"] = [
        Working(
            f"net expenditure (spend less income) from {term.first_day} to {min(as_of, term.last_day)}",
            format_money(actual),
        )
    ]
    if charged is not None:
        charges = ", ".join(f"{p} {format_money(v)}" for p, v in charged.by_partner.items())
        work["actual"].insert(
            0,
            Working(
                f"unapproved spend: {charged.spends} "
                + (
                    "spend not compliant with delegated authority is borne by its partner"
                    if charged.spends == 1
                    else "spends not compliant with delegated authority are borne by their partners"
                )
                + " outside the risk share and left out",
                f"{format_money(charged.total)}" + (f" ({charges})" if charges else ""),
                charged.source,
            ),
        )
    if forecast is not None:
        work["forecast"] = [Working(forecast.how, format_money(forecast.pence))]
    reports = schedule(pool["reporting"], position, as_of)
    standings = [
        s
        for d in disputes
        if d.pool == pool["id"]
        if (s := standing(d, pool["disputes"], as_of)) is not None
    ]
    return PoolResult(
        pool,
        year,
        budget,
        actual,
        forecast,
        variance_kind,
        variance,
        settlement,
        reports,
        standings,
        elements,
        work if explain else {},
        warnings,
        months=_months(position, as_of),
        brought_forward=brought_forward,
        paid=paid,
        borne=charged,
        term=term,
    )


def _brought_forward_working(signed: int, year: FinancialYear, available: int) -> Working:
    before = year.previous().label
    if signed > 0:
        what = f"an underspend of {format_money(signed)} carried forward from {before} is added"
    else:
        what = (
            f"a deficit of {format_money(-signed)} carried forward from {before} is a first call "
            "on this year's pool"
        )
    return Working(what, f"available for {year.label}: {format_money(available)}")


def _months(position: Position, as_of: date) -> list[dict[str, object]]:
    """Net expenditure in each month of the term (the year, or the agreement's part of it)
    that has begun by the as-of date, each to its last day or the as-of date, the earlier."""
    out: list[dict[str, object]] = []
    for month in position.term.months:
        start, end = month.first, min(month.last, as_of)
        if start > as_of:
            break
        spent = position.spent_to(end) - position.spent_to(start - timedelta(days=1))
        out.append(
            {"month": start.strftime("%Y-%m"), "to": end.isoformat(), "net": format_pounds(spent)}
        )
    return out


def outside_term(pool_id: str, term: Term, data: Any) -> str | None:
    """Warning R030 for expenditure and forecast rows dated in the financial year but outside
    the agreement's term: they are valid rows (counted in `rows.used`) but not the pool's, so
    they are left out of its figures, and named here so that none is left out unseen."""
    if term.is_whole_year:
        return None
    year, net_by_day = term.year, data.net
    parts = []
    for label, first, last in (
        (
            f"before the agreement commenced on {term.first_day}",
            year.first_day,
            term.first_day - timedelta(days=1),
        ),
        (f"after it expired on {term.last_day}", term.last_day + timedelta(days=1), year.last_day),
    ):
        if first > last:
            continue
        days = sorted(d for d, pence in net_by_day.items() if first <= d <= last and pence)
        rows = sorted(f[1] for f in data.forecasts if first <= f[0] <= last)
        if not days and not rows:
            continue
        what = []
        if days:
            net = sum(net_by_day[d] for d in days)
            span = (
                f"on {days[0]}"
                if len(days) == 1
                else f"on {len(days)} days from {days[0]} to {days[-1]}"
            )
            what.append(f"net expenditure of {format_money(net)} {span}")
        if rows:
            listed = ", ".join(str(r) for r in rows[:10]) + (", …" if len(rows) > 10 else "")
            what.append(f"{len(rows)} forecast row{'s' if len(rows) > 1 else ''} (row {listed})")
        parts.append(f"{' and '.join(what)} dated {label}")
    if not parts:
        return None
    return (
        f"R030 pool `{pool_id}`: {'; '.join(parts)}: left out of its figures for {year.label}, "
        f"which are of {term.words()} (the rows are counted as used; correct their dates, or "
        "book them outside the pool)"
    )


def _elements(pool: dict[str, Any], data: Any, term: Term, as_of: date) -> list[dict[str, object]]:
    budgets = _element_budgets(pool, term.label)
    rows = []
    for element in pool["elements"]:
        net = data.element(element["id"])
        position = Position(term.year, Series(net), budgets.get(element["id"]), term=term)
        rows.append(
            {
                "element": element["id"],
                "budget": format_pounds(budgets[element["id"]])
                if element["id"] in budgets
                else None,
                "actual": format_pounds(position.actual(as_of)),
            }
        )
    return rows


def _element_gaps(
    pool: dict[str, Any], data: Any, year: FinancialYear | Term, as_of: date
) -> list[tuple[str, int]]:
    """(partner, outturn less budget) for each budgeted element: before the year's last day an
    element's outturn is forecast as the pool's is, element by element: by the pool's budget
    profile where its forecast method is `profile` (the element's own months, or the pool's
    months when the profile is by month), else by the element's own run-rate (LANGUAGE.md §4;
    an element has no forecast rows, so `latest forecast` also takes its run-rate). `year` is
    the agreement's term within the year (a bare financial year: the whole of it)."""
    term = as_term(year)
    budgets = _element_budgets(pool, term.label)
    method = pool.get("forecast_method") or {"method": "run-rate"}
    ends = [end for end in term.month_ends() if end <= as_of]
    gaps = []
    for element in pool["elements"]:
        eid = element["id"]
        if eid not in budgets:
            continue
        net = Series(data.element(eid))
        position = Position(term.year, net, budgets[eid], term=term)
        if as_of >= term.last_day:
            outturn = position.actual(as_of)
        elif method["method"] == "profile" and ends:
            months = {p["element"]: p["months"] for p in method["profile"]}
            planned = months.get(None if method["by"] == "month" else eid, "even")
            part = Part(eid, net, budgets[eid], cumulative_for(planned, term))
            outturn = profiled([part], term.first_day, ends)[0]
        else:
            rate = position.run_rate(as_of)
            outturn = rate.pence if rate else budgets[eid]
        gaps.append((element["partner"], outturn - budgets[eid]))
    return gaps


def _element_parts(pool: dict[str, Any], data: Any, year: FinancialYear | Term, as_of: date) -> Any:
    """direction -> partner -> the variance of its elements that moved that way (gross)."""
    gaps = _element_gaps(pool, data, year, as_of)

    def parts(direction: str) -> dict[str, int]:
        sign = 1 if direction == "overspend" else -1
        out: dict[str, int] = {}
        for partner, gap in gaps:
            if sign * gap > 0:
                out[partner] = out.get(partner, 0) + sign * gap
        return out

    return parts


def _own_parts(pool: dict[str, Any], data: Any, year: FinancialYear | Term, as_of: date) -> Any:
    """(direction, gross) -> partner -> its own part of the variance: gross counts only its
    elements that moved that way, net sets off those that moved the other way (never below 0)."""
    gaps = _element_gaps(pool, data, year, as_of)
    gross_parts = _element_parts(pool, data, year, as_of)

    def parts(direction: str, gross: bool) -> dict[str, int]:
        if gross:
            return dict(gross_parts(direction))
        sign = 1 if direction == "overspend" else -1
        totals: dict[str, int] = {}
        for partner, gap in gaps:
            totals[partner] = totals.get(partner, 0) + sign * gap
        return {p: v for p, v in totals.items() if v > 0}

    return parts


def _settle(
    ir: dict[str, Any],
    pool: dict[str, Any],
    contributions: dict[str, int],
    budget: int,
    outturn: int,
    year: Term,
    as_of: date,
    data: Any,
) -> tuple[str, int, Settlement, list[Working]]:
    partners = [p["id"] for p in ir["partners"]]
    ctx = YearContext(
        partners,
        contributions,
        pool["host"],
        _element_parts(pool, data, year, as_of),
        own_parts=_own_parts(pool, data, year, as_of),
    )
    risk = risk_share_for(pool, year.label) or {}
    if outturn == budget:
        return (
            "balanced",
            0,
            no_settlement(ctx, risk),
            [Working("outturn equals the budget", "nothing to share")],
        )
    direction = "overspend" if outturn > budget else "underspend"
    variance = abs(outturn - budget)
    result = settle(risk[direction], direction, variance, ctx)
    work = []
    for step in result.steps:
        parts = [f"{p} {format_money(v)}" for p, v in step.allocated.items()]
        if step.carried:
            parts.append(f"carried forward {format_money(step.carried)}")
        taken = f"{format_money(step.taken)} {step.basis}"
        work.append(
            Working(
                f"{direction} step {step.number}: {step.text}",
                f"{taken}: {', '.join(parts) or 'nothing'}",
                step.source,
            )
        )
    totals = ", ".join(f"{p} {format_money(v)}" for p, v in result.shares.items())
    work.append(
        Working(
            f"{direction} {format_money(variance)} settled",
            totals
            + (
                f"; carried forward {format_money(result.carried_forward)}"
                if result.carried_forward
                else ""
            ),
        )
    )
    return direction, variance, result, work


def pool_data(totals: Totals, pool_id: str, charged: Borne | None) -> PoolTotals:
    """The pool's ledger totals as its position reads them: without the unapproved spend its
    partners bear (engine/unapproved.py), which leaves the pool's net expenditure."""
    data = totals.pools[pool_id]
    if charged is None or not charged.by_element:
        return data
    net = defaultdict(int, data.element_net)
    for key, pence in charged.by_element.items():
        net[key] -= pence
    return PoolTotals(net, data.forecasts, data.received)


def pool_position(
    pool: dict[str, Any], year: FinancialYear | Term, data: Any, budget: int | None
) -> Position:
    """The pool's position for the year (or the agreement's term within it: engine/term.py),
    its forecast by the method the pool names."""
    term = as_term(year)
    method = pool.get("forecast_method") or {"method": "run-rate"}
    parts = profile_parts(
        method,
        data.net,
        data.element,
        budget,
        _element_budgets(pool, term.label),
        [e["id"] for e in pool["elements"]],
        term,
    )
    return Position(
        term.year, Series(data.net), budget, data.forecasts, method["method"], parts, term
    )
