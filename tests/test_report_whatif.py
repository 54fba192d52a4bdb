"""What-if: who pays what at each outturn, exactly as `run` would settle it, kinks exact."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agreementdsl.cells import safe_cell
from agreementdsl.cli import main
from agreementdsl.money import parse_amount
from agreementdsl.report.whatif import (
    WhatIfError,
    kinks,
    parse_range,
    settle_at,
    what_if,
    write_csv,
    year_context,
)
from engine_support import compile_file, pool_of, run_json

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
THREE = ROOT / "tests" / "data" / "engine" / "three-partners.yaml"
IR = compile_file(HEREFORDSHIRE)


def _pool(ir: dict[str, Any], pool_id: str) -> dict[str, Any]:
    return next(p for p in ir["pools"] if p["id"] == pool_id)


def test_each_level_is_settled_exactly_as_run_settles_that_outturn(tmp_path: Path) -> None:
    # a ledger whose year's net expenditure is £18,140,000 settles, in `run`, as
    # hpct £631,609.20 and hc £108,390.80 (LANGUAGE.md §10); what-if at that level agrees.
    rows = [["2005-06-01", "mental-health", "council", "spend", "18140000.00", "executives"]]
    data = run_json(
        IR,
        tmp_path,
        rows,
        date(2006, 3, 31),
        ["date", "pool", "element", "kind", "amount", "approved_by"],
    )
    engine = pool_of(data, "mental-health")["settlement"]["shares"]
    result = what_if(IR, "mental-health", "2005/06", 1_814_000_000, 1_814_000_000)
    [point] = result.to_json()["points"]  # type: ignore[misc]
    assert point["shares"] == engine == {"hpct": "631609.20", "hc": "108390.80"}
    assert point["variance"] == {"kind": "overspend", "amount": "740000.00"}


def test_kinks_are_where_a_step_runs_out_and_where_the_variance_turns() -> None:
    pool = _pool(IR, "learning-disabilities")
    ctx = year_context(IR, pool, "2005/06")
    found = [(k.outturn, k.direction) for k in kinks(pool, ctx)]
    # budget £9,300,000; underspend: first £100,000 carried forward -> £9,200,000;
    # overspend: first £280,000 to host -> £9,580,000
    assert found == [
        (920_000_000, "underspend"),
        (930_000_000, "balanced"),
        (958_000_000, "overspend"),
    ]


@pytest.mark.parametrize("pool_id", ["mental-health", "learning-disabilities"])
def test_the_slope_changes_at_each_kink_and_nowhere_between(pool_id: str) -> None:
    """Each partner's share is straight (to a penny of rounding) between kinks, bent at them."""
    pool = _pool(IR, pool_id)
    ctx = year_context(IR, pool, "2005/06")
    marks = [k.outturn for k in kinks(pool, ctx)]
    step = 1_000_000  # £10,000

    def shares(outturn: int) -> dict[str, int]:
        kind, _, result = settle_at(pool, ctx, outturn)
        sign = -1 if kind == "underspend" else 1
        out = {p: sign * v for p, v in result.shares.items()}
        out["carried"] = -result.carried_forward
        return out

    def bent(at: int) -> bool:
        before, here, after = shares(at - step), shares(at), shares(at + step)
        return any(
            abs((after.get(p, 0) - here.get(p, 0)) - (here.get(p, 0) - before.get(p, 0))) > 2
            for p in set(before) | set(after)
        )

    for mark in marks:
        assert bent(mark), f"no kink at {mark}"
    for probe in range(marks[0] - 30 * step, marks[-1] + 30 * step, step):
        if all(abs(probe - m) >= step for m in marks):
            assert not bent(probe), f"an unexpected kink at {probe}"


@settings(max_examples=60, deadline=None)
@given(
    low=st.integers(min_value=0, max_value=3_000_000_000),
    span=st.integers(min_value=0, max_value=500_000_000),
    step=st.integers(min_value=1_000, max_value=50_000_000),
)
def test_shares_add_up_to_the_variance_at_every_level(low: int, span: int, step: int) -> None:
    step = max(step, span // 500 + 1)  # at most about 500 levels an example
    for pool_id in ("mental-health", "learning-disabilities"):
        result = what_if(IR, pool_id, "2005/06", low, low + span, step)
        for p in result.points:
            assert sum(p.shares.values()) + p.carried_forward == p.variance
            assert p.variance == abs(p.outturn - result.budget)
        levels = [p.outturn for p in result.points]
        assert levels == sorted(set(levels)) and levels[0] == low and levels[-1] == low + span


def test_three_partners_with_a_percent_of_pool_step_have_exact_kinks() -> None:
    ir = compile_file(THREE)
    pool = ir["pools"][0]
    year = pool["contributions"][0]["year"]
    ctx = year_context(ir, pool, year)
    for kink in kinks(pool, ctx):
        _, variance, result = settle_at(pool, ctx, kink.outturn)
        assert variance == abs(kink.outturn - ctx.pool_total)
        assert sum(result.shares.values()) + result.carried_forward == variance


def test_overspend_range_is_measured_from_the_budget() -> None:
    result = what_if(IR, "mental-health", "2005/06", -10_000_000, 10_000_000, by_overspend=True)
    assert result.points[0].outturn == 1_740_000_000 - 10_000_000
    assert result.points[-1].outturn == 1_740_000_000 + 10_000_000


def test_ranges_are_read_in_pounds_with_k_and_m() -> None:
    assert parse_range("£17m..£19.5m", "--outturn") == (1_700_000_000, 1_950_000_000)
    assert parse_range("-£500k..1,000,000", "--overspend") == (-50_000_000, 100_000_000)
    with pytest.raises(WhatIfError) as caught:
        parse_range("£19m..£17m", "--outturn")
    assert caught.value.code == "R001"
    with pytest.raises(WhatIfError):
        parse_range("lots", "--outturn")


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    for text in ("=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("740000.00") == "740000.00"
    assert safe_cell("overspend") == "overspend"


def test_csv_amounts_are_unsigned_numbers_with_a_kind_column() -> None:
    result = what_if(IR, "learning-disabilities", "2005/06", 900_000_000, 1_000_000_000)
    rows = list(csv.DictReader(io.StringIO(write_csv(result))))
    assert {r["kind"] for r in rows} == {"underspend", "balanced", "overspend"}
    for row in rows:
        amounts = [row["outturn"], row["variance"], row["hpct"], row["hc"], row["carried_forward"]]
        assert all(a[0].isdigit() for a in amounts), row
        total = sum(parse_amount(row[p]) for p in ("hpct", "hc", "carried_forward"))
        assert total == parse_amount(row["variance"])
    assert [r["outturn"] for r in rows if r["kink"] == "yes"] == [
        "9200000.00",
        "9300000.00",
        "9580000.00",
    ]


# ---------------------------------------------------------------- the command
@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # sources are named as a user at the repository root types them


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["whatif", "agreements/herefordshire.yaml", *args])


def test_whatif_json_text_and_csv_give_the_same_levels() -> None:
    args = ["--pool", "mental-health", "--outturn", "£17m..£18.5m", "--step", "£250k"]
    as_json = _cli(*args, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    outturns = [p["outturn"] for p in data["points"]]
    # every £250,000 from £17m, plus the budget £17.4m and the host's £280k running out at £17.68m
    assert outturns == [
        "17000000.00",
        "17250000.00",
        "17400000.00",
        "17500000.00",
        "17680000.00",
        "17750000.00",
        "18000000.00",
        "18250000.00",
        "18500000.00",
    ]
    as_csv = _cli(*args, "--format", "csv")
    assert [r["outturn"] for r in csv.DictReader(io.StringIO(as_csv.output))] == outturns
    text = _cli(*args)
    assert text.exit_code == 0
    assert "◆ £17,680,000.00" in text.output
    assert "`first £280,000 to host` runs out (agreements/herefordshire.yaml:47)" in text.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--pool", "mental-health"], 2, "exactly one of --outturn"),
        (["--pool", "nope", "--outturn", "£1m..£2m"], 2, "[R002]"),
        (["--pool", "mental-health", "--outturn", "£2m..£1m"], 2, "[R001]"),
        (["--pool", "mental-health", "--outturn", "£1m..£2m", "--step", "£0"], 2, "[R001]"),
        (["--pool", "mental-health", "--outturn", "£0..£20m", "--step", "£1"], 2, "[R001]"),
        (["--pool", "mental-health", "--year", "2009/10", "--outturn", "£1m..£2m"], 1, "R003"),
    ],
)
def test_whatif_explains_what_it_cannot_do(args: list[str], code: int, words: str) -> None:
    result = _cli(*args)
    assert result.exit_code == code, result.output
    assert words in result.output
    assert "Traceback" not in result.output
