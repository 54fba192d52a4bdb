"""Where the DuckDB executor's pass spends its time: each part of its SQL timed on its own.

    .venv/bin/python bench/pass_parts.py [--rows 10000000] [--rounds 4]

Uses the bench ledger of `bench/run_sql.py` (made there first). Each figure is the fastest of
`--rounds` runs in one process by wall time, with that run's CPU seconds (user and system, all
threads); every run is printed too. A pass's groups are fetched as a run fetches them
(`_Groups`); the runs over the file are on a connection set up as a run's (`duck.connect`).

- From a DuckDB table holding the ledger's texts (read in before timing): `texts` (reading the
  nine columns), `staged` (the executor's checks and codes over them, every column used), `main`
  (its pass with the main groups only), `pass` (both sets of groups, as a run makes them).
- Over the CSV file: `pipes` (the pass as a run makes it, the file read in parts through named
  pipes with line numbers, fresh connection each round) and `rules-sql main` (the main groups
  only over DuckDB's parallel reader, no line numbers; `rules-sql` of run_sql.py is both sets),
  and run_sql.py's `floor` beside them.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import duckdb  # noqa: E402
import run_sql  # noqa: E402

from agreementdsl.engine.ledger import COLUMNS, LedgerReader  # noqa: E402
from agreementdsl.engine.run import _shapes  # noqa: E402
from agreementdsl.engine.sql import sources  # noqa: E402
from agreementdsl.engine.sql.duck import _Groups, connect  # noqa: E402
from agreementdsl.engine.sql.generate import TEXTS  # noqa: E402

MAIN_ONLY = ("(VALUES (1), (0)) AS sets(main)", "(VALUES (1)) AS sets(main)")


def timed(run: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `run()`."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    run()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    csv_path, _ = run_sql.ledgers(args.rows)
    run_sql.warm(csv_path)
    ir = run_sql.compiled()
    executor = run_sql.executor_of(ir)
    staged = f"CREATE VIEW staged AS {executor.rules.stage().sql('duckdb')}"
    the_pass = executor._pass()
    main_only = the_pass.replace(*MAIN_ONLY)
    assert main_only != the_pass

    con = duckdb.connect()
    texts = ", ".join(f"coalesce({c}, '') AS {t}" for t, c in zip(TEXTS, COLUMNS, strict=True))
    con.execute(
        f"CREATE TABLE ledger AS SELECT row_number() OVER () + 1 AS line, "
        f"CAST(NULL AS BIGINT) AS broken, {texts} "
        f"FROM read_csv('{csv_path}', all_varchar=true, header=true)"
    )
    con.execute("CREATE VIEW raw_rows AS SELECT * FROM ledger")
    con.execute(staged)
    used = " + ".join(f"length({t})" for t in TEXTS if t not in ("category", "reference"))
    queries = {
        "texts": f"SELECT count(*), max(line), sum({used}) FROM raw_rows",
        "staged": "SELECT count(*), sum(pence), count_if(ok), max(line), "
        "sum(length(date_text) + length(approved_by) + length(supplier)), "
        "sum(pool_index + kind_code + element_code + partner_code), count_if(in_plan) "
        "FROM staged",
        "main": main_only,
        "pass": the_pass,
    }
    best: dict[str, list[tuple[float, float]]] = {name: [] for name in queries}
    for _ in range(args.rounds):
        for name, query in queries.items():
            # the passes' groups fetched as a run fetches them (`_Groups`: numpy columns)
            fetch = _Groups if name in ("main", "pass") else fetch_all
            best[name].append(timed(lambda q=query, f=fetch: f(con.execute(q))))
    con.close()

    best["pipes"], best["rules-sql main"], best["floor"] = [], [], []
    reader = LedgerReader(csv_path, _shapes(ir), frozenset(p["id"] for p in ir["partners"]))
    for _ in range(args.rounds):
        work = tempfile.mkdtemp(prefix="bench-pass-")
        try:
            con = connect(work, True, executor.memory_limit)
            ready = sources.load(con, reader, None, Path(work))
            con.execute(staged)

            def through_pipes(con: Any = con, ready: Any = ready) -> None:
                with ready.feeding():
                    _Groups(con.execute(the_pass))

            best["pipes"].append(timed(through_pipes))
            con.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        work = tempfile.mkdtemp(prefix="bench-pass-")
        try:
            con, query = run_sql.rules_sql(csv_path, work)
            best["rules-sql main"].append(
                timed(lambda c=con, q=query: _Groups(c.execute(q.replace(*MAIN_ONLY))))
            )
            con.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with duckdb.connect() as con:
            floor = run_sql.FLOOR.format(path=csv_path)
            best["floor"].append(timed(lambda c=con, q=floor: c.execute(q).fetchall()))

    print(f"{args.rows:,} rows; the fastest of {args.rounds} runs (wall s, CPU s), and each run")
    for name, runs in best.items():
        wall, cpu = min(runs)  # one run's pair: the fastest by wall time
        each = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in runs)
        print(f"{name:<15} {wall:6.2f} {cpu:6.2f}   {each}")


def fetch_all(relation: Any) -> None:
    relation.fetchall()


if __name__ == "__main__":
    main()
