"""Where one DuckDB run's time goes: each phase of `run_ledger(engine="duckdb")`, when it
starts and how long it takes, with the CPU time of the whole run.

    .venv/bin/python bench/run_phases.py [--rows 10000000]

Uses the bench ledger of `bench/run_sql.py` (made there first), read once beforehand. The
phases are the executor's own functions, wrapped for timing in this process only: the plain
CSV's scan, the pass (DuckDB, then its groups fetched), the groups into totals (what is left
of `_run`), split orders and the year's analysis (`year_results`).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import run_sql  # noqa: E402

import agreementdsl.engine.run as run  # noqa: E402
from agreementdsl.engine.sql import duck, sources  # noqa: E402

PHASES = [  # indented: a phase within the one above it
    (duck.DuckDBExecutor, "_run", "executor"),
    (sources, "_scan", "  scan"),
    (duck, "_watched", "  pass"),
    (duck._Groups, "__init__", "    its groups fetched"),
    (duck.DuckDBExecutor, "_split_orders", "  split orders"),
    (run, "year_results", "year's analysis"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    csv_path, _ = run_sql.ledgers(args.rows)
    run_sql.warm(csv_path)
    ir = run_sql.compiled()
    import agreementdsl.engine.sql.duck  # noqa: F401  (imported before timing, as run_sql.py)

    marks: list[tuple[str, float, float]] = []
    origin = [0.0]

    def wrapped(function: Any, label: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                end = time.perf_counter()
                marks.append((label, start - origin[0], end - start))

        return timed

    for owner, name, label in PHASES:
        setattr(owner, name, wrapped(getattr(owner, name), label))
    before = resource.getrusage(resource.RUSAGE_SELF)
    origin[0] = time.perf_counter()
    result = run.run_ledger(ir, csv_path, engine="duckdb")
    total = time.perf_counter() - origin[0]
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.close()
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(f"{args.rows:,} rows: run {total:.2f} s, CPU {user:.2f} s user + {system:.2f} s system")
    for label, start, took in sorted(marks, key=lambda m: m[1]):
        print(f"  {label:<24} from {start:5.2f} s  took {took:5.2f} s")


if __name__ == "__main__":
    main()
