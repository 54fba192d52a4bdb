"""The generated SQL means the same on a real PostgreSQL as on DuckDB.

A throwaway cluster (initdb, pg_ctl) on 127.0.0.1 is started for this module and stopped after
it. The ledger texts DuckDB's reading layer gives are loaded into PostgreSQL as `raw_rows`, and
the statements generated for the postgres dialect (row checks, pence, dates, the aggregation
and each spend's rule) must give exactly what the duckdb dialect gives on DuckDB. This is not yet
a PostgreSQL executor (issue 11): it proves the one tree is read alike by both engines.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from agreementdsl.engine.ledger import LedgerReader
from agreementdsl.engine.run import _shapes
from agreementdsl.engine.sql import sources
from agreementdsl.engine.sql.generate import TEXTS, Rules
from engine_support import compile_file
from test_engine_sql_duck import HEREFORDSHIRE, LEDGER

psycopg = pytest.importorskip("psycopg")
# Debian keeps the server tools under /usr/lib/postgresql/<version>/bin, off the PATH.
BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/nonexistent"))
INITDB = shutil.which("initdb") or str(BIN / "initdb")
PG_CTL = shutil.which("pg_ctl") or str(BIN / "pg_ctl")


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server tools as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    if not Path(INITDB).exists():
        pytest.skip("PostgreSQL's initdb is not installed (Debian package postgresql)")
    # Under /tmp itself: pytest's own temporary folders are closed to other users.
    base = Path(tempfile.mkdtemp(prefix="agreementdsl-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data, port = base / "data", _free_port()
    subprocess.run(
        _as_postgres([INITDB, "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-h 127.0.0.1 -p {port} -k {base}"
    subprocess.run(
        _as_postgres(
            [PG_CTL, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres") as con:
            yield con
    finally:
        subprocess.run(
            _as_postgres([PG_CTL, "-D", str(data), "-m", "fast", "stop"]), capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


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
    # The example ledger plus rows the checks must decline alike on both engines.
    ledger.write_text(
        LEDGER.read_text("utf-8")
        + "2008-02-29,mental-health,council,spend,1.00,,board,true,,\n"
        + "2009-02-29,mental-health,council,spend,1.00,,board,true,,\n"
        + "2005-06-01,mental-health,council,spend,-£1,250.5,,board,yes,,\n"
        + "2005-06-01,mental-health,council,spend,400.005,,board,yes,,\n",
        encoding="utf-8",
    )
    rows = raw_rows(ir, ledger)
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

        got = results(run, rules, "postgres")
    assert got == expected
    assert any(not ok for _, ok, *_ in got["staged"])  # some rows were declined
    assert got["spends"] and got["net"]
