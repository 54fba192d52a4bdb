"""Many agreements over one ledger in one pass: `run FOLDER --ledger L` (the regional view).

The agreements' pools are put side by side in one IR for the executor (pool ids must be unique
across the folder: a pool in two agreements stops the run with X002, since its rows could not be
given to one of them), each pool judged by an `Authority` built with its own agreement's roles.
The ledger is read once; each agreement's results are then answered from the shared totals,
exactly as a run of that agreement alone would answer them. Rows whose pool belongs to no
agreement are rejected by the reader (L002) and reported once, as `unassigned`, not under any
agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import IO, Any

from ..lists import counted
from .approvals import Authority
from .executor import PoolTotals, Totals
from .ledger import NOT_A_POOL, Rejected
from .run import (
    Executed,
    RunError,
    RunResult,
    default_as_of,
    execute_ledger,
    parse_year,
    year_results,
)

UNASSIGNED = "L002"  # the reader's code for a row whose pool is no agreement's


@dataclass
class ManyResult:
    """One result per agreement (keyed by its path within the folder: `agreement_name`), from
    one pass over the ledger."""

    results: dict[str, RunResult]
    unassigned: list[Rejected]
    totals: Totals

    def close(self) -> None:
        self.totals.approvals.close()


def agreement_files(folder: Path) -> list[Path]:
    """The agreements in a folder, found as `check FOLDER` finds them (api.find_agreements):
    its `.yaml`/`.yml` files and those of its subfolders (not hidden ones), but scenario files
    (`*.test.yaml`) and YAML files that are not agreements (no top-level `agreement:`)."""
    from ..api import find_agreements

    return find_agreements([folder])


def agreement_name(folder: Path, path: Path) -> str:
    """What an agreement's results are keyed by: its path within the folder (`east.yaml`,
    `north/north.yaml`), with `/` between folders on every system."""
    return path.relative_to(folder).as_posix()


def _of_the_folder(message: str) -> str:
    """An unassigned row's message (L002) as said of a folder of agreements."""
    return message.replace(NOT_A_POOL, "is not a pool of any agreement in the folder")


def merged_ir(irs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every agreement's pools in one IR (partners and roles joined by id); X002 for a pool id
    that two agreements use."""
    owner: dict[str, str] = {}
    for name, ir in irs.items():
        for pool in ir["pools"]:
            if pool["id"] in owner:
                raise RunError(
                    f"pool `{pool['id']}` is in both {owner[pool['id']]} and {name}: "
                    "its ledger rows cannot be given to one agreement",
                    code="X002",
                    hint="give each pool an id of its own (say, prefixed by the area), or run "
                    "the two agreements one at a time",
                )
            owner[pool["id"]] = name
    first = next(iter(irs.values()))

    def joined(key: str) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for ir in irs.values():
            for item in ir[key]:
                seen.setdefault(item["id"], item)
        return list(seen.values())

    return {
        **first,
        "pools": [p for ir in irs.values() for p in ir["pools"]],
        "partners": joined("partners"),
        "roles": joined("roles"),
    }


def run_many(
    irs: dict[str, dict[str, Any]],
    ledger: Path | str,
    *,
    year: str | None = None,
    as_of: date | None = None,
    explain: bool = False,
    progress: object = None,
    engine: str = "auto",
    sheet: str | None = None,
    database: str | None = None,
) -> ManyResult:
    """Run every agreement over one ledger, reading it once: a file, or a `postgresql://`
    ledger, or a file loaded into the `database` (as `run_ledger`)."""
    if not irs:
        raise RunError("the folder holds no agreement (.yaml) to run", usage=True)
    merged = merged_ir(irs)
    authorities = {
        p["id"]: Authority(p, frozenset(r["id"] for r in ir["roles"]))
        for ir in irs.values()
        for p in ir["pools"]
    }
    executed = execute_ledger(
        merged, ledger, progress, engine, sheet, database, authorities=authorities
    )
    totals = executed.totals
    # said of the folder, not of "the agreement" (the reader's words for one agreement's run)
    unassigned = [
        replace(r, message=_of_the_folder(r.message))
        for r in totals.rejected
        if r.code == UNASSIGNED
    ]
    try:
        wanted = parse_year(merged, year) if year is not None else None
        given = as_of is not None
        day = as_of or default_as_of(executed, wanted)
        results = {}
        for name, ir in irs.items():
            own = {p["id"] for p in ir["pools"]}
            pools = {k: v for k, v in totals.pools.items() if k in own}
            view = replace(
                totals,
                pools=pools,
                # the dates of its own pools' rows (a row of another agreement, later than the
                # as-of date, is not said to be left out of this one's figures)
                days=_days(pools),
                read=totals.read - len(unassigned),
                rejected=[r for r in totals.rejected if r.code != UNASSIGNED],
            )
            mine = Executed(
                view, {k: authorities[k] for k in own}, executed.warnings, executed.orders
            )
            want = parse_year(ir, year) if year is not None else None
            results[name] = year_results(
                ir, mine, want, day, explain=explain, each_year=False, as_of_given=given
            )
    except BaseException:
        totals.approvals.close()
        raise
    return ManyResult(results, unassigned, totals)


def _days(pools: dict[str, PoolTotals]) -> list[date]:
    """The distinct dates of these pools' used rows, in order."""
    found: set[date] = set()
    for totals in pools.values():
        found.update(day for _, day in totals.element_net)
        found.update(day for _, day in totals.received)
        found.update(day for day, _, _ in totals.forecasts)
    return sorted(found)


def write_many_json(many: ManyResult, out: IO[str], approvals: str = "all") -> None:
    """One JSON object: the ledger's rows, the unassigned rows, and each agreement's result
    (the object `run --format json` gives for it alone) under its path within the folder."""
    import json

    from .output import write_json

    totals = many.totals
    ledger = {
        "read": totals.read,
        "used": totals.used,
        "rejected": len(totals.rejected) - len(many.unassigned),
        "unassigned": len(many.unassigned),
    }
    out.write('{\n  "ledger": ' + json.dumps(ledger) + ",\n")
    out.write('  "unassigned": ' + json.dumps([r.to_json() for r in many.unassigned]) + ",\n")
    out.write('  "agreements": {')
    for i, (name, result) in enumerate(many.results.items()):
        out.write(("," if i else "") + f"\n  {json.dumps(name, ensure_ascii=False)}: ")
        write_json(result, out, approvals)
    out.write("  }\n}\n")


def write_many_text(
    many: ManyResult, out: IO[str], style: Any = None, approvals: str = "breaches"
) -> None:
    """Each agreement's text summary under its path within the folder, then the unassigned
    rows."""
    from ..terminal import visible as v
    from .output import write_rejected, write_text

    s = style or (lambda text, **_: text)
    totals = many.totals
    out.write(
        s(
            f"{len(many.results)} agreement{'s' if len(many.results) != 1 else ''} over one ledger",
            bold=True,
        )
        + f": {counted(totals.read, 'row')} read, {len(totals.rejected) - len(many.unassigned):,} "
        f"rejected, {len(many.unassigned):,} in no agreement's pool\n"
    )
    for name, result in many.results.items():
        out.write("\n" + s(f"== {v(name)} ==", bold=True) + "\n")
        write_text(result, out, style, approvals)
    if many.unassigned:
        write_rejected("Rows in no agreement's pool", many.unassigned, out, s)
