"""The generated SQL means the same on a real PostgreSQL as on DuckDB.

A throwaway cluster (initdb, pg_ctl) on 127.0.0.1 is started for this module and stopped after
it. The ledger texts DuckDB's reading layer gives are loaded into PostgreSQL as `raw_rows`, and
the statements generated for the postgres dialect (row checks, pence, dates, the aggregation
and each spend's rule) must give exactly what the duckdb dialect gives on DuckDB. This is not yet
a PostgreSQL executor (issue 11): it proves the one tree is read alike by both engines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.engine.ledger import COLUMNS, LedgerError, LedgerReader, Rejected
from agreementdsl.engine.run import _shapes
from agreementdsl.engine.sql import sources
from agreementdsl.engine.sql.generate import TEXTS, Rules
from engine_support import compile_file
from test_engine_approvals import clauses, compile_clause
from test_engine_sql_duck import (
    HEREFORDSHIRE,
    LEDGER,
    check_huge_sums,
    huge_sums,
    ledgers,
    outputs,
)

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def postgres(pg_cluster: str) -> Iterator[Any]:
    """A connection to the session's throwaway cluster (conftest.py)."""
    with psycopg.connect(pg_cluster) as con:
        yield con


def raw_rows(ir: dict[str, Any], ledger: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    reader = LedgerReader(ledger, _shapes(ir), frozenset(p["id"] for p in ir["partners"]))
    sources.load(con, reader, None)
    rows = con.execute(f"SELECT line, broken, {', '.join(TEXTS)} FROM raw_rows").fetchall()
    con.close()
    return rows


QUERIES = {
    "staged": "SELECT line, ok, date_text, pool, kind, pence, in_plan FROM staged ORDER BY line",
    "dates": "SELECT * FROM dates ORDER BY date_text",
    "doubtful": "SELECT line FROM ({doubtful}) q ORDER BY line",
    "net": "SELECT * FROM ({net}) q ORDER BY 1, 2, 3",
    "forecasts": "{forecasts}",
    "received": "SELECT * FROM ({received}) q ORDER BY 1, 2, 3",
    "spends": "SELECT line, pence, pool_index, rule, in_plan FROM ({spends}) q ORDER BY line",
}


def results(run: Any, rules: Rules, dialect: str) -> dict[str, list[tuple[Any, ...]]]:
    sql = {name: tree.sql(dialect=dialect) for name, tree in rules.statements().items()}
    run(f"CREATE TABLE staged AS {sql['staged']}")
    run(f"CREATE TABLE dates AS {sql['dates']}")
    run(
        "CREATE TABLE checked_rows AS SELECT s.line, d.day, s.pool, s.kind, s.pence, s.element, "
        "s.partner, s.approved_by, s.in_plan, s.supplier, s.category "
        "FROM staged s JOIN dates d ON s.date_text = d.date_text WHERE 1 = 0"
    )
    run(f"CREATE VIEW good AS {sql['good']}")
    out = {}
    for name, query in QUERIES.items():
        rows = run(query.format(**sql))
        out[name] = [
            tuple(
                int(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, (bool, float)) else v
                for v in r
            )
            for r in rows
        ]
    return out


def test_the_same_statements_give_the_same_rows_on_postgres(postgres: Any, tmp_path: Path) -> None:
    ir = compile_file(HEREFORDSHIRE)
    ledger = tmp_path / "ledger.csv"
    # The example ledger (twelve columns, CR LF) plus rows the checks must decline alike on both
    # engines, or (the first) accept.
    extra = [
        "2008-02-29,mental-health,council,spend,1.00,,board,true,,,X1,",
        "2009-02-29,mental-health,council,spend,1.00,,board,true,,,X2,",
        '2005-06-01,mental-health,council,spend,"-£1,250.5",,board,yes,,,X3,',
        "2005-06-01,mental-health,council,spend,400.005,,board,yes,,,X4,",
        # PostgreSQL's `$` is the end of the text: no line break may follow the digits
        '2005-06-01,mental-health,council,spend,"12.50\n",,board,yes,,,X5,',
    ]
    ledger.write_bytes(LEDGER.read_bytes() + "\r\n".join([*extra, ""]).encode("utf-8"))
    rows = raw_rows(ir, ledger)
    assert len(rows) == len(LEDGER.read_bytes().splitlines()) - 1 + len(extra)  # none set aside
    rules = Rules(ir)

    duck = duckdb.connect()
    columns = ", ".join(f"{t} VARCHAR" for t in TEXTS)
    duck.execute(f"CREATE TABLE raw_rows (line BIGINT, broken BIGINT, {columns})")
    duck.executemany(
        f"INSERT INTO raw_rows VALUES ({', '.join('?' for _ in range(len(TEXTS) + 2))})", rows
    )
    expected = results(
        lambda q: (
            duck.execute(q).fetchall() if q.lstrip().startswith("SELECT") else duck.execute(q)
        ),
        rules,
        "duckdb",
    )

    with postgres.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS run CASCADE")
        cur.execute("CREATE SCHEMA run")
        cur.execute("SET search_path TO run")
        cur.execute(f"CREATE TABLE raw_rows (line BIGINT, broken BIGINT, {columns})")
        cur.executemany(
            f"INSERT INTO raw_rows VALUES ({', '.join('%s' for _ in range(len(TEXTS) + 2))})", rows
        )

        def run(query: str) -> Any:
            cur.execute(query)
            return cur.fetchall() if query.lstrip().startswith("SELECT") else None

        got = results(run, Rules(ir, "postgres"), "postgres")
        # Each row's checks run once: PostgreSQL would otherwise write `ok` (and with it the
        # amount's regular expression) into every column that names it (Rules._once).
        cur.execute(
            f"EXPLAIN (VERBOSE) SELECT * FROM ({Rules(ir, 'postgres').stage().sql('postgres')}) s"
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert got == expected
    assert any(not ok for _, ok, *_ in got["staged"])  # some rows were declined
    assert got["spends"] and got["net"]
    assert plan.count(" ~ '") == 1, plan  # the amount's match, once
    oks = [ok for _, ok, *_ in got["staged"][-len(extra) :]]
    assert oks == [True, True, False, False, False]  # the dates are judged apart (`dates`)


# ---------------------------------------------------------------- the PostgreSQL executor
# The ledger in a table, in a query, or a file loaded with COPY: byte-identical JSON and text
# with the reference executor on the same rows.


@pytest.fixture(scope="module")
def pg(pg_cluster: str) -> Iterator[Any]:
    """A connection of this module's own, its tables in the schema `public`."""
    with psycopg.connect(pg_cluster) as con:
        yield con


def pg_outputs(ir: dict[str, Any], ledger: Path | str, **options: Any) -> tuple[str, str]:
    return outputs(ir, ledger, "postgres", **options)  # type: ignore[arg-type]


def table_of(con: Any, ir: dict[str, Any], ledger: Path, name: str, typed: bool = False) -> None:
    """The ledger's rows, as the reference reader reads them, in a table with a `line` column;
    `typed` makes date a DATE and amount NUMERIC where
    every row's text allows it."""
    reader = LedgerReader(ledger, _shapes(ir), frozenset(p["id"] for p in ir["partners"]))
    rows = [r for r in reader if not isinstance(r, Rejected)]
    columns = ", ".join(f'"{c}" TEXT' for c in COLUMNS)
    with con.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(f"CREATE TABLE {name} (line BIGINT, {columns})")
        with cur.copy(f"COPY {name} FROM STDIN") as copy:
            for line, texts in rows:
                copy.write_row((line, *texts))
        if typed:
            cur.execute(f'ALTER TABLE {name} ALTER COLUMN "date" TYPE DATE USING "date"::date')
            cur.execute(
                f"ALTER TABLE {name} ALTER COLUMN amount TYPE NUMERIC(14, 2) USING amount::numeric"
            )
    con.commit()


def test_the_example_ledger_gives_the_same_bytes_on_postgres(
    pg: Any, pg_cluster: str, tmp_path: Path
) -> None:
    ir = compile_file(HEREFORDSHIRE)
    expected = outputs(ir, LEDGER, "reference")
    assert json.loads(expected[0])["rows"]["read"] > 0
    # A file loaded into the database with COPY.
    assert pg_outputs(ir, LEDGER, database=pg_cluster) == expected
    # A table with a `line` column; with an order instead; typed columns.
    table_of(pg, ir, LEDGER, "hfd")
    assert pg_outputs(ir, f"{pg_cluster}?table=hfd") == expected
    assert pg_outputs(ir, f"{pg_cluster}?table=public.hfd", explain=True) == outputs(
        ir, LEDGER, "reference", explain=True
    )
    with pg.cursor() as cur:
        # Numbered by an order column (not a ledger column, so not warned of as unknown).
        cur.execute("DROP TABLE IF EXISTS hfd_unnumbered")
        cur.execute("CREATE TABLE hfd_unnumbered AS SELECT line * 10 AS seq, * FROM hfd")
        cur.execute("ALTER TABLE hfd_unnumbered DROP COLUMN line")
    pg.commit()
    assert pg_outputs(ir, f"{pg_cluster}?table=hfd_unnumbered&order=seq") == expected
    # Typed columns (DATE, NUMERIC) read as their text: the ledger less its two bad rows,
    # which a DATE or NUMERIC column cannot hold (blank lines keep the other rows' numbers).
    lines = LEDGER.read_text("utf-8").split("\n")
    bad = [r["row"] for r in json.loads(expected[0])["rejected"]]
    for row in bad:
        lines[row - 1] = ""
    good = tmp_path / "good.csv"
    good.write_text("\n".join(lines), encoding="utf-8")
    expected = outputs(ir, good, "reference")
    table_of(pg, ir, good, "hfd_typed", typed=True)
    assert pg_outputs(ir, f"{pg_cluster}?table=hfd_typed") == expected
    # A query, percent-encoded, its rows numbered 2, 3, ... in the order it returns them: as
    # a CSV of them with no blank lines numbers them.
    query = quote(
        'SELECT "date", pool, element, kind, amount, partner, approved_by, in_plan, supplier, '
        "category FROM hfd_typed ORDER BY line"
    )
    dense = tmp_path / "dense.csv"
    dense.write_text("\n".join(x for x in lines if x), encoding="utf-8")
    assert pg_outputs(ir, f"{pg_cluster}?query={query}") == outputs(ir, dense, "reference")
    # Nothing is left behind in the database.
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class WHERE relname IN ('staged', 'spends', 'good')")
        assert cur.fetchone()[0] == 0


BAD_ROWS = (  # date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,category,...
    "2008-02-29,mental-health,council,spend,1.00,,mh-manager,true,,,R1,\n"
    "2009-02-29,mental-health,council,spend,1.00,,mh-manager,true,,,R2,\n"
    '2005-06-01,mental-health,council,spend,"-£1,250.5",,board,yes,,,R3,\n'
    "2005-06-01,mental-health,council,spend,400.005,,board,yes,,,R4,\n"
    "2005-06-01,mental-health,council,spend,1e3,,board,yes,,,R5,\n"
    "2005-06-01,mental-health,council,spend,12.50\n"
    "2005-06-01,ghost,council,spend,12.50,,board,yes,,,R6,\n"
    "2005-06-01,mental-health,council,refund,12.50,,board,yes,,,R7,\n"
    "2005-06-01,mental-health,council,Spend, 12.50 ,,Board,Y, S ,c ,R8,\n"
    "2005-06-01,mental-health,nowhere,spend,12.50,,board,yes,,,R9,\n"
    "2005-06-01,mental-health,,spend,12.50,,board,yes,,,R10,\n"
    "2005-06-01,mental-health,council,spend,12.50,ghost,board,yes,,,R11,\n"
    "2005-06-01,mental-health,council,spend,12.50,,board,maybe,,,R12,\n"
)


def test_bad_rows_are_rejected_alike_from_a_file_and_a_table(
    pg: Any, pg_cluster: str, tmp_path: Path
) -> None:
    ir = compile_file(HEREFORDSHIRE)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER.read_text("utf-8") + BAD_ROWS, encoding="utf-8")
    expected = outputs(ir, ledger, "reference")
    rejected = json.loads(expected[0])["rejected"]
    codes = {r["code"] for r in rejected}
    assert {f"L{n:03d}" for n in range(1, 11)} <= codes, codes
    assert pg_outputs(ir, ledger, database=pg_cluster) == expected
    table_of(pg, ir, ledger, "hfd_bad")
    got = pg_outputs(ir, f"{pg_cluster}?table=hfd_bad")
    # The table holds no row of the wrong width (L010 is the file's), else the same.
    data, want = json.loads(got[0]), json.loads(expected[0])
    assert data["rejected"] == [r for r in want["rejected"] if r["code"] != "L010"]
    assert data["rows"]["read"] == want["rows"]["read"] - 1
    assert data["pools"] == want["pools"]


@pytest.mark.parametrize("form", ["parquet", "jsonl", "xlsx"])
def test_other_ledger_files_load_into_postgres_as_duckdb_reads_them(
    pg_cluster: str, tmp_path: Path, form: str
) -> None:
    """Parquet, JSON Lines and a workbook given with --database: what DuckDB gives for them
    (itself the reference's bytes for the same rows, test_engine_sql_duck.py)."""
    ir = compile_file(HEREFORDSHIRE)
    path = tmp_path / f"ledger.{form}"
    if form == "parquet":
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{LEDGER}', all_varchar=true)) TO '{path}' "
            "(FORMAT parquet)"
        )
        con.close()
    elif form == "jsonl":
        import csv

        with LEDGER.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        import csv

        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        with LEDGER.open(encoding="utf-8", newline="") as f:
            for record in csv.reader(f):
                sheet.append(record)
        book.save(path)
    expected = outputs(ir, path, "duckdb")
    assert json.loads(expected[0])["rows"]["read"] == 430
    assert pg_outputs(ir, path, database=pg_cluster) == expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=clauses(), ledger=ledgers(), as_of=st.sampled_from([None, date(2009, 3, 31)]))
def test_postgres_and_the_reference_write_the_same_bytes(
    tmp_path_factory: pytest.TempPathFactory,
    pg_cluster: str,
    pg: Any,
    rules: list[dict[str, Any]],
    ledger: bytes,
    as_of: date | None,
) -> None:
    ir = compile_clause(rules)
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    path.write_bytes(ledger)
    expected = outputs(ir, path, "reference", as_of=as_of)
    assert pg_outputs(ir, path, database=pg_cluster, as_of=as_of) == expected
    if expected[0].startswith("RunError") or "L010" in expected[0] or "L015" in expected[0]:
        return  # rows of the wrong width have no place in a table
    try:
        table_of(pg, ir, path, "drawn")
    except LedgerError:
        return
    assert pg_outputs(ir, f"{pg_cluster}?table=drawn", as_of=as_of) == expected


# ---------------------------------------------------------------- what cannot be read
def run_cli(*args: str) -> Any:
    from click.testing import CliRunner

    from agreementdsl.cli import main

    return CliRunner().invoke(main, ["run", str(HEREFORDSHIRE), *args])


@pytest.mark.parametrize(
    ("ledger", "code", "words"),
    [
        ("{url}", "L104", "must name a table or a query"),
        ("{url}?table=hfd&query=SELECT%201", "L104", "not both"),
        ("{url}?table=a;drop", "L104", "is not a table name"),
        ("postgresql://postgres:secret@127.0.0.1:1/postgres?table=hfd", "L104", "cannot connect"),
        ("postgresql://postgres@127.0.0.1:1/postgres?password=secret&table=hfd", "L104", "***"),
        ("postgresql://postgres@127.0.0.1:port/postgres?table=hfd", "L104", "is not valid"),
        ("{url}?table=no_such_table", "L105", "has no table no_such_table"),
        # a query naming a missing table: the server's words, not an empty name
        (
            "{url}?query=SELECT%20*%20FROM%20public.nosuch",
            "L105",
            'cannot run the ledger query: relation "public.nosuch" does not exist',
        ),
        ("{url}?table=err_unnumbered", "L105", "no stable row numbers"),
        ("{url}?table=err_unnumbered&order=nope", "L105", "has no column `nope`"),
        ("{url}?table=hfd_noamount", "L101", "has no `amount` column"),
        ("{url}?table=hfd_noamount", "L101", "the table must have the columns; required:"),
        ("{url}?query=SELEKT%201", "L105", "syntax error"),
        ("{url}?table=hfd_nullline", "L105", "`line` column is empty (NULL) in 1 row:"),
        # a number two rows share would name both in every message (found by a user)
        ("{url}?table=hfd_twiceline", "L105", "gives one number to more than one row (2, 3)"),
    ],
)
def test_a_database_ledger_that_cannot_be_read_says_why(
    pg: Any, pg_cluster: str, ledger: str, code: str, words: str
) -> None:
    with pg.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS err_unnumbered "
            "(seq BIGINT, date TEXT, pool TEXT, kind TEXT, amount TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS hfd_noamount (line BIGINT, date TEXT, pool TEXT, kind TEXT)"
        )
        cur.execute("DROP TABLE IF EXISTS hfd_nullline")
        cur.execute(
            "CREATE TABLE hfd_nullline AS SELECT * FROM (VALUES "
            "(2, '2005-06-01', 'mental-health', 'spend', '1.00', 'council'), "
            "(NULL, '2005-06-01', 'mental-health', 'spend', '2.00', 'council')) "
            "AS t(line, date, pool, kind, amount, element)"
        )
        cur.execute("DROP TABLE IF EXISTS hfd_twiceline")
        cur.execute(
            "CREATE TABLE hfd_twiceline AS SELECT * FROM (VALUES "
            "(2, '2005-06-01', 'mental-health', 'spend', '1.00', 'council'), "
            "(3, '2005-06-01', 'mental-health', 'spend', '1.00', 'council'), "
            "(2, '2005-06-02', 'mental-health', 'spend', '2.00', 'council'), "
            "(3, '2005-06-02', 'mental-health', 'spend', '2.00', 'council')) "
            "AS t(line, date, pool, kind, amount, element)"
        )
    pg.commit()
    result = run_cli("--ledger", ledger.format(url=pg_cluster))
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.output and words in result.output, result.output
    assert "Traceback" not in result.output
    assert "secret" not in result.output  # a password is never shown
    if code == "L105" and "no_such_table" in ledger:
        assert "public.err_unnumbered" in result.output  # the hint lists the tables there are


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--engine", "duckdb"], "runs on PostgreSQL"),
        (["--database", "postgresql://x@127.0.0.1/db"], "not with a postgresql:// ledger"),
    ],
)
def test_engine_and_database_options_that_do_not_fit_are_usage_errors(
    args: list[str], words: str
) -> None:
    result = run_cli("--ledger", "postgresql://x@127.0.0.1/db?table=t", *args)
    assert result.exit_code == 2 and words in result.output, result.output


def test_years_and_exit_with_a_database_ledger_or_database_are_usage_errors() -> None:
    for ledger, more, words in [
        ("postgresql://x@127.0.0.1/db?table=t", [], "a ledger in PostgreSQL runs with plain"),
        (str(LEDGER), ["--database", "postgresql://x@h/db"], "drop --database"),
    ]:
        for mode in (["--years", "2005/06..2006/07"], ["--exit-on", "2005-12-31"]):
            result = run_cli("--ledger", ledger, *more, *mode)
            assert result.exit_code == 2 and words in result.output, result.output
            # the option given, and only it, is named
            assert f"{mode[0]} reads a ledger file: " in result.output, result.output


def test_engine_postgres_needs_a_database() -> None:
    result = run_cli("--ledger", str(LEDGER), "--engine", "postgres")
    assert result.exit_code == 2 and "--database URL" in result.output, result.output
    result = run_cli("--ledger", str(LEDGER), "--database", "postgresql://x@h/db?table=t")
    assert result.exit_code == 1 and "error[L104]" in result.output, result.output


def test_the_cli_runs_a_table_and_a_loaded_file(pg: Any, pg_cluster: str) -> None:
    ir = compile_file(HEREFORDSHIRE)
    table_of(pg, ir, LEDGER, "hfd_cli")
    expected = outputs(ir, LEDGER, "reference")[0]
    result = run_cli("--ledger", f"{pg_cluster}?table=hfd_cli", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.output == expected
    result = run_cli("--ledger", str(LEDGER), "--database", pg_cluster, "--format", "json")
    assert result.exit_code == 0 and result.output == expected


@pytest.mark.parametrize("records", [1, 7])
def test_spends_copied_back_in_small_chunks_give_the_same_bytes(
    pg_cluster: str, monkeypatch: pytest.MonkeyPatch, records: int
) -> None:
    """The binary COPY of the spends read a few records at a time (chunk edges everywhere)."""
    from agreementdsl.engine.sql import postgres as module

    monkeypatch.setattr(module, "_COPY_CHUNK", module._RECORD.itemsize * records + 3)
    ir = compile_file(HEREFORDSHIRE)
    assert pg_outputs(ir, LEDGER, database=pg_cluster) == outputs(ir, LEDGER, "reference")


def test_auto_chooses_postgres_for_a_database_ledger_or_with_database(tmp_path: Path) -> None:
    from agreementdsl.engine.sql.choose import EngineError, choose_engine, is_database

    small = tmp_path / "small.csv"
    small.write_text("date,pool,kind,amount\n")
    url = "postgresql://u@127.0.0.1:5432/db?table=t"
    assert is_database(url) and is_database("POSTGRES://h/db?table=t")
    assert not is_database(str(small)) and not is_database("postgresql.csv")
    assert choose_engine("auto", url) == "postgres"
    assert choose_engine("postgres", url) == "postgres"
    assert choose_engine("auto", small, database="postgresql://u@h/db") == "postgres"
    assert choose_engine("auto", tmp_path / "x.parquet", database="postgresql://u@h/db") == (
        "postgres"
    )
    assert choose_engine("spark", small) == "spark"
    assert choose_engine("spark", tmp_path / "x.parquet") == "spark"
    for engine, ledger, options in [
        ("spark", url, {}),
        ("reference", url, {}),
        ("auto", url, {"sheet": "Ledger"}),
        ("postgres", small, {}),
        ("duckdb", small, {"database": "postgresql://u@h/db"}),
        # --sheet is a workbook's: with any other ledger it would be dropped
        ("auto", small, {"sheet": "Ledger"}),
        ("duckdb", tmp_path / "x.parquet", {"sheet": "Ledger"}),
        ("auto", small, {"sheet": "Ledger", "database": "postgresql://u@h/db"}),
    ]:
        with pytest.raises(EngineError):
            choose_engine(engine, ledger, **options)  # type: ignore[arg-type]


def test_sums_past_nine_quintillion_pence_are_exact_on_postgres(
    pg_cluster: str, tmp_path: Path
) -> None:
    ir, path, limit = huge_sums(tmp_path)
    expected = outputs(ir, path, "reference")
    got = pg_outputs(ir, path, database=pg_cluster)
    assert got == expected
    check_huge_sums(json.loads(got[0]), limit)


def test_a_folder_of_agreements_over_a_ledger_in_postgres(
    pg: Any, pg_cluster: str, tmp_path: Path
) -> None:
    """`run FOLDER` over a ledger in a table, or a file loaded with `--database`: the same
    JSON as over the file on the reference executor, each pool judged by its own agreement's
    roles, the unassigned row reported once (both were dropped: the URL was read as a file
    name, `--database` ignored)."""
    from click.testing import CliRunner

    from agreementdsl.cli import main
    from agreementdsl.engine.multi import agreement_files, merged_ir
    from test_engine_multi import region

    folder, ledger = region(tmp_path)
    with ledger.open("a") as f:  # a split order in each agreement: one supplier, one day
        for pool in ("mental-health", "west-mh"):
            for amount in ("40000.00", "30000.00"):
                f.write(f"2005-06-03,{pool},council,spend,{amount},mh-manager,true\n")
    irs = {path.name: compile_file(path) for path in agreement_files(folder)}
    table_of(pg, merged_ir(irs), ledger, "region")

    def run(source: str, *more: str) -> str:
        done = CliRunner().invoke(
            main, ["run", str(folder), "--ledger", source, "--format", "json", *more]
        )
        assert done.exit_code == 0, done.output
        return done.output

    expected = run(str(ledger), "--engine", "reference")
    data = json.loads(expected)
    assert [r["row"] for r in data["unassigned"]] == [5]
    assert data["agreements"]["west.yaml"]["pools"][0]["approvals"][0]["required"] == ["executives"]
    assert run(f"{pg_cluster}?table=region") == expected
    assert run(str(ledger), "--database", pg_cluster) == expected


def test_the_printed_postgres_sql_runs_as_printed(pg: Any) -> None:
    """`compile --sql --dialect postgres` prints views PostgreSQL runs as they are printed,
    once `raw_rows` exists (an auditor had to wrap each statement)."""
    from agreementdsl.engine.sql.generate import render

    text = render(compile_file(HEREFORDSHIRE), "postgres")
    columns = ", ".join(f"{n} TEXT" for n in TEXTS)
    try:
        with pg.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE raw_rows (line BIGINT, broken BIGINT, {columns})")
            cur.execute(
                "INSERT INTO raw_rows VALUES "
                "(2, NULL, '2005-06-01', 'mental-health', 'spend', '300000.00', 'council', '', "
                "'board', 'true', '', ''), "
                "(3, NULL, '2005-06-02', 'learning-disabilities', 'spend', '5000.00', 'respite', "
                "'', 'ld-manager', '', '', '')"
            )
            cur.execute(text)
            cur.execute("SELECT line, pool_index, rule FROM spends ORDER BY line")
            assert cur.fetchall() == [(2, 0, 3), (3, 1, 1)]
    finally:
        pg.rollback()
