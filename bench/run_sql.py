"""Benchmark: the DuckDB executor against the reference and a hand-written DuckDB query (the floor).

    .venv/bin/python bench/run_sql.py [--rows 1000000 10000000] [--skip reference] [--repeat 3]

For each size a seeded synthetic 2005/06 ledger for the Herefordshire agreement is written once
under build/bench/ (CSV, and Parquet made from it), and each measurement runs `--repeat` times
(the median printed, with every run's time), each in a fresh process so that its peak memory is
its own:

- `reference`: `run_ledger(engine="reference")` over the CSV (the row loop, two processes);
- `duckdb-csv`, `duckdb-parquet`: `run_ledger(engine="duckdb")`;
- `floor`: one plain DuckDB query over the typed CSV doing the same classification (each
  spend's rule by limit, plan and element) and the pool/element/day aggregation, with none of
  the checks, explanations or output;
- `read`: one plain DuckDB query that only reads, as text, the nine columns the rules and
  checks need (the floor reads six, two of them typed), counting their characters: what
  reading them costs before any rule is applied (no line numbers, which the executor also
  gives each row);
- `bound`: the floor with only what a run's one pass must add for what `run` reports, in
  the fastest hand-written form found: a lower bound for an executor that works as this one
  does. Amounts read as text, checked against the pattern and cast exactly (the issue: DuckDB's
  DECIMAL rounds `400.005` and reads `1e3`); dates as text (its DATE reads `infinity`,
  `2005/04/01` and ` 2005-04-01`; typed, the cost is the same); the approvers among the
  spends' group keys (approvals are judged once per pool, rule and set of approvers: the
  breach counts of the text, unapproved spend); and the split-order groups (pool, supplier,
  date, for spends under a limited rule that name a supplier: R020, in every run's output
  though beyond LANGUAGE.md §11's contract). Each run in two forms (GROUPING SETS, and the
  executor's pairing with a two-row table), the faster counted. No line numbers, no other
  check, no within-plan key (the executor keeps it for `--explain`), no first or last line,
  no Python. An executor that listed approvals and split orders only when writing (reading
  the ledger again) would not need the last two here;
- `rules-sql`: the executor's own generated SQL (its `staged` view of checks and codes, and
  its pass: rules, both sets of groups), over DuckDB's parallel reader straight from the file,
  with no line numbers (row 0 for every row: the forecasts fall into fewer groups), no pipes
  and no Python before or after, on a connection set up as a run's and its groups fetched as a
  run fetches them: the pass's SQL as written, with nothing around it, against the floor;
- opt-in, `--postgres [URL]` (a throwaway cluster is started with initdb/pg_ctl when no URL is
  given): `postgres-table`, the ledger in a table with a `line` column (loaded before timing),
  and `postgres-csv`, the CSV loaded with COPY by `--database` inside the timed run; their
  peak RSS is this process's, not the server's;
- opt-in, `--spark`: `spark-csv`, `run_ledger(engine="spark")` on local[2], the SparkSession
  started before timing (its start is printed apart); peak RSS is the Python process's, not
  the JVM's (spark.driver.memory defaults to 1 GB).

`run s` is the executor and the analysis (what `run` does before writing); `json s` writing the
full JSON contract (every approval listed) to a file; rows/s is over `run s`. The DuckDB
executor's modules (DuckDB, sqlglot) are imported before timing, their time printed apart.
Results go to standard output and are recorded by hand in docs/performance-sql.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "herefordshire.yaml"
OUT = ROOT / "build" / "bench"
KINDS = ("reference", "duckdb-csv", "duckdb-parquet", "floor", "read", "bound", "rules-sql")
OPT_IN = ("postgres-table", "postgres-csv", "spark-csv")
OPT_IN_ROWS = 1_000_000  # the largest ledger the opt-in kinds are measured on

ELEMENTS = {
    "mental-health": ["pct-provider", "pct-commissioning", "council"],
    "learning-disabilities": ["council", "respite", "pct-commissioning"],
}
APPROVERS = ["mh-manager", "ld-manager", "board", "executives", "executives;board", ""]
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,category,reference\n"


def make_ledger(path: Path, rows: int, seed: int = 75) -> None:
    """96% spends of three sizes, 3% income, some contributions and forecasts, dated in order."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    days = [f"2005-{m:02d}-{d:02d}" for m in range(4, 13) for d in range(1, 29)] + [
        f"2006-{m:02d}-{d:02d}" for m in range(1, 4) for d in range(1, 29)
    ]
    plans = ["true", "false", ""]
    with path.open("w", newline="") as f:
        f.write(HEADER)
        lines = []
        for i in range(rows):
            pool = "mental-health" if rng.random() < 0.65 else "learning-disabilities"
            day = days[i * len(days) // rows]
            r = rng.random()
            if r < 0.96:
                pence = rng.choice(
                    [
                        rng.randint(100, 900_000),
                        rng.randint(100_000, 5_000_000),
                        rng.randint(1_000_000, 40_000_000),
                    ]
                )
                lines.append(
                    f"{day},{pool},{rng.choice(ELEMENTS[pool])},spend,{pence // 100}.{pence % 100:02d},,"
                    f"{rng.choice(APPROVERS)},{rng.choice(plans)},Supplier {rng.randrange(200)},placements,R{i}\n"
                )
            elif r < 0.99:
                lines.append(
                    f"{day},{pool},{rng.choice(ELEMENTS[pool])},income,{rng.randint(1, 50_000)}.00,,,,,,R{i}\n"
                )
            elif r < 0.998:
                partner = rng.choice(["hpct", "hc"])
                lines.append(f"{day},{pool},,contribution,100000.00,{partner},,,,,R{i}\n")
            else:
                lines.append(f"{day},{pool},,forecast,18000000.00,,,,,,R{i}\n")
            if len(lines) >= 100_000:
                f.write("".join(lines))
                lines.clear()
        f.write("".join(lines))


def ledgers(rows: int) -> tuple[Path, Path]:
    csv_path = OUT / f"sql-ledger-{rows}.csv"
    parquet = csv_path.with_suffix(".parquet")
    if not csv_path.exists():
        make_ledger(csv_path, rows)
    if not parquet.exists():
        import duckdb

        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)"
        )
        con.close()
    return csv_path, parquet


FLOOR = """
SELECT pool, element, date, rule, sum(pence) AS pence, count(*) AS n FROM (
  SELECT pool, element, date,
    CAST(amount * 100 AS BIGINT) * CASE WHEN kind = 'income' THEN -1 ELSE 1 END AS pence,
    CASE WHEN kind <> 'spend' OR amount <= 0 THEN 0
         WHEN pool = 'mental-health' THEN
           CASE WHEN amount <= 50000 AND in_plan = 'true' THEN 1 WHEN amount <= 250000 THEN 2 ELSE 3 END
         ELSE
           CASE WHEN amount <= 10000 AND element = 'respite' THEN 1
                WHEN amount <= 25000 AND in_plan = 'true' THEN 2
                WHEN amount <= 250000 THEN 3 ELSE 4 END
    END AS rule
  FROM read_csv('{path}', header=true, columns={{
    'date': 'DATE', 'pool': 'VARCHAR', 'element': 'VARCHAR', 'kind': 'VARCHAR',
    'amount': 'DECIMAL(18,2)', 'partner': 'VARCHAR', 'approved_by': 'VARCHAR',
    'in_plan': 'VARCHAR', 'supplier': 'VARCHAR', 'category': 'VARCHAR', 'reference': 'VARCHAR'}})
) GROUP BY pool, element, date, rule
"""

# The ledger's columns, every one as text, read as the executor's plain CSV is read (for
# `read` and `bound`; a format string of `path`).
TEXTS_CSV = """read_csv('{path}', header=true, delim=',', quote='', escape='', auto_detect=false,
  columns={{'date': 'VARCHAR', 'pool': 'VARCHAR', 'element': 'VARCHAR', 'kind': 'VARCHAR',
  'amount': 'VARCHAR', 'partner': 'VARCHAR', 'approved_by': 'VARCHAR', 'in_plan': 'VARCHAR',
  'supplier': 'VARCHAR', 'category': 'VARCHAR', 'reference': 'VARCHAR'}})"""

# `bound`: the floor's rules over texts, with the amounts' pattern check, approvers in the
# spends' groups, and the split-order groups beside them, in two forms.
BOUND_ROWS = (
    """
  SELECT pool, element, date, approved_by, supplier,
    pence * CASE WHEN kind = 'income' THEN -1 ELSE 1 END AS pence,
    CASE WHEN kind <> 'spend' OR pence <= 0 THEN 0
         WHEN pool = 'mental-health' THEN
           CASE WHEN pence <= 5000000 AND in_plan = 'true' THEN 1 WHEN pence <= 25000000 THEN 2
                ELSE 3 END
         ELSE
           CASE WHEN pence <= 1000000 AND element = 'respite' THEN 1
                WHEN pence <= 2500000 AND in_plan = 'true' THEN 2
                WHEN pence <= 25000000 THEN 3 ELSE 4 END
    END AS rule,
    -- under a rule with a limit (in both pools all but the last, `above: £250,000`)
    CASE WHEN kind = 'spend' AND pence > 0 AND pence <= 25000000 AND supplier <> ''
         THEN supplier END AS supplier_g
  FROM (SELECT *, CASE WHEN regexp_matches(amount, '^[0-9]{{1,12}}([.][0-9]{{2}})?$')
                  THEN CAST(CAST(amount AS DECIMAL(14, 2)) * 100 AS BIGINT) END AS pence
        FROM """
    + TEXTS_CSV
    + ")"
)
BOUND = {
    # both sets of groups by GROUPING SETS (DuckDB copies the rows into a temporary result
    # first: the faster at 10M rows, the slower at 1M)
    "grouping sets": f"""
SELECT pool, element, date, rule, approved_by, supplier_g,
  sum(pence) AS pence, count(*) AS n, max(rule) AS top
FROM ({BOUND_ROWS})
GROUP BY GROUPING SETS ((pool, element, date, rule, approved_by), (pool, supplier_g, date))
""",
    # each spend under a limited rule with a supplier paired with both rows of a two-row
    # table, as the executor's pass does
    "cross join": f"""
SELECT pool, element, date, rule, approved_by, supplier_g, main,
  sum(pence) AS pence, count(*) AS n, max(top) AS top
FROM (SELECT pool, date, pence, main,
        CASE WHEN main = 1 THEN element END AS element,
        CASE WHEN main = 1 THEN rule END AS rule,
        CASE WHEN main = 1 THEN approved_by END AS approved_by,
        CASE WHEN main = 0 THEN supplier_g END AS supplier_g,
        CASE WHEN main = 0 THEN rule END AS top
      FROM ({BOUND_ROWS}) AS scanned, (VALUES (1), (0)) AS sets(main)
      WHERE main = 1 OR supplier_g IS NOT NULL)
GROUP BY pool, element, date, rule, approved_by, supplier_g, main
""",
}

# The nine columns the executor reads: texts, all of them.
READ = (
    """
SELECT count(*), sum(length(date) + length(pool) + length(element) + length(kind) + length(amount)
  + length(partner) + length(approved_by) + length(in_plan) + length(supplier))
FROM """
    + TEXTS_CSV
)


def compiled() -> dict[str, Any]:
    """The IR of the bench's agreement (the Herefordshire example)."""
    from agreementdsl import load
    from agreementdsl.compile import compile_agreement

    loaded = load(AGREEMENT)
    assert loaded.agreement is not None and loaded.source is not None
    return compile_agreement(loaded.agreement, loaded.source.text)


def executor_of(ir: dict[str, Any]) -> Any:
    """A DuckDB executor of the IR, every pool's authority as a run makes it."""
    from agreementdsl.engine.approvals import Authority
    from agreementdsl.engine.sql.duck import DuckDBExecutor

    roles = frozenset(r["id"] for r in ir["roles"])
    return DuckDBExecutor(ir, {p["id"]: Authority(p, roles) for p in ir["pools"]})


def rules_sql(csv_path: Path, work: str) -> tuple[Any, str]:
    """A DuckDB connection set up as a run's (`duck.connect`, its database file in `work`) with
    the executor's `staged` view over the CSV, read by DuckDB's parallel reader (every field as
    text, as `read` reads them), every row numbered 0, and the executor's pass over it (the SQL
    a run makes from the agreement's IR), to be timed."""
    from agreementdsl.engine.ledger import COLUMNS
    from agreementdsl.engine.sql.duck import connect
    from agreementdsl.engine.sql.generate import TEXTS

    executor = executor_of(compiled())
    names = HEADER.strip().split(",")
    spec = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
    texts = ", ".join(f"{c} AS {t}" for t, c in zip(TEXTS, COLUMNS, strict=True))
    con = connect(work, True, executor.memory_limit)
    con.execute(
        f"CREATE VIEW raw_rows AS SELECT CAST(0 AS BIGINT) AS line, CAST(NULL AS BIGINT) AS "
        f"broken, {texts} FROM read_csv('{csv_path}', header=true, delim=',', quote='', "
        f"escape='', auto_detect=false, nullstr='\x01', columns={{{spec}}})"
    )
    con.execute(f"CREATE VIEW staged AS {executor.rules.stage().sql('duckdb')}")
    return con, executor._pass()


def pg_table(url: str, csv_path: Path, rows: int) -> str:
    """The CSV in a table `bench_ledger_<rows>` with a `line` column (made once); its URL."""
    import psycopg

    name = f"bench_ledger_{rows}"
    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [name])
        found = cur.fetchone()
        if found is None or found[0] is None:
            columns = ", ".join(f'"{c}" TEXT' for c in HEADER.strip().split(","))
            cur.execute(
                f"CREATE TABLE {name} (line BIGINT GENERATED ALWAYS AS IDENTITY "
                f"(START WITH 2), {columns})"
            )
            names = ", ".join(f'"{c}"' for c in HEADER.strip().split(","))
            with (
                cur.copy(f"COPY {name} ({names}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
                csv_path.open("rb") as f,
            ):
                while block := f.read(1 << 20):
                    copy.write(block)
            cur.execute(f"ANALYZE {name}")
    return f"{url}?table={name}"


def start_cluster() -> tuple[str, object]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (as the tests start one); (URL, stop)."""
    import os
    import shutil
    import socket
    import tempfile

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    initdb = shutil.which("initdb") or str(bins[-1] / "initdb")
    pg_ctl = shutil.which("pg_ctl") or str(bins[-1] / "pg_ctl")
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="agreementdsl-bench-pg-"))
    if user:
        shutil.chown(base, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = base / "data"
    subprocess.run(
        [*user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *user,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            f"-h 127.0.0.1 -p {port} -k {base}",
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run([*user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def measure(kind: str, rows: int, url: str | None = None) -> dict[str, object]:
    """Run one measurement in this process; the figures as a dict."""
    csv_path, parquet = ledgers(rows)
    for path in (csv_path, parquet):
        warm(path)  # untimed: every kind reads a ledger already in memory, not one evicted by
        # the JSON the runs before it wrote (the floor once took 16.9 s so)
    extra: dict[str, object] = {}
    if kind == "rules-sql":
        import shutil
        import tempfile

        from agreementdsl.engine.sql.duck import _PASS, _Groups

        work = tempfile.mkdtemp(prefix="bench-rules-sql-")
        try:
            con, query = rules_sql(csv_path, work)
            start = time.perf_counter()
            groups = _Groups(con.execute(query))  # fetched as a run fetches them
            run, write = time.perf_counter() - start, 0.0
            con.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        # every row read, and every row of the bench's ledger good: the same work as a run's
        assert groups.rows == rows and all(groups.main[_PASS.index("ok")])
    elif kind == "bound":
        import duckdb

        times = {}
        for form, query in BOUND.items():  # both forms; the faster counts (a lower bound)
            con = duckdb.connect()
            start = time.perf_counter()
            # fetched as numpy columns, as a run fetches its groups (tuples cost 0.2 s at 1M)
            assert len(con.execute(query.format(path=csv_path)).fetchnumpy()["n"])
            times[form] = time.perf_counter() - start
            con.close()
        form = min(times, key=lambda f: times[f])
        run, write = times[form], 0.0
        extra["form"] = form
    elif kind in ("floor", "read"):
        import duckdb

        query = (FLOOR if kind == "floor" else READ).format(path=csv_path)
        con = duckdb.connect()
        start = time.perf_counter()
        groups = len(con.execute(query).fetchall())  # the floor's 9,072 groups: no cost to speak of
        run, write = time.perf_counter() - start, 0.0
        assert groups > 0
    else:
        from agreementdsl.engine.output import write_json
        from agreementdsl.engine.run import run_ledger

        ir = compiled()
        ledger: Path | str = parquet if kind == "duckdb-parquet" else csv_path
        engine = "reference" if kind == "reference" else "duckdb"
        options: dict[str, object] = {}
        if kind.startswith("duckdb"):
            begin = time.perf_counter()
            import agreementdsl.engine.sql.duck  # noqa: F401

            extra["import_seconds"] = round(time.perf_counter() - begin, 2)
        if kind == "postgres-table":
            assert url is not None
            ledger, engine = pg_table(url, csv_path, rows), "postgres"
        elif kind == "postgres-csv":
            engine, options = "postgres", {"database": url}
        elif kind == "spark-csv":
            from agreementdsl.engine.sql.spark import session

            begin = time.perf_counter()
            session()
            extra["session_seconds"] = round(time.perf_counter() - begin, 1)
            engine = "spark"
        start = time.perf_counter()
        result = run_ledger(ir, ledger, engine=engine, **options)  # type: ignore[arg-type]
        mid = time.perf_counter()
        with (OUT / f"sql-result-{kind}-{rows}.json").open("w") as out:
            write_json(result, out)
        result.close()
        os.sync()  # untimed: the next run must not share the disk with this one's 2 GB of JSON
        run, write = mid - start, time.perf_counter() - mid
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "kind": kind,
        "rows": rows,
        "run_seconds": round(run, 2),
        "json_seconds": round(write, 2),
        "rows_per_second": round(rows / run),
        "peak_mib": round(peak / 1024, 1),
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--skip", nargs="*", default=[], choices=KINDS)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each measurement, each in a fresh process: the median is printed, with "
        "the fastest and slowest run (this machine's timings vary by 15%% or more)",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="start",
        metavar="URL",
        help="also measure PostgreSQL (a throwaway cluster unless a URL is given)",
    )
    parser.add_argument("--spark", action="store_true", help="also measure Spark (local[2])")
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--make", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        ledgers(args.make)
        return
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), *args.one[2:])))
        return
    kinds = [k for k in KINDS if k not in args.skip]
    url, stop = args.postgres, None
    if url is not None:
        if url == "start":
            url, stop = start_cluster()
        kinds += ["postgres-table", "postgres-csv"]
    if args.spark:
        kinds.append("spark-csv")
    try:
        table(args.rows, kinds, url, max(1, args.repeat))
    finally:
        if stop is not None:
            stop()  # type: ignore[operator]


def table(sizes: list[int], kinds: list[str], url: str | None, repeat: int) -> None:
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]}; each figure the median of {repeat}")
    print(
        f"{'kind':<15} {'rows':>11} {'run s':>7} {'json s':>7} {'rows/s':>11} {'peak MiB':>9}"
        "  run s of each"
    )
    for rows in sizes:
        medians: dict[str, float] = {}
        # Written before any timing, in a process of its own (a peak resident set survives exec,
        # so a child started from a process that wrote 10M rows would report that peak).
        subprocess.run([sys.executable, __file__, "--make", str(rows)], check=True)
        os.sync()
        for kind in kinds:
            if kind in OPT_IN and rows > OPT_IN_ROWS:
                continue  # PostgreSQL and Spark are measured at 1M rows (the ask)
            more = [url] if kind.startswith("postgres") and url else []
            if kind == "postgres-table":  # loaded before timing, in a process of its own
                subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        "import sys; sys.path.insert(0, 'bench'); import "
                        "run_sql as b; b.pg_table(sys.argv[1], b.ledgers(int(sys.argv[2]))[0], "
                        "int(sys.argv[2]))",
                        url or "",
                        str(rows),
                    ],
                    check=True,
                    cwd=ROOT,
                )
            figs = []
            for _ in range(repeat):
                done = subprocess.run(
                    [sys.executable, __file__, "--one", kind, str(rows), *more],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            fig = median(figs)
            print(
                f"{kind:<15} {fig['rows']:>11,} {fig['run_seconds']:>7} {fig['json_seconds']:>7} "
                f"{fig['rows_per_second']:>11,} {fig['peak_mib']:>9}"
                + (
                    f"  (session start {fig['session_seconds']} s)"
                    if "session_seconds" in fig
                    else ""
                )
                + f"  {', '.join(str(f['run_seconds']) for f in figs)}"
                + (f"  (imports {fig['import_seconds']} s)" if "import_seconds" in fig else "")
                + (f"  ({fig['form']})" if "form" in fig else ""),
                flush=True,
            )
            medians[kind] = float(fig["run_seconds"])
        ratios = [
            f"{kind} {medians[kind] / medians[base]:.2f}x the {base}"
            for kind in ("duckdb-csv", "rules-sql", "bound")
            for base in ("floor", "bound")
            if kind != base and kind in medians and medians.get(base)
        ]
        if ratios:
            print(f"  {rows:,} rows, medians: " + "; ".join(ratios), flush=True)


def warm(path: Path) -> None:
    """Read a file once so that it is in the page cache."""
    with path.open("rb") as f:
        while f.read(8 << 20):
            pass


def median(figs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median `run s` (its own json s and imports), with the largest peak of all."""
    ordered = sorted(figs, key=lambda f: f["run_seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["peak_mib"] = max(f["peak_mib"] for f in figs)
    return middle


if __name__ == "__main__":
    main()
