"""Split orders (R020): spends to one supplier on one day that together pass the limit each
stays within, found alike by the reference executor, two processes and DuckDB."""

from __future__ import annotations

import io
import os
from array import array
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.engine.approvals import Authority, Rule
from agreementdsl.engine.executor import RowExecutor, Totals
from agreementdsl.engine.ledger import LedgerReader
from agreementdsl.engine.orders import (
    Counted,
    SplitOrder,
    select,
    split_orders,
    supplier_name,
    with_first,
)
from agreementdsl.engine.orders import _rank as rank
from agreementdsl.engine.orders import supplier_key as key_of
from agreementdsl.engine.output import write_text
from agreementdsl.engine.parallel import ParallelExecutor
from agreementdsl.engine.run import _shapes, run_ledger
from agreementdsl.engine.sql.duck import DuckDBExecutor
from engine_support import compile_file, result_json

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
IR = compile_file(HEREFORDSHIRE)
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,category\n"
# Learning disabilities: rule 1 up to £10,000 where element is respite (ld-manager), rule 2 up
# to £25,000 within plan (ld-manager), rule 3 up to £250,000 (board), rule 4 above. Mental
# health: rule 1 up to £50,000 within plan (mh-manager), rule 2 up to £250,000 (board).
ROWS = """\
2005-06-01,learning-disabilities,respite,spend,6000.00,,ld-manager,true,Southbank Close,
2005-06-01,learning-disabilities,respite,spend,5000.00,,ld-manager,true,southbank  close ,
2005-06-01,learning-disabilities,council,spend,20000.00,,ld-manager,true,Oak House,
2005-06-02,learning-disabilities,council,spend,20000.00,,ld-manager,true,Oak House,
2005-06-03,mental-health,council,spend,40000.00,,mh-manager,true,Oak House,
2005-06-03,mental-health,council,spend,£30000,,mh-manager,true,Oak House,
2005-06-03,mental-health,council,spend,300000.00,,executives,true,Oak House,
2005-06-03,learning-disabilities,council,spend,24000.00,,ld-manager,true,Oak House,
2005-06-04,mental-health,council,spend,30000.00,,mh-manager,true,,
2005-06-04,mental-health,council,spend,30000.00,,mh-manager,true,,
2005-06-05,mental-health,council,spend,25000.00,,mh-manager,true,Acme Care,
2005-06-05,mental-health,council,spend,25000.00,,mh-manager,true,ACME CARE,
2005-06-06,mental-health,council,spend,30000.00,,mh-manager,true,Acme Care,
2005-06-06,mental-health,council,income,10000.00,,,,Acme Care,
2005-06-06,mental-health,council,spend,30000.00,,mh-manager,true,Acme Care,
2005-06-07,mental-health,council,spend,200000.00,,board,false,Acme Care,
2005-06-07,mental-health,council,spend,100000.00,,board,false,Acme Care,
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER + ROWS, "utf-8")
    return path


def orders_json(ledger: Path, engine: str, **options: Any) -> list[list[dict[str, Any]]]:
    data = result_json(run_ledger(IR, ledger, engine=engine, **options))
    return [p["split_orders"] for p in data["pools"]]


def test_the_groups_worked_by_hand(ledger: Path) -> None:
    mh, ld = orders_json(ledger, "reference")
    assert ld[0].pop("source").endswith("herefordshire.yaml:90")
    assert ld == [
        {
            # rows 2 and 3: £6,000 + £5,000 of respite, each within rule 1's £10,000; the
            # supplier's case and spaces do not matter; row 4 (Oak House) is another supplier
            "code": "R020",
            "supplier": "Southbank Close",
            "date": "2005-06-01",
            "rows": [2, 3],
            "amounts": ["6000.00", "5000.00"],
            "total": "11000.00",
            "limit": "10000.00",
            "rule": 1,
        }
    ]
    assert [(o["date"], o["rows"], o["total"], o["limit"], o["rule"]) for o in mh] == [
        # rows 6, 7: £40,000 + £30,000 (written "£30000") within rule 1's £50,000; row 8 needs
        # the executives anyway (no limit) and row 9 is the other pool's
        ("2005-06-03", [6, 7], "70000.00", "50000.00", 1),
        # rows 12, 13: £25,000 + £25,000 = £50,000 is not more than £50,000: no group there;
        # rows 14 and 16: £60,000 spent, the income between is not a spend
        ("2005-06-06", [14, 16], "60000.00", "50000.00", 1),
        # rows 17, 18: £300,000 past the board's £250,000 (rule 2), each within it
        ("2005-06-07", [17, 18], "300000.00", "250000.00", 2),
    ]
    # rows 10 and 11 have no supplier: never grouped


def test_one_warning_a_pool_and_each_group_in_the_text(ledger: Path) -> None:
    result = run_ledger(IR, ledger, engine="reference")
    try:
        warnings = [w for p in result.pools for w in p.warnings if w.startswith("R020")]
        text = io.StringIO()
        write_text(result, text)
    finally:
        result.close()
    assert warnings == [
        "R020 pool `mental-health`: 3 possible split orders, the first on 2005-06-03: spends to "
        "one supplier on one day that together pass the limit each stays within (a limit "
        "applies to the whole commitment; see split orders)",
        "R020 pool `learning-disabilities`: 1 possible split order on 2005-06-01: spends to "
        "one supplier on one day that together pass the limit each stays within (a limit "
        "applies to the whole commitment; see split orders)",
    ]
    lines = [line for line in text.getvalue().splitlines() if "Southbank" in line]
    assert len(lines) == 1
    assert lines[0].startswith(
        "    2005-06-01 Southbank Close: rows 2, 3 total £11,000.00, more than the £10,000.00 "
        "limit of rule 1 ("
    )


def test_duckdb_finds_the_same_groups(ledger: Path) -> None:
    assert orders_json(ledger, "duckdb") == orders_json(ledger, "reference")


def test_two_processes_find_the_same_groups_across_the_cut(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("AGREEMENTDSL_PROCESSES", "2")  # fork whatever the load
    # 40 copies of the rows, the last 20 in reverse order (so each half meets the suppliers in
    # another order): the cut falls inside groups of the same day
    backwards = "".join(reversed(ROWS.splitlines(keepends=True)))
    ledger.write_text(HEADER + ROWS * 20 + backwards * 20, "utf-8")
    shapes = {p["id"]: p for p in IR["pools"]}
    roles = frozenset(r["id"] for r in IR["roles"])
    authorities = {pid: Authority(p, roles) for pid, p in shapes.items()}
    elements = {p["id"]: {e["id"]: e["partner"] for e in p["elements"]} for p in IR["pools"]}
    partners = frozenset(p["id"] for p in IR["partners"])
    found = []
    runs = (
        RowExecutor(authorities, elements),
        ParallelExecutor(RowExecutor(authorities, elements), min_bytes=0),
    )
    for run in runs:
        totals = run.execute(LedgerReader(ledger, _shapes(IR), partners))
        try:
            found.append(split_orders(totals))
        finally:
            totals.approvals.close()
    one, two = found
    assert one == two
    # 40 copies of each day: one group a day holding every copy's rows
    assert [(o.pool, o.day, len(o.rows)) for o in one] == [
        ("mental-health", date(2005, 6, 3), 80),
        ("mental-health", date(2005, 6, 5), 80),
        ("mental-health", date(2005, 6, 6), 80),
        ("mental-health", date(2005, 6, 7), 80),
        ("learning-disabilities", date(2005, 6, 1), 80),
        ("learning-disabilities", date(2005, 6, 1), 40),
        ("learning-disabilities", date(2005, 6, 2), 40),
        ("learning-disabilities", date(2005, 6, 3), 40),
    ]


def test_only_the_run_years_groups_to_the_as_of_date_are_listed(ledger: Path) -> None:
    mh, ld = orders_json(ledger, "reference", as_of=date(2005, 6, 6))
    assert [o["date"] for o in mh] == ["2005-06-03", "2005-06-06"]
    mh, ld = orders_json(ledger, "reference", year="2006/07", as_of=date(2006, 6, 30))
    assert (mh, ld) == ([], [])


# ---------------------------------------------------------------- against an oracle
def reference_split_orders(totals: Totals) -> list[SplitOrder]:
    """The grouping as first written, a dict and two passes in plain Python: the oracle."""
    spool = totals.approvals
    suppliers = totals.suppliers
    if not suppliers or len(suppliers) != spool.count:
        return []
    keys = [key_of(t) for t in totals.supplier_names]
    rules = [
        d.rule if d.rule is not None and d.rule.limit is not None else None
        for d, _, _ in spool.table
    ]
    # First pass: count and total the spends of each (pool, supplier, day) under a limited
    # rule, keeping the highest such limit (and its rule).
    groups: dict[tuple[int, str, int], tuple[int, int, Rule]] = {}
    for (_, amount, ordinal, pool, ident), sid in zip(spool.records(), suppliers, strict=True):
        rule, key = rules[ident], keys[sid]
        if rule is None or not key:
            continue
        counted = groups.get((pool, key, ordinal))
        if counted is None:
            groups[(pool, key, ordinal)] = (1, amount, rule)
        else:
            count, total, highest = counted
            higher = rule if rank(rule) > rank(highest) else highest
            groups[(pool, key, ordinal)] = (count + 1, total + amount, higher)
    flagged = {k: g[2] for k, g in groups.items() if g[0] >= 2 and g[1] > rank(g[2])[0]}
    if not flagged:
        return []
    # Second pass: the rows of the flagged groups only.
    # (rows, amounts, the first spend's supplier): arrays, as a group may hold many spends;
    # the spool is in ledger order, so the rows come in order.
    members: dict[tuple[int, str, int], tuple[array[int], array[int], list[int]]] = {
        k: (array("q"), array("q"), []) for k in flagged
    }
    for (row, amount, ordinal, pool, ident), sid in zip(spool.records(), suppliers, strict=True):
        found = members.get((pool, keys[sid], ordinal))
        if found is not None and rules[ident] is not None:
            found[0].append(row)
            found[1].append(amount)
            if not found[2]:
                found[2].append(sid)
    out = []
    for group, (rows, amounts, first) in members.items():
        pool_index, _, ordinal = group
        rule = flagged[group]
        out.append(
            SplitOrder(
                spool.pools[pool_index],
                supplier_name(totals.supplier_names[first[0]]),
                date.fromordinal(ordinal),
                rows,
                amounts,
                rank(rule)[0],
                rule.number,
                f"{rule.file}:{rule.line}",
            )
        )
    return sorted(out, key=lambda o: (spool.pools.index(o.pool), o.day, o.rows[0]))


def executed(path: Path) -> Totals:
    roles = frozenset(r["id"] for r in IR["roles"])
    authorities = {p["id"]: Authority(p, roles) for p in IR["pools"]}
    elements = {p["id"]: {e["id"]: e["partner"] for e in p["elements"]} for p in IR["pools"]}
    partners = frozenset(p["id"] for p in IR["partners"])
    return RowExecutor(authorities, elements).execute(LedgerReader(path, _shapes(IR), partners))


SPEND = st.tuples(
    st.sampled_from(["2005-06-01", "2005-06-02", "2006-06-01"]),
    st.sampled_from(
        [
            ("mental-health", "council"),
            ("learning-disabilities", "respite"),
            ("learning-disabilities", "council"),
        ]
    ),
    st.sampled_from(["spend"] * 5 + ["income"]),
    st.sampled_from([1, 500_000, 999_999, 1_000_000, 2_500_000, 5_000_000, 20_000_000, 30_000_000]),
    st.sampled_from(["true", "false"]),
    st.sampled_from(
        ["Oak House", "oak house", " Oak  House", "Acme", "", "ACME ", "Café", "CAFÉ", "café"]
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spends=st.lists(SPEND, max_size=40))
def test_the_vectorised_grouping_gives_what_the_oracle_gives(
    tmp_path_factory: pytest.TempPathFactory, spends: list[tuple[Any, ...]]
) -> None:
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    lines = [
        f"{day},{pool},{element},{kind},{pence // 100}.{pence % 100:02d},,board,{plan},{supplier},"
        for day, (pool, element), kind, pence, plan, supplier in spends
    ]
    path.write_text(HEADER + "\n".join(lines) + "\n", "utf-8")
    totals = executed(path)
    try:
        expected = reference_split_orders(totals)
        assert split_orders(totals) == expected
    finally:
        totals.approvals.close()
    # the SQL executors group by the same key (DuckDB by counting, `SPLIT_KEYED` elsewhere)
    roles = frozenset(r["id"] for r in IR["roles"])
    authorities = {p["id"]: Authority(p, roles) for p in IR["pools"]}
    partners = frozenset(p["id"] for p in IR["partners"])
    duck = DuckDBExecutor(IR, authorities).execute(LedgerReader(path, _shapes(IR), partners))
    try:
        assert split_orders(duck) == expected
        # held as columns (Counted): a pool's year picks the same orders as the list would
        counted = split_orders(duck, rows=False)
        assert isinstance(counted, Counted) or not expected
        years = [(date(2005, 4, 1), date(2006, 3, 31)), (date(2006, 4, 1), date(2007, 3, 31))]
        for pool in ("mental-health", "learning-disabilities", "no-such-pool"):
            for first, last in years:
                picked = [(o.pool, o.day, o.first_row) for o in select(counted, pool, first, last)]
                assert picked == [
                    (o.pool, o.day, o.first_row) for o in select(expected, pool, first, last)
                ]
    finally:
        duck.approvals.close()


def test_split_orders_held_as_columns_behave_as_a_list(ledger: Path) -> None:
    """DuckDB's split orders are made one at a time when asked for (orders.Counted): indexed,
    sliced, iterated, picked by pool and year, and with their first few given their rows,
    they are what the list of them is."""
    roles = frozenset(r["id"] for r in IR["roles"])
    authorities = {p["id"]: Authority(p, roles) for p in IR["pools"]}
    partners = frozenset(p["id"] for p in IR["partners"])
    duck = DuckDBExecutor(IR, authorities).execute(LedgerReader(ledger, _shapes(IR), partners))
    try:
        counted = split_orders(duck, rows=False)
        assert isinstance(counted, Counted)
        whole = list(counted)
        assert len(counted) == len(whole) >= 3
        assert [counted[i] for i in range(len(whole))] == whole == counted[:]
        assert counted[-1] == whole[-1] and counted[1:3] == whole[1:3]
        with pytest.raises(IndexError):
            counted[len(whole)]
        loaded = split_orders(duck)  # with their rows
        first = with_first(counted, loaded[:2])
        assert first[:2] == loaded[:2] and all(o.loaded for o in first[:2])
        assert list(first)[2:] == whole[2:] and not first[2].loaded
        # a pool's year keeps those of the first few given that are in it, as given
        for pool in ("mental-health", "learning-disabilities"):
            picked = select(first, pool, date(2005, 4, 1), date(2006, 3, 31))
            given = [o for o in loaded[:2] if o.pool == pool]
            assert picked[: len(given)] == given and all(o.loaded for o in picked[: len(given)])
            assert [(o.day, o.first_row) for o in picked] == [
                (o.day, o.first_row) for o in whole if o.pool == pool
            ]
        with pytest.raises(ValueError):
            with_first(counted, loaded + loaded)
        mine = select(counted, "mental-health", date(2005, 6, 5), date(2005, 6, 6))
        assert [(o.day, o.first_row) for o in mine] == [
            (o.day, o.first_row)
            for o in whole
            if o.pool == "mental-health" and date(2005, 6, 5) <= o.day <= date(2005, 6, 6)
        ]
        assert len(mine) >= 1
    finally:
        duck.approvals.close()
