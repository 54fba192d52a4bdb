"""Disputes (LANGUAGE.md §7) and outcomes (§8) as `run` reports them on the as-of date.

Bank holidays in England used below: 26 and 27 Dec 2005, 2 Jan 2006, 14 and 17 Apr 2006,
1 May 2006, 5 May 2008, 25 Aug 2008.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agreementdsl.engine.run import run_ledger
from engine_support import compile_file, result_json

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
WATCH = ROOT / "tests" / "data" / "engine" / "watch.yaml"
LEDGER_HEADER = "date,pool,element,kind,amount\n"


@pytest.fixture(scope="module")
def herefordshire() -> dict[str, Any]:
    return compile_file(HEREFORDSHIRE)


@pytest.fixture(scope="module")
def watch() -> dict[str, Any]:
    return compile_file(WATCH)


def run_json(
    ir: dict[str, Any],
    tmp_path: Path,
    as_of: date,
    *,
    disputes: str | None = None,
    measures: str | None = None,
) -> dict[str, Any]:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER_HEADER, encoding="utf-8")
    paths: dict[str, Path] = {}
    for name, text in (("disputes", disputes), ("measures", measures)):
        if text is not None:
            paths[name] = tmp_path / f"{name}.csv"
            paths[name].write_text(text, encoding="utf-8")
    return result_json(run_ledger(ir, ledger, as_of=as_of, **paths))  # type: ignore[arg-type]


def standing(data: dict[str, Any], pool: str) -> list[tuple[Any, ...]]:
    found = next(p for p in data["pools"] if p["pool"] == pool)["disputes"]
    return [(d["id"], d["stage"], d["holder"], d["deadline"], d["overdue"]) for d in found]


DISPUTES_HEADER = "id,pool,raised_on,resolved_on,subject\n"

# ---------------------------------------------------------------- stage progression
# Mental health: 1. mh-manager within 10 working days; 2. board within 20 working days;
# 3. executives within 30 working days; 4. mediation by CEDR.  Raised Tuesday 20 Dec 2005:
#   stage 1: 21, 22, 23 Dec (3); 26, 27 Dec holidays; 28, 29, 30 Dec (6); 2 Jan holiday;
#            3, 4, 5, 6 Jan (10) → deadline Friday 6 Jan 2006.
#   stage 2 reached Saturday 7 Jan: 9–13 (5), 16–20 (10), 23–27 (15), 30 Jan–3 Feb (20)
#            → deadline Friday 3 Feb.
#   stage 3 reached Saturday 4 Feb: 6–10 (5), 13–17 (10), 20–24 (15), 27 Feb–3 Mar (20),
#            6–10 Mar (25), 13–17 Mar (30) → deadline Friday 17 Mar.
#   stage 4 reached Saturday 18 Mar: no time limit.
MH_LADDER = [
    ("2005-12-20", 1, "mh-manager", "2006-01-06"),
    ("2006-01-06", 1, "mh-manager", "2006-01-06"),
    ("2006-01-07", 2, "board", "2006-02-03"),
    ("2006-02-03", 2, "board", "2006-02-03"),
    ("2006-02-04", 3, "executives", "2006-03-17"),
    ("2006-03-17", 3, "executives", "2006-03-17"),
    ("2006-03-18", 4, "mediation by CEDR", None),
    ("2008-03-31", 4, "mediation by CEDR", None),
]


@pytest.mark.parametrize(("as_of", "stage", "holder", "deadline"), MH_LADDER)
def test_stage_progression_across_christmas(
    herefordshire: dict[str, Any],
    tmp_path: Path,
    as_of: str,
    stage: int,
    holder: str,
    deadline: str | None,
) -> None:
    disputes = DISPUTES_HEADER + "D9,mental-health,2005-12-20,,Placement costs\n"
    data = run_json(herefordshire, tmp_path, date.fromisoformat(as_of), disputes=disputes)
    assert standing(data, "mental-health") == [("D9", stage, holder, deadline, False)]
    assert standing(data, "learning-disabilities") == []


# Learning disabilities: 1. ld-manager within 10 working days; 2. board within 20 working days;
# 3. executives (no limit).  Raised Thursday 6 April 2006:
#   stage 1: 7 Apr (1), 10–13 (5), 14 and 17 Apr Easter, 18–21 (9), 24 Apr (10) → 24 April.
#   stage 2 reached 25 Apr: 26, 27, 28 (3), 1 May holiday, 2–5 May (7), 8–12 (12), 15–19 (17),
#            22, 23, 24 May (20) → 24 May.
#   stage 3 reached 25 May: executives, no limit, never overdue.
LD_LADDER = [
    ("2006-04-24", 1, "ld-manager", "2006-04-24"),
    ("2006-04-25", 2, "board", "2006-05-24"),
    ("2006-05-24", 2, "board", "2006-05-24"),
    ("2006-05-25", 3, "executives", None),
    ("2010-01-01", 3, "executives", None),
]


@pytest.mark.parametrize(("as_of", "stage", "holder", "deadline"), LD_LADDER)
def test_stage_progression_across_easter_and_a_last_stage_without_limit(
    herefordshire: dict[str, Any],
    tmp_path: Path,
    as_of: str,
    stage: int,
    holder: str,
    deadline: str | None,
) -> None:
    disputes = DISPUTES_HEADER + "L1,learning-disabilities,2006-04-06,,Respite charges\n"
    data = run_json(herefordshire, tmp_path, date.fromisoformat(as_of), disputes=disputes)
    assert standing(data, "learning-disabilities") == [("L1", stage, holder, deadline, False)]


# Pool `exact` of watch.yaml: 1. manager within 3 days; 2. board within 1 week (a last stage
# with a limit).  Raised Thursday 1 May 2008: stage 1 deadline Sunday 4 May (calendar days are
# not moved off weekends); stage 2 reached Monday 5 May (a bank holiday: irrelevant), deadline
# 5 + 7 = 12 May.  From 13 May it is past its last stage's deadline: overdue, and stays there.
LAST_WITH_LIMIT = [
    ("2008-05-04", 1, "manager", "2008-05-04", False),
    ("2008-05-05", 2, "board", "2008-05-12", False),
    ("2008-05-12", 2, "board", "2008-05-12", False),
    ("2008-05-13", 2, "board", "2008-05-12", True),
    ("2009-03-31", 2, "board", "2008-05-12", True),
]


@pytest.mark.parametrize(("as_of", "stage", "holder", "deadline", "overdue"), LAST_WITH_LIMIT)
def test_a_last_stage_with_a_limit_becomes_overdue_and_stays(
    watch: dict[str, Any],
    tmp_path: Path,
    as_of: str,
    stage: int,
    holder: str,
    deadline: str,
    overdue: bool,
) -> None:
    disputes = DISPUTES_HEADER + "X1,exact,2008-05-01,,Budget split\n"
    data = run_json(watch, tmp_path, date.fromisoformat(as_of), disputes=disputes)
    assert standing(data, "exact") == [("X1", stage, holder, deadline, overdue)]


def test_expert_determination_holder(watch: dict[str, Any], tmp_path: Path) -> None:
    # Pool `watch`: 1. manager within 10 working days; 2. expert determination.  Raised Friday
    # 15 Aug 2008: 18–22 Aug (5), 25 Aug holiday, 26–29 Aug (9), 1 Sep (10) → 1 September.
    disputes = DISPUTES_HEADER + "W1,watch,2008-08-15,,Overspend\n"
    on_time = run_json(watch, tmp_path, date(2008, 9, 1), disputes=disputes)
    assert standing(on_time, "watch") == [("W1", 1, "manager", "2008-09-01", False)]
    later = run_json(watch, tmp_path, date(2008, 9, 2), disputes=disputes)
    assert standing(later, "watch") == [("W1", 2, "expert determination", None, False)]


def test_only_open_disputes_are_listed(herefordshire: dict[str, Any], tmp_path: Path) -> None:
    disputes = DISPUTES_HEADER + (
        "A,mental-health,2006-01-02,2006-01-10,resolved on the as-of date\n"
        "B,mental-health,2006-01-02,2006-01-09,resolved before it\n"
        "C,mental-health,2006-01-02,2006-01-11,resolved after it: open on the as-of date\n"
        "D,mental-health,2006-01-11,,raised after the as-of date\n"
        "E,mental-health,2006-01-10,,raised on the as-of date\n"
    )
    data = run_json(herefordshire, tmp_path, date(2006, 1, 10), disputes=disputes)
    # C: raised Mon 2 Jan (a holiday) → 3–6 Jan (4), 9–13 (9), 16 Jan (10).
    # E: raised Tue 10 Jan → 11–13 (3), 16–20 (8), 23, 24 Jan (10).
    assert standing(data, "mental-health") == [
        ("C", 1, "mh-manager", "2006-01-16", False),
        ("E", 1, "mh-manager", "2006-01-24", False),
    ]
    found = next(p for p in data["pools"] if p["pool"] == "mental-health")["disputes"]
    assert found[0]["raised_on"] == "2006-01-02"


def test_bad_dispute_rows_are_rejected_with_a_file_field(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    disputes = DISPUTES_HEADER + (
        "G1,mental-health,2005-11-01,,good\n"  # line 2
        ",mental-health,2005-11-01,,no id\n"  # line 3: D001
        "B2,mental-heath,2005-11-01,,unknown pool\n"  # line 4: D002
        "B3,mental-health,2005-11-31,,bad raised_on\n"  # line 5: D003
        "B4,mental-health,2005-11-01,soon,bad resolved_on\n"  # line 6: D003
        "B5,mental-health,2005-11-01,2005-10-01,resolved before raised\n"  # line 7: D004
    )
    data = run_json(herefordshire, tmp_path, date(2005, 11, 2), disputes=disputes)
    path = str(tmp_path / "disputes.csv")
    assert [(r["row"], r["code"], r.get("file")) for r in data["rejected"]] == [
        (3, "D001", path),
        (4, "D002", path),
        (5, "D003", path),
        (6, "D003", path),
        (7, "D004", path),
    ]
    assert data["rows"] == {"read": 0, "used": 0, "rejected": 0}  # ledger rows only
    assert [d[0] for d in standing(data, "mental-health")] == ["G1"]


# ---------------------------------------------------------------- outcomes (§8)
def outcomes(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (o["id"], o["period"], o["value"], o["target"], o["status"]) for o in data["outcomes"]
    )


def test_herefordshire_measures(herefordshire: dict[str, Any], tmp_path: Path) -> None:
    # Target >= 80: Q1 76 missed, Q2 79 missed, Q4 82 met; Q3 (to 31 Dec 2005) has no
    # measurement and has ended by 31 March 2006: missing.
    measures = (ROOT / "agreements" / "herefordshire-measures.csv").read_text("utf-8")
    data = run_json(herefordshire, tmp_path, date(2006, 3, 31), measures=measures)
    assert outcomes(data) == [
        ("mh-user-satisfaction", "2005/06 Q1", "76", ">= 80", "missed"),
        ("mh-user-satisfaction", "2005/06 Q2", "79", ">= 80", "missed"),
        ("mh-user-satisfaction", "2005/06 Q3", None, ">= 80", "missing"),
        ("mh-user-satisfaction", "2005/06 Q4", "82", ">= 80", "met"),
    ]


MEASURES = (
    "outcome,period,value\n"
    "waiting-weeks,2008/09 Q1,9.5\n"  # < 10: met
    "waiting-weeks,2008/09 Q2,10\n"  # < 10 is strict: missed
    "waiting-weeks,2007/08 Q4,3\n"  # another year: not judged
    "reports-on-time,2008/09,100.0\n"  # = 100: met (numerically equal)
    "satisfaction,2008/09 Q1,80.5\n"  # >= 80.5: met
    "satisfaction,2008/09 Q3,80.49\n"  # missed
)


def test_outcomes_met_missed_and_missing(watch: dict[str, Any], tmp_path: Path) -> None:
    # As of 31 Dec 2008 quarters 1–3 have ended: waiting-weeks has no Q3 measurement, and
    # satisfaction no Q2: both missing.  The annual outcome's year has not ended: judged, not
    # missing.
    data = run_json(watch, tmp_path, date(2008, 12, 31), measures=MEASURES)
    assert outcomes(data) == [
        ("reports-on-time", "2008/09", "100.0", "= 100", "met"),
        ("satisfaction", "2008/09 Q1", "80.5", ">= 80.5", "met"),
        ("satisfaction", "2008/09 Q2", None, ">= 80.5", "missing"),
        ("satisfaction", "2008/09 Q3", "80.49", ">= 80.5", "missed"),
        ("waiting-weeks", "2008/09 Q1", "9.5", "< 10", "met"),
        ("waiting-weeks", "2008/09 Q2", "10", "< 10", "missed"),
        ("waiting-weeks", "2008/09 Q3", None, "< 10", "missing"),
    ]


def test_a_period_is_missing_only_once_it_has_ended(watch: dict[str, Any], tmp_path: Path) -> None:
    data = run_json(watch, tmp_path, date(2008, 12, 30), measures=MEASURES)
    assert [o for o in outcomes(data) if o[4] == "missing"] == [
        ("satisfaction", "2008/09 Q2", None, ">= 80.5", "missing")
    ]
    # At the year's end the annual outcome needs its measurement, and Q4 is due.
    measures = "outcome,period,value\n"
    data = run_json(watch, tmp_path, date(2009, 3, 31), measures=measures)
    missing = [(o[0], o[1]) for o in outcomes(data)]
    assert ("reports-on-time", "2008/09") in missing
    assert ("waiting-weeks", "2008/09 Q4") in missing
    assert len(missing) == 1 + 4 + 4


def test_bad_measurement_rows_are_rejected_with_a_file_field(
    watch: dict[str, Any], tmp_path: Path
) -> None:
    measures = (
        "outcome,period,value\n"
        "waiting-time,2008/09 Q1,9\n"  # line 2: M001 unknown outcome
        "waiting-weeks,2008/10 Q1,9\n"  # line 3: M002 not a financial year
        "waiting-weeks,2008/09 Q5,9\n"  # line 4: M002 no such quarter
        "waiting-weeks,2008/09 Q1,n/a\n"  # line 5: M003
        "waiting-weeks,2008/09 Q1,9\n"  # line 6: good
    )
    data = run_json(watch, tmp_path, date(2008, 6, 30), measures=measures)
    path = str(tmp_path / "measures.csv")
    assert [(r["row"], r["code"], r["file"]) for r in data["rejected"]] == [
        (2, "M001", path),
        (3, "M002", path),
        (4, "M002", path),
        (5, "M003", path),
    ]
    assert data["rows"] == {"read": 0, "used": 0, "rejected": 0}
    assert ("waiting-weeks", "2008/09 Q1", "9", "< 10", "met") in outcomes(data)


def test_a_disputes_header_is_read_regardless_of_case_and_a_near_miss_stops_the_run(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from agreementdsl.cli import main

    root = Path(__file__).resolve().parents[1] / "agreements"
    args = ["run", str(root / "herefordshire.yaml"), "--ledger"]
    args += [str(root / "herefordshire-2005-06.csv"), "--format", "json", "--disputes"]
    cased = tmp_path / "cased.csv"
    cased.write_text(
        "ID, Pool ,Raised_On,Resolved_On,Subject\nD1,mental-health,2005-11-01,2005-11-20,x\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, [*args, str(cased)])
    assert result.exit_code == 0, result.output
    assert '"disputes": []' in result.output  # resolved on 20 November: not open
    typo = tmp_path / "typo.csv"
    typo.write_text(
        "id,pool,raised_on,reslved_on,subject\nD1,mental-health,2005-11-01,2005-11-20,x\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, [*args, str(typo)])
    assert result.exit_code == 1
    assert "error[L013]" in result.output and "is it `resolved_on`?" in result.output
