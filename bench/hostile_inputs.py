"""Hostile inputs for the limits in docs/robustness.md: huge clauses, huge files, special files.

    python bench/hostile_inputs.py OUT_DIR

writes split-80000.yaml (a `split` of 80,000 shares), spending-20000.yaml (20,000 spending
rules) and big-100mb.yaml (an agreement padded to 100 MB with a long `aims:`), each built from
tests/defects/baseline.yaml. Time them with `agreementdsl check FILE` (see docs/robustness.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

BASELINE = Path(__file__).resolve().parents[1] / "tests" / "defects" / "baseline.yaml"


def split_shares(count: int) -> str:
    """A risk share whose `rest split` names `count` partners (all but two unknown)."""
    shares = ", ".join(f"p{i} 0%" for i in range(count))
    text = BASELINE.read_text("utf-8")
    return text.replace(
        "        rest by contribution\n      underspend:",
        f"        rest split pct 60%, council 40%, {shares}\n      underspend:",
        1,
    )


def spending_rules(count: int) -> str:
    """A spending clause of `count` ascending limits before the final `above`."""
    rules = "".join(f"      up to £{50_000 + i:,}: manager\n" for i in range(count))
    text = BASELINE.read_text("utf-8")
    return text.replace("      up to £50,000: manager\n", rules, 1)


def padded(size: int) -> str:
    """The baseline agreement with `aims:` padded out to about `size` bytes."""
    text = BASELINE.read_text("utf-8")
    words = "integrated care " * (size // 16)
    return text.replace(
        "  aims: One integrated mental health service.",
        f"  aims: >-\n    {words}",
        1,
    )


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "split-80000.yaml").write_text(split_shares(80_000), "utf-8")
    (out / "spending-20000.yaml").write_text(spending_rules(20_000), "utf-8")
    (out / "big-100mb.yaml").write_text(padded(100_000_000), "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
