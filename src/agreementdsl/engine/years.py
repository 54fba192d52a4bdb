"""Several financial years in one run, each year's carried-forward balance chained into the next.

The ledger is read once. Each year is answered as a single-year run would answer it (its
position at the year's last day, or at the as-of date in the year that holds it), except that
what a year carries forward is brought into the next: an underspend carried forward adds to
the next year's pool, and an overspend carried forward (a deficit) is a first call on it. The
`budget` each year reports stays the year's contributions as stated; the variance is of the
outturn against that budget plus (or less) the balance brought forward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from ..calendar import FinancialYear
from ..money import format_money, format_pounds, parse_amount
from .run import RunError, RunResult, default_as_of, execute_ledger, parse_year, year_results


@dataclass
class YearsResult:
    runs: list[RunResult]

    def chain(self) -> list[dict[str, Any]]:
        """Per pool and year: what came in, the variance, and what went on to the next year."""
        out = []
        for run in self.runs:
            for pool in run.pools:
                carried = pool.settlement.carried_forward if pool.settlement else 0
                out.append(
                    {
                        "pool": pool.pool["id"],
                        "year": run.year.label,
                        "brought_forward": _signed(pool.brought_forward or 0),
                        "variance": {
                            "kind": pool.variance_kind,
                            "amount": format_pounds(pool.variance or 0),
                        }
                        if pool.variance_kind
                        else None,
                        "carried_forward": _signed(
                            carried if pool.variance_kind == "underspend" else -carried
                        ),
                    }
                )
        return out

    def close(self) -> None:
        if self.runs:
            self.runs[0].close()  # the years share one spool


def _signed(pence: int) -> dict[str, str] | None:
    if not pence:
        return None
    kind = "underspend" if pence > 0 else "overspend"
    return {"kind": kind, "amount": format_pounds(abs(pence))}


def parse_years(ir: dict[str, Any], text: str) -> list[FinancialYear]:
    """`2004/05..2006/07` as the years it spans, in order."""
    first_text, sep, last_text = text.partition("..")
    if not sep:
        raise RunError(
            f"--years {text} is not a range of years",
            usage=True,
            hint="write it like 2004/05..2006/07",
        )
    first, last = parse_year(ir, first_text, "--years"), parse_year(ir, last_text, "--years")
    if last.first_day < first.first_day:
        raise RunError(
            f"--years {text} runs backwards", usage=True, hint=f"write it {last_text}..{first_text}"
        )
    years = [first]
    while years[-1].label != last.label:
        years.append(years[-1].next())
    return years


def run_years(
    ir: dict[str, Any],
    ledger: Path,
    years_text: str,
    *,
    as_of: date | None = None,
    explain: bool = False,
    progress: object = None,
    engine: str = "auto",
    sheet: str | None = None,
) -> YearsResult:
    """Each year of `years_text` over one pass of the ledger (on `engine`, from its `sheet` if
    it is a workbook), balances chained year to year."""
    years = parse_years(ir, years_text)
    executed = execute_ledger(ir, ledger, progress, engine, sheet)
    as_of = as_of or default_as_of(executed, None)
    if as_of < years[-1].first_day:
        executed.totals.approvals.close()
        raise RunError(
            f"--years {years_text} goes past the as-of date {as_of}: {years[-1].label} has not begun",
            usage=True,
            hint="end the range at the year holding the as-of date, or give a later --as-of",
        )
    runs: list[RunResult] = []
    carried: dict[str, int] = {p["id"]: 0 for p in ir["pools"]}
    for year in years:
        run = year_results(
            ir,
            executed,
            year,
            min(as_of, year.last_day),
            explain=explain,
            brought_forward=carried,
        )
        runs.append(run)
        carried = {
            p.pool["id"]: (1 if p.variance_kind == "underspend" else -1)
            * (p.settlement.carried_forward if p.settlement is not None else 0)
            for p in run.pools
        }
    return YearsResult(runs)


def write_years_json(result: YearsResult, out: IO[str]) -> None:
    """Each year's results as the single-year contract, in a list, then the chain."""
    from .output import write_json

    first = result.runs[0]
    head = {
        "agreement": first.ir["agreement"]["id"],
        "years": [r.year.label for r in result.runs],
        "as_of": result.runs[-1].as_of.isoformat(),
    }
    out.write("{\n" + "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in head.items()))
    out.write('  "runs": [\n')
    for i, run in enumerate(result.runs):
        if i:
            out.write(",\n")
        write_json(run, out)
    out.write('  ],\n  "chain": ')
    out.write(json.dumps(result.chain(), ensure_ascii=False))
    out.write("\n}\n")


def write_years_text(result: YearsResult, out: IO[str], style: Any = None) -> None:
    """Each year's summary, then the chain of balances from year to year."""
    from .output import write_text

    for i, run in enumerate(result.runs):
        if i:
            out.write("\n" + "─" * 72 + "\n")
        write_text(run, out, style)
    out.write("\nBalances carried from year to year\n")
    for link in result.chain():
        came = _words(link["brought_forward"]) or "nothing"
        went = _words(link["carried_forward"]) or "nothing"
        variance = link["variance"]
        middle = (
            f"{variance['kind']} {format_money(parse_amount(variance['amount']))}"
            if variance
            else "no budget"
        )
        out.write(
            f"  {link['pool']:<24} {link['year']}  brought forward {came:<26} {middle:<28} "
            f"carried forward {went}\n"
        )


def _words(signed: dict[str, str] | None) -> str:
    if signed is None:
        return ""
    noun = "underspend" if signed["kind"] == "underspend" else "deficit"
    return f"{noun} {format_money(parse_amount(signed['amount']))}"
