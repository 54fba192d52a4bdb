"""The Spark executor against the reference: byte-identical JSON and text for the same run.

Spark runs in local mode (one SparkSession for the whole session: starting one takes seconds);
these tests carry the marker `spark` and run under `make test-spark`, which installs pyspark
(the `spark` extra) and a Java runtime. Fixtures are small: Spark's cost is per query, not per
row.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.engine.sql.generate import render
from engine_support import compile_file, compile_text
from test_engine_approvals import clauses, compile_clause
from test_engine_sql_duck import (
    HEREFORDSHIRE,
    LEDGER,
    check_huge_sums,
    huge_sums,
    ledgers,
    outputs,
)
from test_engine_sql_postgres import BAD_ROWS

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark() -> Any:
    from agreementdsl.engine.sql.spark import session

    return session()


def same(ir: dict[str, Any], ledger: Path, reference: Path | None = None, **options: Any) -> str:
    expected = outputs(ir, reference or ledger, "reference", **options)
    got = outputs(ir, ledger, "spark", **options)
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    return got[0]


def test_the_example_ledger_gives_the_same_bytes_on_spark(spark: Any) -> None:
    ir = compile_file(HEREFORDSHIRE)
    data = json.loads(same(ir, LEDGER))
    assert data["rows"]["read"] == 430 and data["pools"][0]["approvals"]
    same(ir, LEDGER, explain=True, year="2005/06", as_of=date(2005, 12, 31))


def test_bad_rows_are_rejected_with_the_reference_codes(spark: Any, tmp_path: Path) -> None:
    ir = compile_file(HEREFORDSHIRE)
    ledger = tmp_path / "ledger.csv"
    # Line breaks at the end of a quoted amount or date: Java's `$` matches before them, so
    # the SQL must not take `12.50\n` for a plain amount (the reference reads it its own way).
    extra = (
        '2005-06-01,mental-health,council,spend,"12.50\n",,board,yes,,,R20,\n'
        '"2005-06-02\n",mental-health,council,spend,12.50,,board,yes,,,R21,\n'
        "2005-06-03\u2028,mental-health,council,spend,12.50,,board,yes,,,R22,\n"
        '2005-06-04,mental-health,council,spend,"12.50\r\n",,board,yes,,,R23,\n'
        "2005-06-05\u0085,mental-health,council,spend,12.50,,board,yes,,,R24,\n"
        "2005-06-06,mental-health,council,spend,12.50\u2029,,board,yes,,,R25,\n"
    )
    ledger.write_text(LEDGER.read_text("utf-8") + BAD_ROWS + extra, encoding="utf-8")
    data = json.loads(same(ir, ledger))
    assert {f"L{n:03d}" for n in range(1, 11)} <= {r["code"] for r in data["rejected"]}


def test_a_parquet_ledger_gives_what_the_same_csv_gives(spark: Any, tmp_path: Path) -> None:
    ir = compile_file(HEREFORDSHIRE)
    parquet = tmp_path / "ledger.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{LEDGER}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    same(ir, parquet, reference=LEDGER)


def test_the_printed_spark_sql_runs_on_spark(spark: Any) -> None:
    """`compile --sql --dialect spark` prints statements Spark runs as they are printed."""
    ir = compile_file(HEREFORDSHIRE)
    text = render(ir, "spark")
    statements = {
        part.split("\n", 1)[0]: part.split("\n", 1)[1].rstrip().removesuffix(";")
        for part in text.split("\n\n-- ")[1:]
    }
    spark.sql(
        "SELECT * FROM VALUES (2, CAST(NULL AS BIGINT), '2005-06-01', 'mental-health', 'spend', "
        "'12.50', 'council', '', 'mh-manager', 'true', '', ''), "
        "(3, NULL, '2005-02-30', 'mental-health', 'spend', '1.00', 'council', '', '', '', '', '') "
        "AS t(line, broken, date_text, pool, kind, amount_text, element, partner, approved_by, "
        "in_plan_text, supplier, category)"
    ).createOrReplaceTempView("raw_rows")
    try:
        for statement in statements.values():  # each a view, run as printed
            spark.sql(statement)
        staged = spark.sql("SELECT line, ok, pence, in_plan FROM staged ORDER BY line").collect()
        assert [tuple(r) for r in staged] == [(2, True, 1250, True), (3, True, 100, False)]
        dates = spark.sql("SELECT date_text, valid, day FROM dates ORDER BY 1").collect()
        assert [tuple(r) for r in dates] == [
            ("2005-02-30", False, None),
            ("2005-06-01", True, date(2005, 6, 1)),
        ]
        assert [r[0] for r in spark.sql("SELECT line FROM doubtful").collect()] == [3]
        # £12.50 within plan in mental health: rule 1 (up to £50,000 within plan: mh-manager)
        spends = spark.sql("SELECT line, pool_index, rule FROM spends").collect()
        assert [tuple(r) for r in spends] == [(2, 0, 1)]
        # Money stays BIGINT through a SUM, and Java's `$` is why the SQL guards its matches.
        typed = spark.sql("SELECT typeof(pence), typeof(SUM(pence)) FROM staged GROUP BY 1")
        assert [tuple(r) for r in typed.collect()] == [("bigint", "bigint")]
        found = spark.sql("SELECT '12.50' || CHAR(10) RLIKE '^[0-9]{1,12}([.][0-9]{2})?$'")
        assert found.collect()[0][0] is True
    finally:
        for name in ("raw_rows", *statements):
            spark.catalog.dropTempView(name)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=clauses(), ledger=ledgers(), as_of=st.sampled_from([None, date(2009, 3, 31)]))
def test_spark_and_the_reference_write_the_same_bytes(
    spark: Any,
    tmp_path_factory: pytest.TempPathFactory,
    rules: list[dict[str, Any]],
    ledger: bytes,
    as_of: date | None,
) -> None:
    ir = compile_clause(rules)
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    path.write_bytes(ledger)
    same(ir, path, as_of=as_of)


def test_unapproved_spend_borne_by_partners_as_the_reference(spark: Any, tmp_path: Path) -> None:
    from test_engine_unapproved import BORNE
    from test_engine_unapproved import LEDGER as BORNE_LEDGER

    ir = compile_text(BORNE, "herefordshire.yaml")
    path = tmp_path / "ledger.csv"
    path.write_text(BORNE_LEDGER, "utf-8")
    data = json.loads(same(ir, path))
    assert data["pools"][1]["unapproved_spend"]["partners"] == {
        "hpct": "40000.00",
        "hc": "350000.00",
    }


def test_sums_past_nine_quintillion_pence_are_exact_on_spark(spark: Any, tmp_path: Path) -> None:
    """Spark sums BIGINT in BIGINT (an overflow error with ANSI on): the SQL sums DECIMAL."""
    ir, path, limit = huge_sums(tmp_path)
    check_huge_sums(json.loads(same(ir, path)), limit)
