"""Accounting invariants over random ledgers (valid and bad rows mixed, two pools, their
elements, every month and rows outside the year), through `run --format json`:

- rows read = rows used + rows rejected, and the rejected rows are exactly the bad ones;
- each pool's actual, each element's actual and each month's net equal the sums of spend − income
  over the used rows of the year up to the as-of date, computed here independently;
- the settlement's shares and the amount carried forward add up to the variance, to the penny.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.cli import main
from agreementdsl.money import format_pounds, parse_amount

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "herefordshire.yaml"
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,description"
ELEMENTS = {
    "mental-health": ["pct-provider", "pct-commissioning", "council"],
    "learning-disabilities": ["council", "respite", "pct-commissioning"],
}
YEAR_START, YEAR_END = date(2005, 4, 1), date(2006, 3, 31)
# Rows that must be rejected, whatever else the ledger holds: (the row, its code).
BAD = [
    ("2005-13-01,mental-health,council,spend,1.00,,board,,,", "L001"),
    ("2005-05-01,mental-heath,council,spend,1.00,,board,,,", "L002"),
    ("2005-05-01,mental-health,council,spend,ten,,board,,,", "L003"),
    ("2005-05-01,mental-health,council,spend,1.001,,board,,,", "L004"),
    ("2005-05-01,mental-health,council,refund,1.00,,board,,,", "L005"),
    ("2005-05-01,mental-health,respite,spend,1.00,,board,,,", "L006"),
    ("2005-05-01,learning-disabilities,,spend,1.00,,board,,,", "L007"),
    ("2005-05-01,mental-health,,contribution,1.00,nhs-england,,,,", "L008"),
    ("2005-05-01,mental-health,council,spend,1.00,,board,perhaps,,", "L009"),
    ("2005-05-01,mental-health,council", "L010"),
    ("2005-05-01,mental-health,council,spend,1000000000000.00,,board,,,", "L016"),
]


@st.composite
def good_rows(draw: st.DrawFn) -> tuple[date, str, str, str, int]:
    pool = draw(st.sampled_from(sorted(ELEMENTS)))
    kind = draw(st.sampled_from(["spend", "spend", "spend", "income", "contribution"]))
    element = draw(st.sampled_from(ELEMENTS[pool] + ([""] if kind != "spend" else [])))
    day = draw(st.dates(date(2005, 1, 1), date(2006, 6, 30)))
    pence = draw(st.integers(0, 300_000_000) | st.integers(0, 10_000))
    return day, pool, element, kind, pence


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[str], list[tuple[date, str, str, str, int]], list[Any]]:
    lines: list[str] = []
    good: list[tuple[date, str, str, str, int]] = []
    bad: list[tuple[int, str]] = []
    for _ in range(draw(st.integers(0, 40))):
        if draw(st.integers(0, 3)) == 0:
            row, code = draw(st.sampled_from(BAD))
            bad.append((len(lines) + 2, code))
            lines.append(row)
            continue
        day, pool, element, kind, pence = draw(good_rows())
        amount = draw(
            st.sampled_from([format_pounds(pence), f"£{pence // 100:,}.{pence % 100:02d}"])
        )
        good.append((day, pool, element, kind, parse_amount(amount)))
        lines.append(f'{day.isoformat()},{pool},{element},{kind},"{amount}",,board,yes,Supplier,')
    return lines, good, bad


def _run(path: Path, as_of: date) -> dict[str, Any]:
    args = ["run", str(AGREEMENT), "--ledger", str(path), "--as-of", as_of.isoformat()]
    result = CliRunner().invoke(main, [*args, "--year", "2005/06", "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _pence(text: str | None) -> int:
    return 0 if text is None else parse_amount(text)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(ledgers(), st.dates(YEAR_START, YEAR_END))
def test_accounting_invariants_over_random_ledgers(
    tmp_path_factory: pytest.TempPathFactory,
    ledger: tuple[list[str], list[tuple[date, str, str, str, int]], list[tuple[int, str]]],
    as_of: date,
) -> None:
    lines, good, bad = ledger
    path = tmp_path_factory.mktemp("inv") / "ledger.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", "utf-8")
    data = _run(path, as_of)

    # rows read = used + rejected; the rejected are exactly the bad rows, by line and code
    rows = data["rows"]
    assert rows["read"] == len(lines) == rows["used"] + rows["rejected"]
    assert rows["used"] == len(good)
    assert [(r["row"], r["code"]) for r in data["rejected"]] == bad

    # the sums of used spend − income, by pool, element and month, over the year to the as-of date
    actual: dict[str, int] = defaultdict(int)
    by_element: dict[tuple[str, str], int] = defaultdict(int)
    by_month: dict[tuple[str, str], int] = defaultdict(int)
    for day, pool, element, kind, pence in good:
        if not (YEAR_START <= day <= as_of) or kind not in ("spend", "income"):
            continue
        signed = pence if kind == "spend" else -pence
        actual[pool] += signed
        by_month[(pool, day.strftime("%Y-%m"))] += signed
        if element:
            by_element[(pool, element)] += signed
    for result in data["pools"]:
        pool = result["pool"]
        assert _pence(result["actual"]) == actual[pool], pool
        for e in result["elements"]:
            assert _pence(e["actual"]) == by_element[(pool, e["element"])], (pool, e)
        months = {m["month"]: _pence(m["net"]) for m in result["months"]}
        for (p, month), net in by_month.items():
            if p == pool:
                assert months.get(month, 0) == net, (pool, month)
        assert sum(months.values()) == actual[pool]

        # settlement shares + carried forward = the variance, to the penny
        variance = result["variance"]
        settlement = result["settlement"]
        if settlement is None:
            continue
        shares = sum(_pence(v) for v in settlement["shares"].values())
        carried = _pence(settlement.get("carried_forward"))
        assert shares + carried == _pence(variance["amount"]), (pool, variance, settlement)


def test_the_bad_rows_are_each_rejected_with_their_code(tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join([HEADER, *(row for row, _ in BAD)]) + "\n", "utf-8")
    data = _run(path, YEAR_END)
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [
        (n + 2, code) for n, (_, code) in enumerate(BAD)
    ]
