"""`agreementdsl run` end to end (LANGUAGE.md §3, §9, §11): the JSON contract, options, exit codes,
and the two-process executor giving the same results as the one-process one."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import agreementdsl
from agreementdsl.api import load
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.engine import parallel
from agreementdsl.engine.approvals import Authority
from agreementdsl.engine.executor import RowExecutor, Totals
from agreementdsl.engine.ledger import LedgerReader, PoolShape
from agreementdsl.engine.output import write_json
from agreementdsl.engine.parallel import ParallelExecutor
from agreementdsl.engine.run import run_ledger

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = ROOT / "agreements"
HEREFORDSHIRE = AGREEMENTS / "herefordshire.yaml"
LEDGER = AGREEMENTS / "herefordshire-2005-06.csv"
DISPUTES = AGREEMENTS / "herefordshire-disputes.csv"
MEASURES = AGREEMENTS / "herefordshire-measures.csv"
MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2}$")
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["run", *args])


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def pool_of(data: dict[str, Any], pool: str) -> dict[str, Any]:
    return next(p for p in data["pools"] if p["pool"] == pool)


def write(tmp_path: Path, text: str, name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def compiled(path: Path = HEREFORDSHIRE) -> dict[str, Any]:
    loaded = load(path)
    assert loaded.agreement is not None and loaded.source is not None
    return compile_agreement(loaded.agreement, loaded.source.text)


# ---------------------------------------------------------------- the JSON contract
@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(HEREFORDSHIRE),
            "--ledger",
            str(LEDGER),
            "--disputes",
            str(DISPUTES),
            "--measures",
            str(MEASURES),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def ledger_records() -> list[tuple[int, list[str]]]:
    """The example ledger's data records with the physical line each starts on (header = 1)."""
    with LEDGER.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        records, last = [], reader.line_num
        for fields in reader:
            if fields:
                records.append((last + 1, fields))
            last = reader.line_num
    return records


def test_contract_top_level(example: dict[str, Any]) -> None:
    records = ledger_records()
    data_rows = [n for n, _ in records]
    twelve = next(n for n, f in records if f[4] == "twelve")
    bad_date = next(n for n, f in records if f[0] == "2005-13-01")
    assert example["agreement"] == "herefordshire-mh-ld"
    assert example["as_of"] == "2006-03-31"  # the last ledger date
    assert example["rows"] == {"read": len(data_rows), "used": len(data_rows) - 2, "rejected": 2}
    assert list(example["rows"]) == ["read", "used", "rejected"]
    assert example["rejected"] == [
        {"row": twelve, "code": "L003", "message": "amount 'twelve' is not a number"},
        {
            "row": bad_date,
            "code": "L001",
            "message": "date '2005-13-01' is not a date (YYYY-MM-DD)",
        },
    ]
    assert [p["pool"] for p in example["pools"]] == ["mental-health", "learning-disabilities"]


def test_contract_mental_health_figures(example: dict[str, Any]) -> None:
    mh = pool_of(example, "mental-health")
    assert mh["year"] == "2005/06"
    assert mh["budget"] == "17400000.00"
    # Net expenditure summed here from the file, independently of the engine.
    net = Decimal(0)
    for _, fields in ledger_records():
        if fields[1] != "mental-health" or fields[4] == "twelve" or fields[0] == "2005-13-01":
            continue
        if fields[3] == "spend":
            net += Decimal(fields[4])
        elif fields[3] == "income":
            net -= Decimal(fields[4])
    assert mh["actual"] == f"{net:.2f}" == "18140000.00"
    assert mh["forecast"] == "18140000.00"
    assert mh["variance"] == {"kind": "overspend", "amount": "740000.00"}
    # §10: first £280,000 to hpct; £460,000 by 13.3 : 4.1 → hpct £351,609.20, hc £108,390.80.
    assert mh["settlement"] == {
        "shares": {"hpct": "631609.20", "hc": "108390.80"},
        "carried_forward": "0.00",
    }


def test_contract_types_and_amounts(example: dict[str, Any]) -> None:
    for pool in example["pools"]:
        for key in ("budget", "actual", "forecast"):
            assert MONEY.match(pool[key]), (key, pool[key])
        assert pool["variance"]["kind"] in ("overspend", "underspend", "balanced")
        assert MONEY.match(pool["variance"]["amount"])
        assert MONEY.match(pool["settlement"]["carried_forward"])
        assert all(MONEY.match(v) for v in pool["settlement"]["shares"].values())
        for approval in pool["approvals"]:
            assert type(approval["row"]) is int
            assert MONEY.match(approval["amount"]) and not approval["amount"].startswith("-")
            assert all(type(r) is str for r in approval["required"] + approval["recorded"])
            assert type(approval["compliant"]) is bool
        for report in pool["reports"]:
            assert {"report", "to", "period_end", "due"} <= set(report)
            date.fromisoformat(report["period_end"])
            date.fromisoformat(report["due"])
        for dispute in pool["disputes"]:
            assert type(dispute["stage"]) is int and type(dispute["overdue"]) is bool
    for rejected in example["rejected"]:
        assert type(rejected["row"]) is int


def test_contract_approvals(example: dict[str, Any]) -> None:
    # Every mental-health spend of more than zero in the file (all in the year, none after the
    # as-of date), in row order, worked out from the file.
    records = ledger_records()
    expected = [
        n
        for n, f in records
        if f[1] == "mental-health" and f[3] == "spend" and f[0] != "2005-13-01"
        if f[4] != "twelve" and Decimal(f[4]) > 0
    ]
    approvals = pool_of(example, "mental-health")["approvals"]
    assert [a["row"] for a in approvals] == expected
    by_row = {a["row"]: a for a in approvals}
    big = next(n for n, f in records if f[3] == "spend" and f[4] == "300000.00")
    assert {k: by_row[big][k] for k in ("amount", "required", "recorded", "compliant")} == {
        "amount": "300000.00",
        "required": ["executives"],
        "recorded": ["board"],
        "compliant": False,
    }


def test_contract_reports_disputes_outcomes(example: dict[str, Any]) -> None:
    mh = pool_of(example, "mental-health")
    dues = [r["due"] for r in mh["reports"]]
    assert dues == sorted(dues)
    assert mh["reports"][0] == {
        **mh["reports"][0],
        "report": "finance report",
        "to": "board",
        "period_end": "2005-04-30",
        "due": "2005-05-16",
    }
    # D1 raised 1 Nov 2005: stage 1 to 15 Nov, stage 2 to 14 Dec, stage 3 (30 working days
    # from 15 Dec, skipping 26, 27 Dec and 2 Jan) to 31 Jan; from 1 Feb mediation.  D3 is resolved.
    assert [
        {k: d[k] for k in ("id", "stage", "holder", "deadline", "overdue")} for d in mh["disputes"]
    ] == [
        {"id": "D1", "stage": 4, "holder": "mediation by CEDR", "deadline": None, "overdue": False}
    ]
    # D2 raised Mon 20 Mar 2006: 21–24 Mar (4), 27–31 (9), 3 Apr (10).
    ld = pool_of(example, "learning-disabilities")
    assert [(d["id"], d["stage"], d["deadline"]) for d in ld["disputes"]] == [
        ("D2", 1, "2006-04-03")
    ]
    assert {o["period"]: o["status"] for o in example["outcomes"]} == {
        "2005/06 Q1": "missed",
        "2005/06 Q2": "missed",
        "2005/06 Q3": "missing",
        "2005/06 Q4": "met",
    }


# ---------------------------------------------------------------- --explain
def test_explain_text_cites_file_and_line() -> None:
    result = run(str(HEREFORDSHIRE), "--ledger", str(LEDGER), "--explain")
    assert result.exit_code == 0
    out = result.output
    # herefordshire.yaml: line 42 contributions, 47–48 the overspend steps, 52–54 the spending.
    assert f"first £280,000 to host ({HEREFORDSHIRE}:47)" in out
    assert f"rest by contribution ({HEREFORDSHIRE}:48)" in out
    assert f"({HEREFORDSHIRE}:42)" in out
    assert f"`above: executives` ({HEREFORDSHIRE}:54) applies" in out


def test_explain_json_has_working_with_sources() -> None:
    data = run_json(str(HEREFORDSHIRE), "--ledger", str(LEDGER), "--explain")
    mh = pool_of(data, "mental-health")
    sources = [w["source"] for w in mh["explain"]["settlement"] if w["source"]]
    assert sources == [f"{HEREFORDSHIRE}:47", f"{HEREFORDSHIRE}:48"]
    assert all("explain" in a for a in mh["approvals"])


# ---------------------------------------------------------------- as-of and year
TWO_YEARS = HEADER + (
    "2005-04-10,mental-health,council,spend,100.00,,board,\n"
    "2006-03-20,mental-health,council,spend,200.00,,board,\n"
    "2006-04-12,mental-health,council,spend,400.00,,board,\n"
    "2006-06-02,mental-health,council,spend,800.00,,board,\n"
    "2007-01-05,mental-health,council,spend,bad,,board,\n"  # rejected
)


def test_as_of_defaults_to_the_last_ledger_date(tmp_path: Path) -> None:
    data = run_json(str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, TWO_YEARS)))
    assert data["as_of"] == "2006-06-02"
    mh = pool_of(data, "mental-health")
    assert mh["year"] == "2006/07"  # the year containing the as-of date
    assert mh["actual"] == "1200.00"  # 400 + 800: 2005/06 rows are another year
    assert [a["row"] for a in mh["approvals"]] == [4, 5]
    # 2006/07 budget: hpct prior year + 2.5% = £13,300,000 + £332,500; hc £4,100,000.
    assert mh["budget"] == "17732500.00"


def test_year_option_picks_the_year_and_its_last_date(tmp_path: Path) -> None:
    data = run_json(
        str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, TWO_YEARS)), "--year", "2005/06"
    )
    assert data["as_of"] == "2006-03-20"  # the last ledger date within 2005/06
    mh = pool_of(data, "mental-health")
    assert (mh["year"], mh["actual"]) == ("2005/06", "300.00")
    assert [a["row"] for a in mh["approvals"]] == [2, 3]
    assert data["rows"] == {"read": 5, "used": 4, "rejected": 1}  # every row checked


def test_as_of_after_the_year_counts_to_the_years_last_day(tmp_path: Path) -> None:
    data = run_json(
        str(HEREFORDSHIRE),
        "--ledger",
        str(write(tmp_path, TWO_YEARS)),
        "--year",
        "2005/06",
        "--as-of",
        "2006-12-31",
    )
    mh = pool_of(data, "mental-health")
    assert mh["actual"] == "300.00"
    # The year has ended: variance of actual. £17,400,000 − £300 = underspend £17,399,700.
    assert mh["variance"] == {"kind": "underspend", "amount": "17399700.00"}


def test_rows_after_the_as_of_date_are_not_counted(tmp_path: Path) -> None:
    data = run_json(
        str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, TWO_YEARS)), "--as-of", "2006-05-31"
    )
    mh = pool_of(data, "mental-health")
    assert (mh["year"], mh["actual"]) == ("2006/07", "400.00")
    assert [a["row"] for a in mh["approvals"]] == [4]


def test_as_of_before_the_year_has_no_expenditure(tmp_path: Path) -> None:
    ledger = HEADER + (
        "2005-03-10,mental-health,council,spend,1000.00,,board,\n"
        "2005-03-20,mental-health,council,spend,2000.00,,board,\n"
        "2005-04-10,mental-health,council,spend,4000.00,,board,\n"
    )
    data = run_json(
        str(HEREFORDSHIRE),
        "--ledger",
        str(write(tmp_path, ledger)),
        "--year",
        "2005/06",
        "--as-of",
        "2005-03-15",
    )
    # §11: net expenditure from the start of the year (1 April 2005) to the as-of date: nothing.
    assert pool_of(data, "mental-health")["actual"] == "0.00"


def test_a_pool_without_contributions_for_the_year(tmp_path: Path) -> None:
    # Herefordshire with learning-disabilities contributions for 2005/06 only (§3).
    later = (
        '      2006/07: { hpct: "prior year", hc: "prior year" }\n'
        '      2007/08: { hpct: "prior year", hc: "prior year" }\n'
    )
    text = HEREFORDSHIRE.read_text("utf-8")
    assert text.count(later) == 1
    agreement = tmp_path / "herefordshire.yaml"
    agreement.write_text(text.replace(later, ""), "utf-8")
    ledger = HEADER + (
        "2006-05-03,learning-disabilities,respite,spend,5000.00,,board,\n"
        "2006-05-04,mental-health,council,spend,10.00,,board,\n"
    )
    data = run_json(str(agreement), "--ledger", str(write(tmp_path, ledger)))
    ld = pool_of(data, "learning-disabilities")
    assert ld["year"] == "2006/07"
    assert (ld["budget"], ld["forecast"], ld["variance"], ld["settlement"]) == (
        None,
        None,
        None,
        None,
    )
    assert ld["actual"] == "5000.00"
    [approval] = ld["approvals"]  # approvals still given: respite up to £10,000 → ld-manager
    assert (approval["row"], approval["required"], approval["compliant"]) == (
        2,
        ["ld-manager"],
        True,
    )
    assert ld["reports"] != []
    warnings = [w for w in data["warnings"] if "learning-disabilities" in w]
    assert len(warnings) == 1 and "2006/07" in warnings[0]
    assert pool_of(data, "mental-health")["budget"] == "17732500.00"


def test_budget_uplifts_round_half_up_and_carry_forward_leaves_budgets_alone(
    tmp_path: Path,
) -> None:
    # two-years.yaml, 2009/10: zed "prior year - 0.5%": 0.5% of 100p = 0.5p → half up 1p,
    # subtracted: £0.99 (not 100p × 0.995 = 99.5p → £1.00).  amber "2008/09 + 0.05%": 0.05% of
    # £1,000 = 50p → £1,000.50.  Budget £1,001.49.
    # 2008/09: budget £1,001.00, outturn £500 → underspend £501: £100 carried forward, which is
    # reported by 2008/09 and does not change 2009/10's budget.
    agreement = ROOT / "tests" / "data" / "engine" / "two-years.yaml"
    ledger = write(
        tmp_path, HEADER + "2008-06-01,p,,spend,500.00,,board,\n2009-06-01,p,,spend,1.00,,board,\n"
    )
    first = run_json(
        str(agreement), "--ledger", str(ledger), "--year", "2008/09", "--as-of", "2009-03-31"
    )
    p1 = pool_of(first, "p")
    assert (p1["budget"], p1["variance"]["amount"]) == ("1001.00", "501.00")
    assert p1["settlement"]["carried_forward"] == "100.00"
    second = run_json(str(agreement), "--ledger", str(ledger))
    p2 = pool_of(second, "p")
    assert (p2["year"], p2["budget"]) == ("2009/10", "1001.49")


def test_explain_does_not_change_the_approvals() -> None:
    plain = run_json(str(HEREFORDSHIRE), "--ledger", str(LEDGER))
    explained = run_json(str(HEREFORDSHIRE), "--ledger", str(LEDGER), "--explain")
    for a, b in zip(plain["pools"], explained["pools"], strict=True):
        assert a["approvals"] == [
            {k: v for k, v in x.items() if k != "explain"} for x in b["approvals"]
        ]
        assert {k: v for k, v in a.items() if k != "approvals"} == {
            k: v for k, v in b.items() if k not in ("approvals", "explain")
        }


# ---------------------------------------------------------------- exit codes
def test_exit_0_with_rejected_rows() -> None:
    assert run(str(HEREFORDSHIRE), "--ledger", str(LEDGER)).exit_code == 0


def test_exit_1_for_an_agreement_with_errors(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        HEREFORDSHIRE.read_text("utf-8").replace(
            "first £280,000 to host", "first £280,000 to hots"
        ),
        "bad.yaml",
    )
    result = run(str(bad), "--ledger", str(LEDGER), "--format", "json")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "E301" in result.output


def test_exit_1_for_a_missing_column(tmp_path: Path) -> None:
    ledger = write(tmp_path, "date,pool,amount\n2005-05-01,mental-health,1.00\n")
    result = run(str(HEREFORDSHIRE), "--ledger", str(ledger))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "`kind`" in result.output


def test_a_latin1_ledger_is_read_with_a_warning_naming_the_encoding(tmp_path: Path) -> None:
    # Issue 12: a Latin-1/Windows-1252 export is read as such with L019 (it was refused, L103).
    ledger = tmp_path / "latin1.csv"
    ledger.write_bytes(
        b"date,pool,kind,amount,supplier\n2005-05-01,mental-health,income,5,caf\xe9\n"
    )
    result = run(str(HEREFORDSHIRE), "--ledger", str(ledger))
    assert result.exit_code == 0, result.output
    assert "L019" in result.output and "Windows-1252" in result.output


def test_exit_1_for_a_ledger_that_is_not_text(tmp_path: Path) -> None:
    ledger = tmp_path / "binary.csv"
    ledger.write_bytes(b"date,pool,kind,amount,supplier\n2005-05-01,mental-health,income,5,\x81\n")
    result = run(str(HEREFORDSHIRE), "--ledger", str(ledger))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "L018" in result.output


@pytest.mark.parametrize("option", ["--disputes", "--measures"])
def test_exit_1_for_a_side_file_that_is_not_text(tmp_path: Path, option: str) -> None:
    side = tmp_path / "side.csv"
    if option == "--disputes":
        side.write_bytes(
            b"id,pool,raised_on,resolved_on,subject\nD1,mental-health,2005-11-01,,caf\x81\n"
        )
    else:
        side.write_bytes(b"outcome,period,value\nmh-user-satisfaction,2005/06 Q1,7\x00\n")
    result = run(str(HEREFORDSHIRE), "--ledger", str(LEDGER), option, str(side))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "L018" in result.output


def test_exit_1_for_a_ledger_that_does_not_exist(tmp_path: Path) -> None:
    result = run(str(HEREFORDSHIRE), "--ledger", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--as-of", "2005-13-01"],
        ["--as-of", "31/03/2006"],
        ["--year", "2005/07"],
        ["--year", "2005-06"],
        ["--format", "xml"],
        ["--frobnicate"],
    ],
)
def test_exit_2_for_bad_options(args: list[str]) -> None:
    result = run(str(HEREFORDSHIRE), "--ledger", str(LEDGER), *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_exit_2_for_an_empty_ledger_without_as_of(tmp_path: Path) -> None:
    ledger = write(tmp_path, HEADER)
    result = run(str(HEREFORDSHIRE), "--ledger", str(ledger))
    assert result.exit_code == 2
    assert "--as-of" in result.output
    assert run(str(HEREFORDSHIRE), "--ledger", str(ledger), "--as-of", "2005-05-01").exit_code == 0


def test_exit_2_for_a_ledger_with_only_bad_rows_and_no_as_of(tmp_path: Path) -> None:
    ledger = write(tmp_path, HEADER + "2005-13-01,mental-health,council,spend,1.00,,board,\n")
    assert run(str(HEREFORDSHIRE), "--ledger", str(ledger)).exit_code == 2


def test_the_public_load_function_stays_a_function() -> None:
    agreementdsl.load(HEREFORDSHIRE)
    assert callable(agreementdsl.load)
    loaded = agreementdsl.load(HEREFORDSHIRE)
    assert loaded.agreement is not None


# ---------------------------------------------------------------- two processes = one process
def big_ledger(path: Path, rows: int = 4000) -> None:
    """A few thousand plain rows (no quotes, so the file may be cut): both pools, every kind,
    and some bad rows, spread over 2005/06 with a few outside it."""
    rng = random.Random(20050401)
    elements = {
        "mental-health": ["pct-provider", "pct-commissioning", "council"],
        "learning-disabilities": ["council", "respite", "pct-commissioning"],
    }
    approvers = ["", "mh-manager", "ld-manager", "board", "executives", "executives;board", "cfo"]
    lines = [HEADER.rstrip("\n")]
    for i in range(rows):
        day = date.fromordinal(date(2005, 3, 20).toordinal() + rng.randrange(0, 380)).isoformat()
        pool = rng.choice(list(elements))
        element = rng.choice(elements[pool])
        roll = rng.random()
        if roll < 0.75:
            amount = f"{rng.randrange(-50_000, 30_000_000) / 100:.2f}"
            fields = [day, pool, element, "spend", amount, "", rng.choice(approvers)]
            fields.append(rng.choice(["true", "false", "", "yes", "0"]))
        elif roll < 0.85:
            fields = [day, pool, rng.choice([element, ""]), "income", f"{rng.randrange(1, 10**7)}"]
            fields += ["", "", ""]
        elif roll < 0.9:
            fields = [
                day,
                pool,
                "",
                "contribution",
                "100000.00",
                rng.choice(["hpct", "hc"]),
                "",
                "",
            ]
        elif roll < 0.95:
            amount = f"{rng.randrange(9_000_000, 20_000_000)}.00"
            fields = [day, pool, "", "forecast", amount, "", "", ""]
        else:
            fields = [day, pool, element, "spend", "100.00", "", "board", ""]
            broken = rng.randrange(5)
            if broken == 0:
                fields[0] = "2005-02-30"
            elif broken == 1:
                fields[4] = "1.234"
            elif broken == 2:
                fields[2] = "nowhere"
            elif broken == 3:
                fields[7] = "perhaps"
            else:
                fields = fields[:5]
        if i % 997 == 0:
            lines.append("")  # a blank line now and then
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def json_text(ir: dict[str, Any], ledger: Path, **options: Any) -> str:
    result = run_ledger(ir, ledger, **options)
    out = io.StringIO()
    try:
        write_json(result, out)
    finally:
        result.close()
    return out.getvalue()


@pytest.fixture
def two_processes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make ParallelExecutor fork for any size of ledger; count the merges it does."""
    merges: list[int] = []
    original = ParallelExecutor._merge

    def counting(self: ParallelExecutor, halves: list[dict[str, Any]]) -> Totals:
        merges.append(len(halves))
        return original(self, halves)

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(ParallelExecutor, "_merge", counting)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel, "free_cores", lambda: 2.0)  # however busy the machine is
    monkeypatch.delenv(parallel.PROCESSES, raising=False)
    return merges


def test_two_processes_give_byte_identical_json(
    tmp_path: Path, two_processes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "big.csv"
    big_ledger(ledger)
    ir = compiled()
    for options in (
        {"as_of": date(2006, 3, 31)},
        {"as_of": date(2005, 11, 15), "disputes": DISPUTES},
        {"year": "2005/06", "explain": True},
    ):
        forked = json_text(ir, ledger, **options)
        assert two_processes.pop() == 2  # it did fork
        with monkeypatch.context() as m:
            m.setattr(parallel, "MIN_BYTES", 1 << 62)
            single = json_text(ir, ledger, **options)
        assert two_processes == []  # and this one did not
        assert forked == single
    data = json.loads(forked)
    assert data["rows"]["rejected"] > 0
    assert all(pool_of(data, p)["approvals"] for p in ("mental-health", "learning-disabilities"))


def test_two_processes_give_the_same_totals(tmp_path: Path, two_processes: list[int]) -> None:
    ledger = tmp_path / "big.csv"
    big_ledger(ledger, rows=3000)
    ir = compiled()
    roles = frozenset(r["id"] for r in ir["roles"])
    authorities = {p["id"]: Authority(p, roles) for p in ir["pools"]}
    element_partners = {
        p["id"]: {e["id"]: e["partner"] for e in p["elements"]} for p in ir["pools"]
    }
    shapes = {pid: PoolShape(elements) for pid, elements in element_partners.items()}
    partners = frozenset(p["id"] for p in ir["partners"])

    def totals(executor: Any) -> dict[str, Any]:
        reader = LedgerReader(ledger, shapes, partners)
        t = executor.execute(reader)
        try:
            return {
                "read": t.read,
                "used": t.used,
                "rejected": t.rejected,
                "days": t.days,
                "net": {p: dict(v.element_net) for p, v in t.pools.items()},
                "forecasts": {p: sorted(v.forecasts) for p, v in t.pools.items()},
                "received": {p: dict(v.received) for p, v in t.pools.items()},
                "approvals": [
                    (c.row, c.amount, c.day, c.pool, c.decision.required, c.decision.compliant)
                    for c in t.approvals
                ],
                "warnings": reader.warnings,
            }
        finally:
            t.approvals.close()

    one = totals(RowExecutor(authorities, element_partners))
    assert two_processes == []
    two = totals(ParallelExecutor(RowExecutor(authorities, element_partners)))
    assert two_processes == [2]
    assert one == two
    assert one["read"] == one["used"] + len(one["rejected"])
    rows = [r.row for r in one["rejected"]]
    assert rows == sorted(rows)
    # Row numbers are physical lines, in both halves of the file: each names the broken field.
    lines = ledger.read_text("utf-8").splitlines()
    marks = {"L001": "2005-02-30", "L004": "1.234", "L006": "nowhere", "L009": "perhaps"}
    for bad in one["rejected"]:
        fields = lines[bad.row - 1].split(",")
        if bad.code == "L010":
            assert len(fields) == 5
        else:
            assert marks[bad.code] in fields, bad
    assert max(rows) > len(lines) // 2  # some bad rows fall in the second process's half


def test_a_file_with_quotes_is_read_by_one_process(
    tmp_path: Path, two_processes: list[int]
) -> None:
    ledger = tmp_path / "quoted.csv"
    big_ledger(ledger, rows=500)
    text = ledger.read_text("utf-8")
    ledger.write_text(text.replace("2005-04-10,", '"2005-04-10",'), encoding="utf-8")
    json_text(compiled(), ledger, as_of=date(2006, 3, 31))
    assert two_processes == []


def test_csv_module_sanity_of_the_big_ledger(tmp_path: Path) -> None:
    # The generator writes what it means to: every line but the header and blanks has 8 fields
    # except the deliberately ragged ones.
    ledger = tmp_path / "big.csv"
    big_ledger(ledger, rows=300)
    with ledger.open(newline="") as f:
        widths = {len(r) for r in csv.reader(f) if r}
    assert widths <= {5, 8}


def test_a_forecast_below_what_is_spent_and_rows_after_the_as_of_date_are_warned(
    tmp_path: Path,
) -> None:
    ledger = HEADER + (
        "2005-05-10,mental-health,council,spend,5000000.00,,executives,\n"
        "2005-06-01,mental-health,council,forecast,4000000.00,,,\n"
        "2005-09-30,mental-health,council,spend,10.00,,board,\n"
    )
    data = run_json(
        str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, ledger)), "--as-of", "2005-06-30"
    )
    warnings = data["warnings"]
    assert any(
        "the forecast outturn £4,000,000.00" in w
        and "below the net expenditure already incurred, £5,000,000.00 to 2005-06-30" in w
        for w in warnings
    ), warnings
    assert any(
        "rows of 2005/06 up to 2005-09-30, 92 days after the as-of date 2005-06-30" in w
        for w in warnings
    ), warnings


def test_rows_outside_the_year_taken_from_the_as_of_date_are_warned(tmp_path: Path) -> None:
    """One row dated a year on makes the default as-of date, and so the year, the wrong one:
    the rows of the year before are left out, and a warning says so (not with --year, which
    names the year on purpose)."""
    ledger = HEADER + (
        "2005-05-10,mental-health,council,spend,500.00,,mh-manager,\n"
        "2005-06-01,mental-health,council,spend,700.00,,mh-manager,\n"
        "2006-04-01,mental-health,council,spend,10.00,,mh-manager,\n"
    )
    path = str(write(tmp_path, ledger))
    data = run_json(str(HEREFORDSHIRE), "--ledger", path)
    assert data["year"] == "2006/07"
    assert (
        "the year run is 2006/07, the one holding the as-of date 2006-04-01 (the ledger's last "
        "date); the ledger's rows dated outside it, on 2 days from 2005-05-10 to 2005-06-01, are "
        "left out of the figures (`--year 2005/06` runs the year they are in; `--years "
        "2005/06..2006/07` runs each year in turn)"
    ) in data["warnings"], data["warnings"]
    # each option the hint names runs
    named = run_json(str(HEREFORDSHIRE), "--ledger", path, "--year", "2005/06")
    assert not any("outside" in w for w in named["warnings"]), named["warnings"]
    each = run(str(HEREFORDSHIRE), "--ledger", path, "--years", "2005/06..2006/07")
    assert each.exit_code == 0 and "2005/06" in each.output, each.output
    # an as-of date given: not the ledger's last; one day in the singular
    given = run_json(str(HEREFORDSHIRE), "--ledger", path, "--as-of", "2005-06-01")
    assert (
        "the year run is 2005/06, the one holding the as-of date 2005-06-01; the ledger's rows "
        "dated outside it, on 1 day, 2006-04-01, are left out of the figures (`--year 2006/07` "
        "runs the year they are in)"  # no --years past the as-of date given: it is refused
    ) in given["warnings"], given["warnings"]


def test_rows_before_and_after_the_year_are_told_apart(tmp_path: Path) -> None:
    """Rows on both sides of the year run are two spans, not one running through it."""
    ledger = HEADER + (
        "2005-05-10,mental-health,council,spend,500.00,,mh-manager,\n"
        "2005-06-01,mental-health,council,spend,700.00,,mh-manager,\n"
        "2006-05-01,mental-health,council,spend,10.00,,mh-manager,\n"
        "2007-04-02,mental-health,council,spend,10.00,,mh-manager,\n"
    )
    path = str(write(tmp_path, ledger))
    data = run_json(str(HEREFORDSHIRE), "--ledger", path, "--as-of", "2006-06-30")
    assert (
        "the year run is 2006/07, the one holding the as-of date 2006-06-30; the ledger's rows "
        "dated outside it, on 2 days from 2005-05-10 to 2005-06-01 and on 1 day, 2007-04-02, "
        "are left out of the figures (`--year` names the year to run)"
    ) in data["warnings"], data["warnings"]


def test_the_text_counts_one_spend_in_the_singular_and_says_where_rejected_rows_are(
    tmp_path: Path,
) -> None:
    ledger = HEADER + (
        "2005-05-10,mental-health,council,spend,500.00,,mh-manager,true\n"
        "2005-05-11,mental-health,council,spend,five,,mh-manager,true\n"
    )
    result = run(str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, ledger)))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "ledger: 2 rows read, 1 used, 1 rejected (left out of every figure below; listed at the end)"
        in lines
    )
    assert "  approvals   1 spend, 0 breaching delegated authority" in lines
    assert "  approvals   0 spends, 0 breaching delegated authority" in lines
    assert "Rejected rows (1)" in lines


def test_the_text_counts_every_rejected_row_by_code_when_not_all_are_listed(
    tmp_path: Path,
) -> None:
    """Past the 50 rows listed, the rest would be only a number: every rejected row is counted
    by its code, most first."""
    good = "2005-05-10,mental-health,council,spend,500.00,,mh-manager,true\n"
    bad = (
        ["2005-05-11,mental-health,council,spend,five,,mh-manager,true\n"] * 40
        + ["2005-05-12,nowhere,council,spend,5.00,,mh-manager,true\n"] * 30
        + ["2005-13-12,mental-health,council,spend,5.00,,mh-manager,true\n"] * 30
        + ["2005-05-12,mental-health,council,spend,5.00,,mh-manager,maybe\n"] * 2
    )
    path = write(tmp_path, HEADER + good + "".join(bad))
    result = run(str(HEREFORDSHIRE), "--ledger", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = lines.index("Rejected rows (102)")
    assert lines[at + 51] == "  … and 52 more (use --format json for all)"
    assert lines[at + 52] == "  all by code: L003 40, L001 30, L002 30, L009 2"
    few = run(str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, HEADER + good + bad[0])))
    assert "all by code" not in few.output
    # all of one code: the title's count says it already
    one = run(str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, HEADER + good + bad[0] * 60)))
    assert "Rejected rows (60)" in one.output and "  … and 10 more" in one.output
    assert "all by code" not in one.output


def test_a_row_in_year_one_is_warned_of_not_a_traceback(tmp_path: Path) -> None:
    """A date whose financial year cannot be named (year 1) is still named as a day left out."""
    ledger = HEADER + (
        "2005-05-10,mental-health,council,spend,500.00,,mh-manager,\n"
        "0001-01-01,mental-health,council,spend,10.00,,mh-manager,\n"
    )
    data = run_json(str(HEREFORDSHIRE), "--ledger", str(write(tmp_path, ledger)))
    assert any(
        "on 1 day, 0001-01-01, are left out of the figures (`--year` names the year to run)" in w
        for w in data["warnings"]
    ), data["warnings"]


def test_the_months_are_named_not_numbered(tmp_path: Path) -> None:
    """`by month` names each month and its calendar year (`04/05` read as the financial year
    2004/05 to a finance officer)."""
    result = run(
        str(HEREFORDSHIRE), "--ledger", str(ROOT / "agreements" / "herefordshire-2005-06.csv")
    )
    assert result.exit_code == 0, result.output
    at = result.output.index("  by month\n")
    months = result.output[at:].splitlines()[1:4]
    assert [m.split()[0:2] for m in months] == [["Apr", "2005"], ["Aug", "2005"], ["Dec", "2005"]]
    assert "Mar 2006 £1,635,000" in result.output


def test_an_as_of_date_before_the_year_is_warned_of(tmp_path: Path) -> None:
    """`--year 2005/06 --as-of 2005-03-01` runs a year that has not begun: said, not only
    shown as empty figures (found by a regional analyst)."""
    data = run_json(
        str(HEREFORDSHIRE),
        "--ledger",
        str(ROOT / "agreements" / "herefordshire-2005-06.csv"),
        "--year",
        "2005/06",
        "--as-of",
        "2005-03-01",
    )
    assert (
        "the as-of date 2005-03-01 is before financial year 2005/06 begins (2005-04-01): none "
        "of the year's rows is counted yet"
    ) in data["warnings"], data["warnings"]
