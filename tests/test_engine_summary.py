"""The text summary's approval figures, counted from the columnar spool (engine/summary.py):
the same as counting one `Classified` record per spend, and the same as the JSON contract."""

from __future__ import annotations

import json
import random
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main
from agreementdsl.engine import parallel
from agreementdsl.engine.approvals import Authority
from agreementdsl.engine.executor import Classified, RowExecutor
from agreementdsl.engine.ledger import LedgerReader, PoolShape
from agreementdsl.engine.parallel import ParallelExecutor
from agreementdsl.engine.summary import tally
from agreementdsl.money import format_money
from engine_support import compile_file

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
POOLS = ("mental-health", "learning-disabilities")
ELEMENTS = {
    "mental-health": ["pct-provider", "pct-commissioning", "council"],
    "learning-disabilities": ["council", "respite", "pct-commissioning"],
}
ROLES = ("mh-manager", "ld-manager", "board", "executives")
# `nobody` is not a role of the agreement: the text says so, and an empty column is no approver
APPROVERS = ["", *ROLES, "executives;board", "nobody", "board;nobody"]


def ledger(path: Path, rows: int, seed: int = 17) -> Path:
    """Spends of both pools (many breaching), some income, dated from before the 2005/06 year to
    after it, so that the year and the as-of date both cut some spends out."""
    rng = random.Random(seed)
    lines = ["date,pool,element,kind,amount,partner,approved_by,in_plan"]
    first = date(2005, 3, 1).toordinal()
    for _ in range(rows):
        day = date.fromordinal(first + rng.randrange(0, 430)).isoformat()
        pool = rng.choice(POOLS)
        element = rng.choice(ELEMENTS[pool])
        if rng.random() < 0.9:
            pence = rng.choice([rng.randrange(1, 90_000_00), rng.randrange(1, 400_000_00)])
            amount = f"{pence // 100}.{pence % 100:02d}"
            plan = rng.choice(["true", "false", ""])
            lines.append(f"{day},{pool},{element},spend,{amount},,{rng.choice(APPROVERS)},{plan}")
        else:
            lines.append(f"{day},{pool},{element},income,{rng.randrange(1, 5000)}.00,,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ParallelExecutor below forks however busy the machine is."""
    monkeypatch.setenv(parallel.PROCESSES, "2")


def executors(ir: dict[str, Any]) -> tuple[RowExecutor, ParallelExecutor]:
    roles = frozenset(r["id"] for r in ir["roles"])
    authorities = {p["id"]: Authority(p, roles) for p in ir["pools"]}
    partners = {p["id"]: {e["id"]: e["partner"] for e in p["elements"]} for p in ir["pools"]}
    one = RowExecutor(authorities, partners)
    return one, ParallelExecutor(RowExecutor(authorities, partners), min_bytes=0)


def reader(ir: dict[str, Any], path: Path) -> LedgerReader:
    shapes = {
        p["id"]: PoolShape({e["id"]: e["partner"] for e in p["elements"]}) for p in ir["pools"]
    }
    return LedgerReader(path, shapes, frozenset(p["id"] for p in ir["partners"]))


@pytest.mark.parametrize(
    ("first_day", "last_day"),
    [
        (date(2005, 4, 1), date(2006, 3, 31)),
        (date(2005, 4, 1), date(2005, 9, 30)),
        (date(2005, 4, 1), date(2005, 3, 31)),  # an as-of date before the year: nothing
    ],
)
@pytest.mark.parametrize("keep", [0, 1, 20, 10_000])
def test_tally_counts_what_one_record_per_spend_counts(
    tmp_path: Path, first_day: date, last_day: date, keep: int
) -> None:
    ir = compile_file(HEREFORDSHIRE)
    path = ledger(tmp_path / "ledger.csv", 3000)
    for executor in executors(ir):
        totals = executor.execute(reader(ir, path))
        try:
            for pool in POOLS:
                items = [i for i in totals.approvals if i.pool == pool]
                items = [i for i in items if first_day <= i.day <= last_day]
                breaching = [i for i in items if not i.decision.compliant]
                counted = tally(totals.approvals, pool, first_day, last_day, keep)
                assert counted.spends == len(items)
                assert counted.breaches == len(breaching)
                assert list(counted.first) == breaching[:keep]
                if last_day > first_day:
                    assert counted.breaches > keep or keep == 10_000
        finally:
            totals.approvals.close()


def test_the_two_processes_spool_is_counted_across_both_halves(tmp_path: Path) -> None:
    ir = compile_file(HEREFORDSHIRE)
    path = ledger(tmp_path / "ledger.csv", 3000)
    one, two = executors(ir)
    single, forked = one.execute(reader(ir, path)), two.execute(reader(ir, path))
    try:
        assert forked.approvals._segments, "the ledger was not split between two processes"
        year = (date(2005, 4, 1), date(2006, 3, 31))
        for pool in POOLS:
            a, b = (tally(t.approvals, pool, *year, 10_000) for t in (single, forked))
            assert (a.spends, a.breaches) == (b.spends, b.breaches)
            # `fields` are those of the first spend that made the (cached) decision, which may
            # differ between the halves; everything the summary shows must not.
            assert [shown(c) for c in a.first] == [shown(c) for c in b.first]
            assert len(a.first) == a.breaches > 0
    finally:
        single.approvals.close()
        forked.approvals.close()


def shown(item: Classified) -> tuple[object, ...]:
    return (item.row, item.amount, item.day, item.pool, item.decision, item.in_plan)


SPENDS = re.compile(r"^  approvals   ([\d,]+) spends?, ([\d,]+) breaching delegated authority$")
BREACH = re.compile(
    r"^    row (\d+) +(£[\d,]+\.\d\d)  needs (.+), (?:approved by (.+)|no approver recorded)$"
)
MORE = re.compile(
    r"^    … and ([\d,]+) more \(`--approvals all` lists every spend, `--format json` every breach\)$"
)


def text_approvals(text: str) -> list[dict[str, Any]]:
    """Per pool, in order: the spends and breaches counted, the breaches listed, and the rest."""
    pools: list[dict[str, Any]] = []
    for line in text.splitlines():
        if m := SPENDS.match(line):
            count, breaches = (int(g.replace(",", "")) for g in m.groups())
            pools.append({"spends": count, "breaches": breaches, "listed": [], "more": 0})
        elif (m := BREACH.match(line)) and pools:
            row, amount, needs, recorded = m.groups()
            pools[-1]["listed"].append((int(row), amount, needs, recorded))
        elif (m := MORE.match(line)) and pools:
            pools[-1]["more"] = int(m.group(1).replace(",", ""))
    return pools


@pytest.mark.parametrize("as_of", [None, "2005-10-31"])
def test_text_and_json_agree_on_breach_counts_and_amounts(
    tmp_path: Path, as_of: str | None
) -> None:
    path = ledger(tmp_path / "ledger.csv", 2500, seed=75)
    args = ["run", str(HEREFORDSHIRE), "--ledger", str(path)]
    if as_of:
        args += ["--as-of", as_of]
    text = CliRunner().invoke(main, args)
    data = CliRunner().invoke(main, [*args, "--format", "json"])
    assert text.exit_code == 0 and data.exit_code == 0, text.output + data.output
    shown = text_approvals(text.output)
    pools = json.loads(data.output)["pools"]
    assert len(shown) == len(pools) == 2
    for summary, pool in zip(shown, pools, strict=True):
        breaching = [a for a in pool["approvals"] if not a["compliant"]]
        assert summary["spends"] == len(pool["approvals"]) > 0
        assert summary["breaches"] == len(breaching) > 20
        assert summary["more"] == len(breaching) - 20
        expected = [
            (
                a["row"],
                format_money(int(Decimal(a["amount"]) * 100)),
                " and ".join(a["required"]),
                " and ".join(
                    r if r in ROLES else f"{r} (not a role of the agreement)" for r in a["recorded"]
                )
                or None,
            )
            for a in breaching[:20]
        ]
        assert summary["listed"] == expected
