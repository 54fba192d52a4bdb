"""Running scenarios through the real engine and comparing the results with the expectations.

Each scenario becomes a small ledger (its transactions, and for `outturn` a balancing row on the
year's last day), is run by `engine.run.run_ledger`, and its figures are compared exactly, to the
penny, with what the scenario expects.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..calendar import financial_year, parse_month_day, year_containing
from ..diagnostics import Diagnostic, error
from ..money import MoneyError, format_pounds, parse_amount, parse_money
from ..source import Span
from .spec import Scenario, TestFile, find_test_files, read_test_file

COLUMNS = [
    "date",
    "pool",
    "element",
    "kind",
    "amount",
    "partner",
    "approved_by",
    "in_plan",
    "supplier",
    "category",
]


@dataclass
class Failure:
    key: str
    expected: str
    actual: str
    span: Span


@dataclass
class ScenarioResult:
    file: TestFile
    scenario: Scenario
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    explanation: list[str] = field(default_factory=list)
    actual: dict[str, Any] = field(default_factory=dict)
    covered: set[tuple[str, ...]] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failures


@dataclass
class SuiteResult:
    files: list[TestFile]
    results: list[ScenarioResult]
    irs: dict[str, dict[str, Any]]  # agreement path -> IR

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results) and not any(d.is_error for d in self.diagnostics)


def money_value(value: Any) -> int:
    text = str(value).strip()
    return parse_money(text) if text.startswith("£") else parse_amount(text)


def _compile(path: Path, cache: dict[str, dict[str, Any]]) -> dict[str, Any] | str:
    from ..api import load
    from ..compile import compile_agreement

    key = str(path)
    if key not in cache:
        loaded = load(path)
        if not loaded.ok or loaded.agreement is None or loaded.source is None:
            return f"{path} has {len(loaded.errors)} error(s): run `agreementdsl check {path}`"
        cache[key] = compile_agreement(loaded.agreement, loaded.source.text)
    return cache[key]


def run_paths(paths: list[Path]) -> SuiteResult:
    """Every scenario of every scenario file under `paths`."""
    files = [read_test_file(p) for p in find_test_files(paths)]
    irs: dict[str, dict[str, Any]] = {}
    results = []
    for test_file in files:
        if test_file.agreement_path is None:
            continue
        ir = _compile(test_file.agreement_path, irs)
        if (
            not isinstance(ir, str)
            and test_file.agreement_id
            and ir["agreement"]["id"] != test_file.agreement_id
        ):
            message = f"{test_file.path.name} names agreement `{test_file.agreement_id}`, but {test_file.agreement_path} is `{ir['agreement']['id']}`"
            test_file.diagnostics.append(
                error("T002", test_file.agreement_span or Span(str(test_file.path), 1, 1), message)
            )
            continue
        if isinstance(ir, str):  # the agreement has errors: one problem, not one per scenario
            span = test_file.agreement_span or Span(str(test_file.path), 1, 1)
            test_file.diagnostics.append(error("T007", span, f"the scenarios cannot run: {ir}"))
            continue
        for scenario in test_file.scenarios:
            results.append(run_scenario(ir, test_file, scenario))
    return SuiteResult(files, results, irs)


def pool_results(ir: dict[str, Any], test_file: TestFile, scenario: Scenario) -> list[Any]:
    """The scenario's pool results under `ir` (for the money effect of a change); [] if it cannot run."""
    captured: list[Any] = []
    run_scenario(ir, test_file, scenario, captured)
    return captured


def run_scenario(
    ir: dict[str, Any], test_file: TestFile, scenario: Scenario, capture: list[Any] | None = None
) -> ScenarioResult:
    from ..engine.ledger import LedgerError
    from ..engine.run import RunError

    result = ScenarioResult(test_file, scenario)
    pools = {p["id"]: p for p in ir["pools"]}
    pool_id = scenario.pool or ir["pools"][0]["id"]
    if pool_id not in pools:
        from ..checks.common import unknown_hint

        result.error = f"pool `{pool_id}` is not a pool of the agreement; {unknown_hint(pool_id, list(pools), 'pool')}"
        return result

    start = parse_month_day(ir["agreement"]["financial_year_start"]) or (4, 1)
    try:
        rows = [_row(t, pool_id) for t in scenario.transactions]
        year = _year(scenario, rows, start)
        as_of = (
            date.fromisoformat(scenario.as_of) if scenario.as_of else _as_of(scenario, rows, year)
        )
    except (ValueError, MoneyError, KeyError) as exc:
        result.error = f"the scenario's inputs cannot be used: {exc}"
        return result
    with tempfile.TemporaryDirectory(prefix="agreementdsl-scenario-") as tmp:
        ledger = scenario.ledger or _write_ledger(
            Path(tmp), rows, scenario, pools[pool_id], year, [r["id"] for r in ir["roles"]]
        )
        disputes = (
            _write_disputes(Path(tmp), scenario.disputes, pool_id) if scenario.disputes else None
        )
        try:
            run = _run(ir, ledger, scenario, pool_id, disputes, year, as_of)
        except (RunError, LedgerError) as exc:
            result.error = exc.message
            return result
        except ValueError as exc:
            result.error = f"the scenario's inputs cannot be used: {exc}"
            return result
        try:
            from .compare import compare

            compare(result, run, pool_id, rows)
            if capture is not None:
                capture.extend(p for p in run.pools if p.pool["id"] == pool_id)
        finally:
            run.close()
    return result


def _run(
    ir: dict[str, Any],
    ledger: Path,
    scenario: Scenario,
    pool_id: str,
    disputes: Path | None,
    year: Any,
    as_of: date | None,
) -> Any:
    """The run the scenario asks for: one year, several years chained, or an exit."""
    from ..engine.exit import exit_settlement
    from ..engine.run import run_ledger
    from ..engine.years import run_years

    _combination(scenario)
    if scenario.exit_on is not None:
        exit_on = date.fromisoformat(scenario.exit_on)
        given = date.fromisoformat(scenario.notice_given) if scenario.notice_given else None
        found = exit_settlement(
            ir, ledger, exit_on, partner=scenario.partner, notice_given=given, explain=True
        )
        return found.run_as_pools(pool_id)
    if scenario.years is not None:
        chained = run_years(ir, ledger, scenario.years, as_of=as_of, explain=True)
        return chained.runs[-1]
    return run_ledger(
        ir, ledger, disputes=disputes, year=year.label if year else None, as_of=as_of, explain=True
    )


def _combination(scenario: Scenario) -> None:
    """Refuse what `run` refuses: inputs that belong to another kind of run."""
    if scenario.exit_on is None and (scenario.partner or scenario.notice_given):
        raise ValueError("`partner` and `notice_given` go with `exit_on`")
    if scenario.exit_on is not None and (scenario.years or scenario.year or scenario.outturn):
        raise ValueError(
            "`exit_on` gives the position at the exit date: drop `year`, `years` and `outturn`"
        )
    if scenario.years is not None and (scenario.year or scenario.outturn):
        raise ValueError("`years` runs each year in turn: drop `year` and `outturn`")


def _row(t: dict[str, Any], pool_id: str) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    for key, value in t.items():
        if key not in COLUMNS:
            raise KeyError(f"`{key}` is not a ledger column")
        if isinstance(value, list):
            value = ";".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        row[key] = "" if value is None else str(value)
    row["pool"] = row["pool"] or pool_id
    row["kind"] = row["kind"] or "spend"
    if row["amount"].startswith("£"):
        row["amount"] = format_pounds(parse_money(row["amount"]))
    if not row["date"]:
        raise ValueError("a transaction needs a `date`")
    return row


def _year(scenario: Scenario, rows: list[dict[str, str]], start: tuple[int, int]) -> Any:
    if scenario.year:
        year = financial_year(scenario.year, *start)
        if year is None:
            raise ValueError(f"`{scenario.year}` is not a financial year")
        return year
    if rows:
        return year_containing(date.fromisoformat(rows[0]["date"]), *start)
    if scenario.as_of:
        return year_containing(date.fromisoformat(scenario.as_of), *start)
    if scenario.outturn or scenario.ledger is None:
        raise ValueError("say which financial year: `year: 2005/06`")
    return None


def _as_of(scenario: Scenario, rows: list[dict[str, str]], year: Any) -> date | None:
    if scenario.outturn and year is not None:
        return year.last_day
    if rows:
        return max(date.fromisoformat(r["date"]) for r in rows)
    return year.last_day if year is not None else None


def _write_ledger(
    folder: Path,
    rows: list[dict[str, str]],
    scenario: Scenario,
    pool: dict[str, Any],
    year: Any,
    roles: list[str],
) -> Path:
    rows = list(rows)
    if scenario.outturn is not None:
        target = money_value(scenario.outturn)
        net = 0
        for r in rows:
            if (
                r["pool"] == pool["id"]
                and year.contains(date.fromisoformat(r["date"]))
                and r["kind"] in ("spend", "income")
            ):
                amount = parse_amount(r["amount"])
                net += amount if r["kind"] == "spend" else -amount
        gap = target - net
        element = pool["elements"][0]["id"] if pool["elements"] else ""
        kind = "spend" if gap >= 0 else "income"
        rows.append(
            {
                **{c: "" for c in COLUMNS},
                "date": year.last_day.isoformat(),
                "pool": pool["id"],
                "element": element,
                "kind": kind,
                "amount": format_pounds(abs(gap)),
                # approved by every role, so the balancing spend is never unapproved spend (which
                # a pool may take out of its outturn); it is left out of `approvals`
                "approved_by": ";".join(roles) if kind == "spend" else "",
            }
        )
    path = folder / "ledger.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _write_disputes(folder: Path, disputes: list[dict[str, Any]], pool_id: str) -> Path:
    path = folder / "disputes.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "pool", "raised_on", "resolved_on", "subject"])
        writer.writeheader()
        for d in disputes:
            writer.writerow(
                {
                    "id": d.get("id", ""),
                    "pool": d.get("pool", pool_id),
                    "raised_on": d.get("raised_on", ""),
                    "resolved_on": d.get("resolved_on") or "",
                    "subject": d.get("subject", ""),
                }
            )
    return path
