"""Benchmark: `run` over synthetic ledgers of 100k and 1M rows (seeded), rows/second and peak memory.

    make bench                      # or: .venv/bin/python bench/run_ledger.py [--rows 100000 1000000]

Each size runs in a fresh subprocess so that its peak memory (max RSS) is its own. The ledger
is written once per size under build/bench/ and reused. Results go to standard output and are
recorded by hand in docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "herefordshire.yaml"
OUT = ROOT / "build" / "bench"

ELEMENTS = {
    "mental-health": ["pct-provider", "pct-commissioning", "council"],
    "learning-disabilities": ["council", "respite", "pct-commissioning"],
}
APPROVERS = ["mh-manager", "ld-manager", "board", "executives", "executives;board", ""]
SUPPLIERS = [f"Supplier {i}" for i in range(200)]


def make_ledger(path: Path, rows: int, seed: int = 75) -> None:
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


def measure(rows: int) -> dict[str, float]:
    """Run once in this process; print one JSON line of figures."""
    from agreementdsl import load
    from agreementdsl.compile import compile_agreement
    from agreementdsl.engine.output import write_json
    from agreementdsl.engine.run import run_ledger

    ledger = OUT / f"ledger-{rows}.csv"
    if not ledger.exists():
        make_ledger(ledger, rows)
    loaded = load(AGREEMENT)
    assert loaded.agreement is not None and loaded.source is not None
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    start = time.perf_counter()
    result = run_ledger(ir, ledger)
    mid = time.perf_counter()
    with (OUT / f"result-{rows}.json").open("w") as out:
        write_json(result, out)
    end = time.perf_counter()
    result.close()
    # Peak resident memory of this process and of the largest worker it forked, if any.
    peak_mib = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    return {
        "rows": rows,
        "run_seconds": round(mid - start, 3),
        "json_seconds": round(end - mid, 3),
        "rows_per_second": round(rows / (end - start)),
        "peak_mib": round(peak_mib, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    print(f"{'rows':>10} {'run s':>8} {'json s':>8} {'rows/s':>10} {'peak MiB':>9}")
    for rows in args.rows:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(rows)],
            capture_output=True,
            text=True,
            check=True,
        )
        fig = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{fig['rows']:>10,} {fig['run_seconds']:>8} {fig['json_seconds']:>8} {fig['rows_per_second']:>10,} {fig['peak_mib']:>9}"
        )


if __name__ == "__main__":
    main()
