"""Time how fast each documented limit is refused (docs/robustness.md): `python bench/limits.py`.

Each case is checked in-process after a warm-up (the clause grammar is built once), and the
seconds to its first diagnostic are printed with the code it gave.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from agreementdsl import load_source
from agreementdsl.compile import compile_agreement
from agreementdsl.engine.ledger import LedgerError
from agreementdsl.engine.run import run_ledger
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,description\n"
ROW = "2005-05-01,mental-health,council,spend,{amount},,board,,{supplier},\n"


def bomb(levels: int) -> str:
    lines = ["notes:", "  l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n" + BASE


AGREEMENTS = {
    "alias bomb, 10^9 values": bomb(9),
    "200,000 nested [ ]": "notes: " + "[" * 200_000 + "]" * 200_000 + "\n" + BASE,
    "500 nested mappings": "notes:\n"
    + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(500))
    + BASE,
    "10,000 nested ( ) in a rule": BASE.replace(
        "up to £50,000: manager",
        "up to £50,000 where " + "(" * 10_000 + "element is nhs" + ")" * 10_000 + ": manager",
    ),
    "£1.5 trillion contribution": BASE.replace('"£1,000,000"', '"£1,500,000,000,000"'),
    "1,000 partners": BASE.replace(
        "partners:\n",
        "partners:\n"
        + "".join(f"  p{i}:\n    name: P\n    kind: local-authority\n" for i in range(1_000)),
        1,
    ),
    "5,000 spending rules": BASE.replace(
        "    spending: |\n",
        "    spending: |\n" + "".join(f"      up to £{i + 1}: manager\n" for i in range(5_000)),
        1,
    ),
    "a split of 5,000 shares": BASE.replace(
        "        rest by contribution\n",
        "        rest split " + ", ".join(f"p{i} 1%" for i in range(5_000)) + "\n",
        1,
    ),
    "!!python/object/apply tag": BASE.replace(
        "  aims: One integrated mental health service.",
        '  aims: !!python/object/apply:os.system ["echo owned"]',
    ),
}
LEDGERS = {
    "a field of 3 MB in one row": HEADER.encode()
    + ROW.format(amount="1.00", supplier="x" * 3_000_000).encode(),
    "a header field of 200 KB": (HEADER.rstrip() + "," + "h" * 200_000 + "\n").encode(),
    "an amount of £2 trillion": (
        HEADER + ROW.format(amount="2000000000000.00", supplier="")
    ).encode(),
    "a zip (xlsx)": b"PK\x03\x04" + b"\x00" * 1000,
    "NUL bytes": (HEADER + "2005-05-01,\x00\n").encode(),
    "Windows-1252 with £": (HEADER + ROW.format(amount="£1.00", supplier="Café")).encode("cp1252"),
}


def main() -> None:
    load_source(SourceFile("warm.yaml", BASE))
    print(f"{'case':34} {'seconds':>8}  codes")
    for name, text in AGREEMENTS.items():
        began = time.perf_counter()
        loaded = load_source(SourceFile("a.yaml", text))
        took = time.perf_counter() - began
        codes = sorted({d.code for d in loaded.errors})
        print(f"{name:34} {took:8.3f}  {', '.join(codes)}")
    hereford = load_source(
        SourceFile("h.yaml", (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8"))
    )
    assert hereford.agreement is not None and hereford.source is not None
    ir = compile_agreement(hereford.agreement, hereford.source.text)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in LEDGERS.items():
            path = Path(tmp) / "ledger.csv"
            path.write_bytes(data)
            began = time.perf_counter()
            try:
                result = run_ledger(ir, path, as_of=date(2006, 3, 31))
                codes = sorted(
                    {r.code for r in result.rejected}
                    | {w[:4] for w in result.warnings if w[:1] == "L"}
                )
                result.close()
            except LedgerError as exc:
                codes = [exc.code]
            took = time.perf_counter() - began
            print(f"ledger: {name:26} {took:8.3f}  {', '.join(codes)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
