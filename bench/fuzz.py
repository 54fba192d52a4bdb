"""The long fuzz target behind `make fuzz`: atheris (libFuzzer) over every reader and parser.

Each input's first byte picks a target; the rest is that target's input. Targets: whole
agreements (raw bytes, or one of the examples mutated by words of the language), a DSL block of
each clause kind, a ledger (CSV or JSON Lines) run through the engine, a disputes or measures
file, a scenario file, and the money, percentage, date and period parsers. An agreement that
checks clean is also formatted, and `fmt` must keep its meaning and be idempotent.

A target may return diagnostics or raise the errors that the CLI turns into a message and an exit
code (LedgerError, RunError); anything else is a finding. Findings do not stop the run: each
distinct one (by exception type and the innermost frame in agreementdsl) is written once to
`build/fuzz/findings/` with the input that caused it, so a run of a million inputs reports them
all. The corpus in `build/fuzz/corpus/` and the running totals in `build/fuzz/stats.json` make
the run resumable: start it again and it goes on from there.

    python bench/fuzz.py -runs=1000000 build/fuzz/corpus
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["agreementdsl"]):
    from agreementdsl import load_source
    from agreementdsl.calendar import (
        parse_duration,
        parse_month_day,
        parse_period_label,
        parse_year_label,
    )
    from agreementdsl.compile import compile_agreement
    from agreementdsl.diagnostics import format_json_report, format_text_report
    from agreementdsl.engine.disputes import read_disputes
    from agreementdsl.engine.ledger import LedgerError, LedgerReader
    from agreementdsl.engine.outcomes import read_measures
    from agreementdsl.engine.run import RunError, run_ledger
    from agreementdsl.fmt import format_agreement
    from agreementdsl.grammar import CLAUSE_KINDS, ClauseText, build_clause
    from agreementdsl.money import MoneyError, parse_amount, parse_money, parse_percent
    from agreementdsl.scenarios.spec import read_test_file
    from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "fuzz"
FINDINGS = OUT / "findings"
STATS = OUT / "stats.json"
RUNS = OUT / "runs"
EXAMPLES = sorted((ROOT / "agreements").glob("*.yaml"))
AGREEMENTS = [p.read_text("utf-8") for p in EXAMPLES if not p.name.endswith(".test.yaml")]
WORDS = [
    "first",
    "next",
    "rest",
    "to",
    "host",
    "by",
    "contribution",
    "element",
    "equally",
    "split",
    "carried",
    "forward",
    "up",
    "above",
    "within",
    "plan",
    "where",
    "and",
    "or",
    "not",
    "is",
    "in",
    "monthly",
    "quarterly",
    "when",
    "forecast",
    "overspend:",
    "underspend:",
    "exceeds",
    "mediation",
    "£",
    "£1.5m",
    "£0.005",
    "£999,999,999,999,999",
    "%",
    "12%",
    "2005/06",
    "2005/07",
    "prior",
    "year",
    "+",
    "-",
    ":",
    "|",
    ">",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    '"',
    "'",
    "#",
    "&a",
    "*a",
    "!!int",
    "!!python/object",
    "---",
    "~",
    "null",
    "1.",
    "0",
    "-1",
    "\t",
    "\n",
    "\n",
    "  ",
    "\x00",
    "\r\n",
    "\u202e",
    "\ufeff",
    "&a [x, x, x, x, x, x, x, x, x, x]",
    "[*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "[" * 80,
    "(" * 80,
    "£1,000,000,000,000",
]
TARGETS = (
    "agreement",
    "mutated",
    "clause",
    "ledger",
    "side",
    "scenario",
    "scalars",
)
# Cheap targets take more of the selector's values so the run covers them in depth; whole
# agreements cost tens of milliseconds each.
WEIGHTS = (4, 8, 60, 60, 40, 4, 80)
SELECT = [t for t, w in zip(TARGETS, WEIGHTS, strict=True) for _ in range(w)]
TMP = Path(
    tempfile.mkdtemp(
        prefix="agreementdsl-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
    )
)
COUNTS: dict[str, int] = {t: 0 for t in TARGETS}
SECONDS: dict[str, float] = {t: 0.0 for t in TARGETS}
RUN_ID = time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime()) + f"-{os.getpid()}"
_last_save = [time.monotonic()]
FOUND: dict[str, dict[str, Any]] = {}
STARTED = time.monotonic()
_IR: dict[str, Any] | None = None
SLOW = ("agreement", "mutated", "scenario")
SLOW_SHARE = 0.02
LIMIT = [10**12]  # --inputs=N: stop after N inputs run (libFuzzer's -runs also counts skips)


def _identity(line: int, col: int) -> tuple[int, int]:
    return line, col


def _ir() -> dict[str, Any]:
    global _IR
    if _IR is None:
        loaded = load_source(SourceFile("herefordshire.yaml", AGREEMENTS[-1]))
        assert loaded.agreement is not None and loaded.source is not None
        _IR = compile_agreement(loaded.agreement, loaded.source.text)
    return _IR


def agreement(text: str) -> None:
    source = SourceFile("fuzz.yaml", text)
    loaded = load_source(source)
    format_text_report(loaded.diagnostics, {"fuzz.yaml": source})
    format_json_report(loaded.diagnostics)
    for d in loaded.diagnostics:
        if len(d.code) != 4 or d.span.line < 1 or d.span.col < 1 or not d.message:
            raise AssertionError(f"malformed diagnostic {d}")
    if loaded.ok and loaded.agreement is not None:
        compile_agreement(loaded.agreement, text)
        formatted, refused = format_agreement(loaded)
        if formatted is not None:
            again = load_source(SourceFile("fuzz.yaml", formatted))
            if not again.ok:
                raise AssertionError("fmt's output does not check clean")
            twice, _ = format_agreement(again)
            if twice != formatted:
                raise AssertionError("fmt is not idempotent")
        elif not refused:
            raise AssertionError("fmt gave neither text nor a reason")


def mutated(fdp: atheris.FuzzedDataProvider) -> None:
    text = AGREEMENTS[fdp.ConsumeIntInRange(0, len(AGREEMENTS) - 1)]
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        op = fdp.ConsumeIntInRange(0, 4)
        pos = fdp.ConsumeIntInRange(0, len(text))
        if op == 0:
            text = text[:pos] + WORDS[fdp.ConsumeIntInRange(0, len(WORDS) - 1)] + text[pos:]
        elif op == 1:
            text = text[:pos] + text[pos + fdp.ConsumeIntInRange(1, 40) :]
        elif op == 2:
            lines = text.split("\n")
            i, j = (
                fdp.ConsumeIntInRange(0, len(lines) - 1),
                fdp.ConsumeIntInRange(0, len(lines) - 1),
            )
            lines.insert(i, lines[j])
            text = "\n".join(lines)
        elif op == 3:
            text = (
                text[:pos]
                + fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 8))
                + text[pos:]
            )
        else:
            text = text[:pos]
    agreement(text)


def clause(fdp: atheris.FuzzedDataProvider) -> None:
    kind = CLAUSE_KINDS[fdp.ConsumeIntInRange(0, len(CLAUSE_KINDS) - 1)]
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    build_clause(kind, ClauseText(text, "fuzz.yaml", _identity))


def _file(name: str, data: bytes) -> Path:
    path = TMP / name
    path.write_bytes(data)
    return path


def ledger(fdp: atheris.FuzzedDataProvider) -> None:
    name = "ledger.jsonl" if fdp.ConsumeBool() else "ledger.csv"
    blow_up = fdp.ConsumeIntInRange(0, 15) == 0  # now and then a field of up to 300 KB
    size = fdp.ConsumeIntInRange(0, 300_000) if blow_up else 0
    data = fdp.ConsumeBytes(fdp.remaining_bytes())
    at = data.rfind(b",") + 1
    path = _file(name, data[:at] + b"x" * size + data[at:])
    with contextlib.suppress(LedgerError, RunError):
        run_ledger(_ir(), path)


def side(fdp: atheris.FuzzedDataProvider) -> None:
    disputes = fdp.ConsumeBool()
    path = _file("side.csv", fdp.ConsumeBytes(fdp.remaining_bytes()))
    try:
        if disputes:
            read_disputes(path, {"main": True, "other": False})
        else:
            read_measures(path, {"delayed-discharge", "o2"})
    except LedgerError:
        pass


def scenario(fdp: atheris.FuzzedDataProvider) -> None:
    path = _file("herefordshire.test.yaml", fdp.ConsumeBytes(fdp.remaining_bytes()))
    read_test_file(path)


def scalars(fdp: atheris.FuzzedDataProvider) -> None:
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    for parse in (parse_money, parse_amount, parse_percent):
        with contextlib.suppress(MoneyError):
            parse(text)
    parse_year_label(text)
    parse_period_label(text)
    parse_duration(text)
    parse_month_day(text)
    LedgerReader.parse_date(text)


def one_input(data: bytes) -> None:
    if not data:
        return
    target = SELECT[data[0] % len(SELECT)]
    done = sum(COUNTS.values())
    if target in SLOW and sum(COUNTS[t] for t in SLOW) > SLOW_SHARE * done:
        return  # not run and not counted: keeps whole agreements to their share of the time
    COUNTS[target] += 1
    if done + 1 >= LIMIT[0]:
        _save()
        os._exit(0)
    fdp = atheris.FuzzedDataProvider(data[1:])
    began = time.monotonic()
    try:
        if target == "agreement":
            agreement(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()))
        else:
            globals()[target](fdp)
    except Exception as exc:  # a finding: record it once, keep fuzzing
        _record(target, exc, data)
    now = time.monotonic()
    SECONDS[target] += now - began
    if now - _last_save[0] > 30:
        _last_save[0] = now
        _save(quiet=True)


def _record(target: str, exc: Exception, data: bytes) -> None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "agreementdsl" in f.filename]
    where = (
        f"{frames[-1].filename.split('agreementdsl')[-1]}:{frames[-1].lineno}" if frames else "?"
    )
    key = hashlib.sha1(f"{target}|{type(exc).__name__}|{where}".encode()).hexdigest()[:12]
    if key in FOUND:
        FOUND[key]["count"] += 1
        return
    FINDINGS.mkdir(parents=True, exist_ok=True)
    (FINDINGS / f"{key}.input").write_bytes(data)
    (FINDINGS / f"{key}.txt").write_text(
        f"target: {target}\n" + "".join(traceback.format_exception(exc)), "utf-8"
    )
    FOUND[key] = {
        "target": target,
        "error": f"{type(exc).__name__}: {exc}"[:300],
        "at": where,
        "count": 1,
    }
    print(f"\nFINDING {key} in {target}: {type(exc).__name__} at {where}", file=sys.stderr)


def _save(quiet: bool = False) -> None:
    """This run's counts in `runs/`, and the totals of every run in stats.json (every 30 s)."""
    RUNS.mkdir(parents=True, exist_ok=True)
    seconds = time.monotonic() - STARTED
    this = {
        "started": RUN_ID,
        "inputs": sum(COUNTS.values()),
        "seconds": round(seconds, 1),
        "by_target": COUNTS,
        "seconds_by_target": {t: round(s, 1) for t, s in SECONDS.items()},
        "findings": FOUND,
    }
    _write(RUNS / f"{RUN_ID}.json", this)
    runs = [json.loads(p.read_text("utf-8")) for p in sorted(RUNS.glob("*.json"))]
    findings: dict[str, Any] = {}
    for run in runs:
        for key, value in run["findings"].items():
            old = findings.get(key, {"count": 0})
            findings[key] = {**value, "count": old["count"] + value["count"]}
    total = {
        "inputs": sum(r["inputs"] for r in runs),
        "cpu_seconds": round(sum(r["seconds"] for r in runs), 1),
        "by_target": {t: sum(r["by_target"].get(t, 0) for r in runs) for t in TARGETS},
        "findings": findings,
        "runs": [{k: r[k] for k in ("started", "inputs", "seconds")} for r in runs],
    }
    _write(STATS, total)
    if quiet:
        return
    rate = sum(COUNTS.values()) / seconds if seconds else 0.0
    print(
        f"\nfuzz: {sum(COUNTS.values())} inputs in {seconds:.0f} s ({rate:.0f}/s) this run; "
        f"{total['inputs']} over {len(runs)} run(s); "
        f"{len(findings)} distinct finding(s); totals in {STATS}",
        file=sys.stderr,
    )


def _write(path: Path, data: dict[str, Any]) -> None:
    part = path.with_suffix(".part")
    part.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    os.replace(part, path)


def _seeds(corpus: Path) -> None:
    """Seed an empty corpus with the examples, their clause blocks and the example ledgers."""
    if corpus.is_dir() and any(corpus.iterdir()):
        return
    corpus.mkdir(parents=True, exist_ok=True)
    seeds: list[tuple[str, bytes]] = []
    for text in AGREEMENTS:
        seeds.append(("agreement", text.encode()))
        seeds.append(("mutated", b"\x00" * 16))
    for kind, block in (
        ("contribution", "£1.5m"),
        ("risk_share", "overspend:\n  first £50k to hcc\n  rest by contribution\n"),
        ("spending", "up to £50k within plan: manager\nabove: board\n"),
        ("reporting", "quarterly finance report to board within 20 working days\n"),
        ("disputes", "1. manager within 10 working days\n2. mediation by Acme\n"),
        ("target", ">= 80"),
    ):
        seeds.append(("clause", bytes([CLAUSE_KINDS.index(kind)]) + block.encode()))
    for csv_file in sorted((ROOT / "agreements").glob("*.csv")):
        lines = csv_file.read_bytes().splitlines(keepends=True)[:12]
        which = "side" if "disputes" in csv_file.name or "measures" in csv_file.name else "ledger"
        flag = b"\x01" if "disputes" in csv_file.name else b"\x00"
        seeds.append((which, flag + b"".join(lines)))
    seeds.append(("scalars", "£1,234.56".encode()))
    for i, (target, body) in enumerate(seeds):
        (corpus / f"seed-{i:03d}").write_bytes(bytes([SELECT.index(target)]) + body)


def report() -> None:
    """The totals of every run so far, and each finding replayed on the code as it is now."""
    total = json.loads(STATS.read_text("utf-8"))
    print(f"{total['inputs']} inputs, {total['cpu_seconds']:.0f} process-seconds, runs:")
    for run in total["runs"]:
        print(f"  {run['started']}: {run['inputs']} inputs in {run['seconds']:.0f} s")
    print("by target: " + ", ".join(f"{t} {n}" for t, n in total["by_target"].items()))
    print(f"{len(total['findings'])} distinct finding(s)")
    failing = 0
    for key, f in total["findings"].items():
        FOUND.clear()
        one_input((FINDINGS / f"{key}.input").read_bytes())
        now = "still fails" if FOUND else "fixed: its input now runs clean"
        failing += bool(FOUND)
        print(f"  {key} {f['target']} x{f['count']}: {f['error']} at {f['at']} ({now})")
    sys.exit(1 if failing else 0)


def main() -> None:
    if "--report" in sys.argv:
        report()
    corpus = next((Path(a) for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None:
        _seeds(corpus)
    if "--seed-only" in sys.argv:
        return
    for arg in sys.argv[1:]:
        if arg.startswith("--inputs="):
            LIMIT[0] = int(arg.split("=", 1)[1])
    atexit.register(_save)
    sys.setrecursionlimit(3000)
    atheris.Setup([a for a in sys.argv if not a.startswith("--")], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
