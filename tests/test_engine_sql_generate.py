"""The SQL generator: what it accepts it reads exactly as the reference reader does, and the same
tree prints as SQL that each target dialect parses back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.engine.ledger import LedgerReader, PoolShape, Rejected
from agreementdsl.engine.sql.generate import (
    DIALECTS,
    FALSE,
    PLAN_ORDER,
    TEXTS,
    TRUE,
    Rules,
    render,
)
from engine_support import compile_file

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"


@pytest.fixture(scope="module")
def ir() -> dict[str, Any]:
    return compile_file(HEREFORDSHIRE)


def raw_table(rows: list[tuple[str, ...]]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding `raw_rows` of these rows, numbered from line 2."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw_rows (line BIGINT, broken BIGINT, "
        + ", ".join(f"{t} VARCHAR" for t in TEXTS)
        + ")"
    )
    con.executemany(
        f"INSERT INTO raw_rows VALUES (?, NULL, {', '.join('?' for _ in TEXTS)})",
        [(i, *row) for i, row in enumerate(rows, start=2)],
    )
    return con


def staged(ir: dict[str, Any], rows: list[tuple[str, ...]]) -> list[tuple[Any, ...]]:
    """(line, ok, day, pence, in_plan) for raw rows run through the `staged` statement."""
    con = raw_table(rows)
    rules = Rules(ir)
    con.execute(f"CREATE TABLE staged AS {rules.stage().sql('duckdb')}")
    con.execute(f"CREATE TABLE dates AS {rules.dates().sql('duckdb')}")
    out = con.execute(
        "SELECT s.line, s.ok AND coalesce(d.valid, false), d.day, s.pence, s.in_plan "
        "FROM staged s LEFT JOIN dates d ON s.date_text = d.date_text ORDER BY s.line"
    ).fetchall()
    con.close()
    return out


def reader(ir: dict[str, Any]) -> LedgerReader:
    shapes = {
        p["id"]: PoolShape({e["id"]: e["partner"] for e in p["elements"]}) for p in ir["pools"]
    }
    return LedgerReader(Path("-"), shapes, frozenset(p["id"] for p in ir["partners"]))


def row(date_text: str = "2005-06-01", amount: str = "12.50", **fields: str) -> tuple[str, ...]:
    values = {
        "date_text": date_text,
        "pool": "mental-health",
        "kind": "spend",
        "amount_text": amount,
        "element": "council",
        "partner": "",
        "approved_by": "board",
        "in_plan_text": "true",
        "supplier": "",
        "category": "",
        **fields,
    }
    return tuple(values[t] for t in TEXTS)


def test_the_in_plan_texts_are_tried_commonest_first_each_once() -> None:
    assert sorted(PLAN_ORDER) == sorted(TRUE + FALSE) and PLAN_ORDER[:3] == ("", "true", "false")


def test_amounts_are_pence_without_rounding(ir: dict[str, Any]) -> None:
    texts = ["12.50", "12", "0.00", "999999999999.99", "-£1,250.5", "12.", "400.005", "1e3"]
    texts.append("1000000000000.00")  # £1 trillion: left to the reference reader (L016)
    rows = staged(ir, [row(amount=t) for t in texts])
    got = {text: (ok, pence) for text, (_, ok, _, pence, _) in zip(texts, rows, strict=True)}
    assert got["12.50"] == (True, 1250)
    assert got["12"] == (True, 1200)
    assert got["0.00"] == (True, 0)
    assert got["999999999999.99"] == (True, 99999999999999)
    assert got["1000000000000.00"][0] is False
    # Other forms take the reference executor's careful path (where category and supplier are
    # stripped), so the SQL leaves them to the reference reader; DuckDB's own DECIMAL reading
    # would round 400.005 and accept 1e3, which the reference rejects (L004, L003).
    for text in ("-£1,250.5", "12.", "400.005", "1e3"):
        assert got[text][0] is False


def test_an_amount_with_a_line_break_after_it_is_not_read(ir: dict[str, Any]) -> None:
    """RE2's `$` is the end of the text (Spark's, Java's, is not: its SQL also tests the last
    character, tests/test_engine_sql_spark.py)."""
    texts = ["12.50\n", "12.50\r\n", "12\n", "\n12.50"]
    assert [ok for _, ok, _, _, _ in staged(ir, [row(amount=t) for t in texts])] == [False] * 4
    assert "SUBSTRING(amount_text" in Rules(ir, "spark").clean().sql("spark")
    assert "SUBSTRING" not in Rules(ir, "duckdb").clean().sql("duckdb")


def test_ok_is_true_or_false_never_null(ir: dict[str, Any]) -> None:
    """A text outside its known values is coded NULL; `ok` must still be false, not NULL (a
    NULL `ok` would drop the row from both the SQL's rows and the doubtful ones)."""
    rows = [
        row(pool="nowhere"),
        row(kind="refund"),
        row(element="e9"),
        row(element="respite"),  # learning disabilities' element, not mental health's
        row(element="", kind="spend"),
        row(partner="someone"),
        row(in_plan_text="maybe"),
        row(amount="1e3"),
        row(),
    ]
    con = raw_table(rows)
    got = con.execute(f"SELECT ok FROM ({Rules(ir).stage().sql('duckdb')}) ORDER BY line")
    assert [ok for (ok,) in got.fetchall()] == [False] * 8 + [True]


def test_dates_are_checked_on_the_calendar(ir: dict[str, Any]) -> None:
    texts = [
        "2008-02-29",
        "2009-02-29",
        "2000-02-29",
        "1900-02-29",
        "2005-06-31",
        "0000-01-01",
        "2005-6-1",
    ]
    got = [ok for _, ok, _, _, _ in staged(ir, [row(date_text=t) for t in texts])]
    assert got == [True, False, True, False, False, False, False]


TEXT = st.text(alphabet=st.sampled_from(list("0123456789-.,£ e/\t\u00a0١")), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dates=st.lists(st.one_of(TEXT, st.dates().map(date.isoformat)), min_size=1, max_size=20),
    amounts=st.lists(TEXT, min_size=1, max_size=20),
    in_plan=st.lists(
        st.sampled_from(["true", "TRUE", " yes", "no", "", "f", "maybe"]), min_size=1, max_size=20
    ),
)
def test_what_the_sql_accepts_the_reference_reads_the_same(
    ir: dict[str, Any], dates: list[str], amounts: list[str], in_plan: list[str]
) -> None:
    """The SQL may decline a row the reference accepts (the reference then reads it), but a row
    it accepts must have the reference's date, pence and in_plan."""
    rows = [
        row(
            dates[i % len(dates)], amounts[i % len(amounts)], in_plan_text=in_plan[i % len(in_plan)]
        )
        for i in range(max(len(dates), len(amounts), len(in_plan)))
    ]
    check = reader(ir)
    for (line, ok, day, pence, plan), raw in zip(staged(ir, rows), rows, strict=True):
        if not ok:
            continue
        txn = check.check(line, *raw)
        assert not isinstance(txn, Rejected), (raw, txn)
        assert (txn.day, txn.amount, txn.in_plan) == (day, pence, plan), raw


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_statement_parses_back_in_its_dialect(ir: dict[str, Any], dialect: str) -> None:
    text = render(ir, dialect)
    statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    assert len(statements) == len(Rules(ir).statements()) + 1  # and the empty checked_rows
    # The rules are readable as a query: each rule's limit and number appear.
    assert "25000000" in text and "5000000" in text


def test_no_division_and_no_engine_only_functions(ir: dict[str, Any]) -> None:
    for dialect in DIALECTS:
        for tree in Rules(ir, dialect).statements().values():
            assert not list(tree.find_all(sqlglot.exp.Div)), dialect
            assert not list(tree.find_all(sqlglot.exp.Round, sqlglot.exp.TryCast))


def test_the_printed_sql_runs_as_printed_on_duckdb(ir: dict[str, Any]) -> None:
    """`compile --sql` prints views that run as they are printed once `raw_rows` exists (an
    auditor had to wrap each bare SELECT in a view of the name its comment gave), and its
    header names each pool's rules by the number `spends.rule` gives them."""
    import duckdb

    text = render(ir, "duckdb")
    for pool_index, pool in enumerate(ir["pools"]):
        for rule in pool["spending"]:
            assert (
                f"pool_index {pool_index} ({pool['id']}), rule {rule['number']}: {rule['text']}"
                in text
            )
    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TABLE raw_rows AS SELECT * FROM (VALUES "
            "(2, CAST(NULL AS BIGINT), '2005-06-01', 'mental-health', 'spend', '300000.00', "
            "'council', '', 'board', 'true', '', ''), "
            "(3, NULL, '2005-06-02', 'learning-disabilities', 'spend', '5000.00', 'respite', '', "
            "'ld-manager', '', '', ''), "
            "(4, NULL, '2005-06-03', 'mental-health', 'spend', '£10.00', 'council', '', '', '', "
            "'', '')) AS t(line, broken, " + ", ".join(TEXTS) + ")"
        )
        con.execute(text)
        # £300,000 in mental health: rule 3 (above: executives); £5,000 of respite: rule 1;
        # `£10.00` is the reference reader's (doubtful), and checked_rows is empty here
        found = con.execute("SELECT line, pool_index, rule FROM spends ORDER BY line").fetchall()
        assert found == [(2, 0, 3), (3, 1, 1)]
        assert con.execute("SELECT line FROM doubtful").fetchall() == [(4,)]
    finally:
        con.close()
