"""Benchmark: start-up, and `agreementdsl run` over seeded synthetic ledgers, as users run it.

    make bench                           # start-up, then 100k and 1M rows
    .venv/bin/python bench/run_ledger.py --rows 1000000 --ten-million --runs 5
    .venv/bin/python bench/run_ledger.py --processes     # one process against two, quiet and busy
    .venv/bin/python bench/run_ledger.py --rows          # start-up only

Every figure is the wall time of a fresh `agreementdsl` process (the command users type),
repeated --runs times (at least 3) in turn with the others, and given as the median and range
of those runs. Beside each figure the bench prints the machine (CPU model, cores it may use)
and the one-minute load average over the runs, and, in the same rounds, it times a fixed
reference workload -- a plain-Python `csv.reader` pass over the same ledger adding up its
amounts -- so that figures taken on different machines compare as ratios ("x ref").

Before timing, each command runs once unrecorded so that Python's bytecode caches exist (as
after `pip install`; the bench lets Python write them even under PYTHONDONTWRITEBYTECODE).
"Cold" below means a fresh process each run, not an empty OS file cache. Ledgers are written
once per size under build/bench/ (seed 75) and reused. Output is Markdown table rows, ready to
paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "herefordshire.yaml"
OUT = ROOT / "build" / "bench"
SEED = 75
CLI = Path(sys.executable).parent / "agreementdsl"

# The reference workload: a plain-Python csv pass over the ledger, adding up the amounts.
REFERENCE = """
import csv, sys
rows = pence = 0
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    next(reader)
    for row in reader:
        whole, _, frac = row[4].partition(".")
        pence += int(whole) * 100 + int(frac or 0)
        rows += 1
print(rows, pence)
"""

ELEMENTS = {
    "mental-health": ["pct-provider", "pct-commissioning", "council"],
    "learning-disabilities": ["council", "respite", "pct-commissioning"],
}
APPROVERS = ["mh-manager", "ld-manager", "board", "executives", "executives;board", ""]
SUPPLIERS = [f"Supplier {i}" for i in range(200)]


def make_ledger(path: Path, rows: int, seed: int = SEED) -> None:
    """A 2005/06 ledger: 96% spends, 3% income, some contributions and monthly forecasts."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    days = [f"2005-{m:02d}-{d:02d}" for m in range(4, 13) for d in range(1, 29)] + [
        f"2006-{m:02d}-{d:02d}" for m in range(1, 4) for d in range(1, 29)
    ]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "date",
                "pool",
                "element",
                "kind",
                "amount",
                "partner",
                "approved_by",
                "in_plan",
                "supplier",
                "category",
                "reference",
            ]
        )
        for i in range(rows):
            pool = "mental-health" if rng.random() < 0.65 else "learning-disabilities"
            day = days[i * len(days) // rows]
            r = rng.random()
            if r < 0.96:
                amount = rng.choice(
                    [
                        rng.randint(100, 900_000),
                        rng.randint(100_000, 5_000_000),
                        rng.randint(1_000_000, 40_000_000),
                    ]
                )
                w.writerow(
                    [
                        day,
                        pool,
                        rng.choice(ELEMENTS[pool]),
                        "spend",
                        f"{amount // 100}.{amount % 100:02d}",
                        "",
                        rng.choice(APPROVERS),
                        rng.choice(["true", "false", ""]),
                        rng.choice(SUPPLIERS),
                        "placements",
                        f"R{i}",
                    ]
                )
            elif r < 0.99:
                w.writerow(
                    [
                        day,
                        pool,
                        rng.choice(ELEMENTS[pool]),
                        "income",
                        f"{rng.randint(1, 50_000)}.00",
                        "",
                        "",
                        "",
                        "",
                        "",
                        f"R{i}",
                    ]
                )
            elif r < 0.998:
                w.writerow(
                    [
                        day,
                        pool,
                        "",
                        "contribution",
                        "100000.00",
                        rng.choice(["hpct", "hc"]),
                        "",
                        "",
                        "",
                        "",
                        f"R{i}",
                    ]
                )
            else:
                w.writerow([day, pool, "", "forecast", "18000000.00", "", "", "", "", "", f"R{i}"])


def ledger(rows: int) -> Path:
    path = OUT / f"ledger-{rows}.csv"
    if not path.exists():
        print(f"<!-- writing {path.relative_to(ROOT)} ({rows:,} rows, seed {SEED}) -->", flush=True)
        partial = path.with_suffix(".partial")
        make_ledger(partial, rows)
        partial.replace(path)
    return path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load() -> float:
    return os.getloadavg()[0]


@dataclass
class Figure:
    """Repeated timings of one command, with the load average seen while it ran."""

    name: str
    rows: int | None = None
    seconds: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)  # before and after each run
    cpu: list[float] = field(default_factory=list)  # user + system seconds, workers included
    peak_mib: float = 0.0
    processes: set[int] = field(default_factory=set)  # as the engine chose them, when it chose

    def add(self, seconds: float, cpu: float, peak_mib: float, load_before: float) -> None:
        self.seconds.append(seconds)
        self.cpu.append(cpu)
        self.loads += [load_before, load()]
        self.peak_mib = max(self.peak_mib, peak_mib)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# Python writes its bytecode caches, as it does for anyone who installed the package.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm_up() -> None:
    """One unrecorded run of each command, so that bytecode caches exist before timing."""
    demo = ["run", str(AGREEMENT), "--ledger", str(ROOT / "agreements/herefordshire-2005-06.csv")]
    for args in (["--help"], ["check", "agreements/"], demo, [*demo, "--format", "json"]):
        timed([str(CLI), *args])


def timed(
    command: list[str], env: dict[str, str] | None = None, out: Path | None = None
) -> tuple[float, float, float, float]:
    """Run `command` once in a fresh process: wall and CPU seconds, peak MiB, load before."""
    with tempfile.TemporaryFile() as err, (out or Path(os.devnull)).open("wb") as stdout:
        before = load()
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=err, env=env or ENV, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)  # usage: of the child and what it waited for
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command)} exited {child.returncode}: {err.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, before


def rounds(
    commands: dict[str, tuple[list[str], dict[str, str] | None]],
    runs: int,
    rows: int | None,
    out: Path | None = None,
) -> dict[str, Figure]:
    """Each command `runs` times, in turn with the others, so that load changes hit all alike."""
    figures = {name: Figure(name, rows) for name in commands}
    for _ in range(runs):
        for name, (command, env) in commands.items():
            if command[:2] == [str(CLI), "run"] and env is None:
                figures[name].processes.add(chosen(Path(command[command.index("--ledger") + 1])))
            figures[name].add(*timed(command, env, out))
    return figures


def chosen(ledger: Path) -> int:
    """How many processes the engine will choose for this ledger now (engine/parallel.py)."""
    from agreementdsl.engine.parallel import MIN_BYTES, worth_two

    return 2 if worth_two(ledger.stat().st_size, MIN_BYTES) else 1


def machine() -> str:
    return f"{cpu_model()}, {cores()} cores, Python {platform.python_version()}"


def row(figure: Figure, reference: Figure | None = None) -> str:
    secs, loads = figure.seconds, figure.loads
    rate = f"{round(figure.rows / figure.median):,}" if figure.rows else ""
    ratio = f"{figure.median / reference.median:.1f}" if reference is not None else ""
    cells = [
        datetime.now(UTC).strftime("%Y-%m-%d"),
        machine(),
        f"{min(loads):.2f}–{max(loads):.2f}",
        figure.name
        + (f" ({'/'.join(map(str, sorted(figure.processes)))} proc.)" * bool(figure.processes)),
        f"{figure.rows:,}" if figure.rows else "",
        str(len(secs)),
        f"{figure.median:.3f}",
        f"{min(secs):.3f}–{max(secs):.3f}",
        f"{statistics.median(figure.cpu):.2f}",
        rate,
        ratio,
        f"{figure.peak_mib:.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| date | machine | load (1 min) | figure | rows | runs | median s | range s | CPU s "
    "| rows/s | × ref | peak MiB |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def startup(runs: int) -> None:
    cli = str(CLI)
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "`agreementdsl --help`": ([cli, "--help"], None),
        "`agreementdsl --version`": ([cli, "--version"], None),
        "`agreementdsl check agreements/`": ([cli, "check", "agreements/"], None),
    }
    for figure in rounds(commands, runs, None).values():
        print(row(figure), flush=True)


def sizes(all_rows: list[int], runs: int) -> None:
    for rows in all_rows:
        path = str(ledger(rows))
        # the reference executor, named: `auto` would hand a large CSV to DuckDB, which
        # bench/run_sql.py measures on its own
        run = [str(CLI), "run", str(AGREEMENT), "--ledger", path, "--engine", "reference"]
        commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "reference: csv pass": ([sys.executable, "-c", REFERENCE, path], None),
            "`run --format json`": ([*run, "--format", "json"], None),
            "`run --format text`": ([*run, "--format", "text"], None),
        }
        figures = rounds(commands, runs, rows, out=OUT / "output")
        reference = figures["reference: csv pass"]
        for figure in figures.values():
            print(row(figure, reference), flush=True)


def processes(all_rows: list[int], runs: int) -> None:
    """One process against two (AGREEMENTDSL_PROCESSES), on the machine as it is, then with a
    CPU hog on one core."""
    for busy in (False, True):
        hog = None
        if busy:
            hog = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
            time.sleep(5)  # let the load average notice it
        try:
            for rows in all_rows:
                path = str(ledger(rows))
                run = [str(CLI), "run", str(AGREEMENT), "--ledger", path, "--format", "json"]
                run += ["--engine", "reference"]  # the row loop: only it has two processes
                tag = " + 1 CPU hog" if busy else ""
                one, two = (dict(ENV, AGREEMENTDSL_PROCESSES=n) for n in "12")
                commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
                    f"reference: csv pass{tag}": ([sys.executable, "-c", REFERENCE, path], None),
                    f"`run --format json`, 1 process{tag}": (run, one),
                    f"`run --format json`, 2 processes{tag}": (run, two),
                }
                figures = rounds(commands, runs, rows, OUT / "output")
                reference = figures[f"reference: csv pass{tag}"]
                for figure in figures.values():
                    print(row(figure, reference), flush=True)
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--ten-million", action="store_true", help="also 10,000,000 rows")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (at least 3)")
    parser.add_argument("--startup-runs", type=int, default=9, help="runs per start-up figure")
    parser.add_argument("--no-startup", action="store_true", help="leave out start-up")
    parser.add_argument(
        "--processes", action="store_true", help="one process against two, quiet and busy"
    )
    args = parser.parse_args()
    if args.runs < 3 or args.startup_runs < 3:
        parser.error("at least 3 runs per figure: the median and range need them")
    all_rows = [*args.rows, *([10_000_000] if args.ten_million else [])]
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"<!-- {machine()}; {' '.join(sys.argv)} -->")
    print(HEADER, flush=True)
    warm_up()
    if args.processes:
        processes(all_rows, args.runs)
        return
    if not args.no_startup:
        startup(args.startup_runs)
    sizes(all_rows, args.runs)


if __name__ == "__main__":
    main()
