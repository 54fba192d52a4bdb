"""`run FOLDER --ledger L`: every agreement of a folder over one ledger, read once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
LEDGER = """date,pool,element,kind,amount,approved_by,in_plan
2005-05-01,mental-health,council,spend,1000.00,mh-manager,true
2005-06-01,west-mh,council,spend,300000.00,board,true
2005-07-01,west-mh,council,income,500.50,,
2005-08-01,nowhere,council,spend,10.00,,
2005-09-01,learning-disabilities,council,spend,2000.00,ld-manager,true
2006-03-31,mental-health,council,spend,twelve,,
"""


def region(tmp_path: Path) -> tuple[Path, Path]:
    """Two agreements (east: Herefordshire; west: the same clauses with pools `west-mh` and
    `west-ld`), a scenario file that is not an agreement, and a ledger holding both areas."""
    folder = tmp_path / "region"
    folder.mkdir()
    text = HEREFORDSHIRE.read_text("utf-8")
    (folder / "east.yaml").write_text(text, "utf-8")
    west = (
        text.replace("  id: herefordshire-mh-ld", "  id: west-mh-ld")
        .replace("\n  mental-health:", "\n  west-mh:")
        .replace("pool: mental-health", "pool: west-mh")
        .replace("\n  learning-disabilities:", "\n  west-ld:")
    )
    (folder / "west.yaml").write_text(west, "utf-8")
    (folder / "east.test.yaml").write_text("not: an agreement\n", "utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, "utf-8")
    return folder, ledger


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_one_result_per_agreement_with_hand_worked_figures(tmp_path: Path, engine: str) -> None:
    folder, ledger = region(tmp_path)
    code, out = run(str(folder), "--ledger", str(ledger), "--format", "json", "--engine", engine)
    assert code == 0, out
    data = json.loads(out)
    # 6 rows: row 5's pool is no agreement's; row 7's amount is not a number (L003).
    assert data["ledger"] == {"read": 6, "used": 4, "rejected": 1, "unassigned": 1}
    assert [(r["row"], r["code"]) for r in data["unassigned"]] == [(5, "L002")]
    assert list(data["agreements"]) == ["east.yaml", "west.yaml"]
    east, west = data["agreements"]["east.yaml"], data["agreements"]["west.yaml"]
    assert east["agreement"] == "herefordshire-mh-ld" and west["agreement"] == "west-mh-ld"
    for result in (east, west):
        assert result["as_of"] == "2005-09-01"  # the last usable date of the ledger
        assert [(r["row"], r["code"]) for r in result["rejected"]] == [(7, "L003")]
    pools = {p["pool"]: p for r in (east, west) for p in r["pools"]}
    assert {k: p["actual"] for k, p in pools.items()} == {
        "mental-health": "1000.00",
        "learning-disabilities": "2000.00",
        "west-mh": "299499.50",  # £300,000.00 spent less £500.50 income
        "west-ld": "0.00",
    }
    approvals = {k: [(a["row"], a["compliant"]) for a in p["approvals"]] for k, p in pools.items()}
    assert approvals == {
        "mental-health": [(2, True)],  # up to £50,000 within plan: mh-manager
        "learning-disabilities": [(6, True)],  # up to £25,000 within plan: ld-manager
        "west-mh": [(3, False)],  # above £250,000: executives, not the board
        "west-ld": [],
    }
    assert pools["west-mh"]["approvals"][0]["required"] == ["executives"]


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_each_agreement_gets_what_its_own_run_gives(tmp_path: Path, engine: str) -> None:
    """Pools, approvals, split orders and warnings as a run of the agreement alone (found by a
    user: a folder run once reported no split order, and no R020 warning, on either engine)."""
    folder, ledger = region(tmp_path)
    with ledger.open("a") as f:  # a split order in each agreement: one supplier, one day
        for pool in ("mental-health", "west-mh"):
            for amount in ("40000.00", "30000.00"):
                f.write(f"2005-06-03,{pool},council,spend,{amount},mh-manager,true\n")
    text = ledger.read_text().replace("approved_by,in_plan\n", "approved_by,in_plan,supplier\n")
    text = re.sub(r"(?m)^(20[0-9-]{8},.*)$", r"\1,", text)  # no supplier
    ledger.write_text(re.sub(r"(?m)^(2005-06-03,.*),$", r"\1,Oak House", text))
    options = [
        "--ledger",
        str(ledger),
        "--format",
        "json",
        "--engine",
        engine,
        "--as-of",
        "2005-09-01",
    ]
    _, out = run(str(folder), *options)
    many = json.loads(out)["agreements"]
    alone = {}
    for name in ("east.yaml", "west.yaml"):
        single = alone[name] = json.loads(run(str(folder / name), *options)[1])
        assert many[name]["pools"] == single["pools"]
        assert [len(p["split_orders"]) for p in single["pools"]] == [1, 0]
        r020 = [w for w in single["warnings"] if w.startswith("R020")]
        assert r020 and r020 == [w for w in many[name]["warnings"] if w.startswith("R020")]
    # alone, the west rows are rejected as no pool of the agreement; in the folder run they are
    # west's, and only row 5 is nobody's
    assert [r["row"] for r in alone["east.yaml"]["rejected"]] == [3, 4, 5, 7, 10, 11]


def test_only_an_agreements_own_rows_are_said_to_be_left_out(tmp_path: Path) -> None:
    """The warning that rows after the as-of date are left out counts an agreement's own rows
    only (found by a user: west was warned of east's later rows, which it never had)."""
    folder, ledger = region(tmp_path)
    with ledger.open("a") as f:
        f.write("2006-03-01,mental-health,council,spend,10.00,mh-manager,true\n")
    _, out = run(str(folder), "--ledger", str(ledger), "--format", "json", "--as-of", "2005-07-31")
    many = json.loads(out)["agreements"]
    late = [w for w in many["east.yaml"]["warnings"] if "the figures leave them out" in w]
    assert late and "up to 2006-03-01" in late[0]
    assert not [w for w in many["west.yaml"]["warnings"] if "the figures leave them out" in w]


def test_one_agreement_in_a_folder_is_one_agreement(tmp_path: Path) -> None:
    folder, ledger = region(tmp_path)
    (folder / "west.yaml").unlink()
    code, out = run(str(folder), "--ledger", str(ledger))
    assert code == 0 and "1 agreement over one ledger:" in out


def test_text_has_a_section_per_agreement_and_the_unassigned_rows(tmp_path: Path) -> None:
    folder, ledger = region(tmp_path)
    code, out = run(str(folder), "--ledger", str(ledger))
    assert code == 0
    assert out.startswith(
        "2 agreements over one ledger: 6 rows read, 1 rejected, 1 in no agreement's pool\n"
    )
    assert out.index("== east.yaml ==") < out.index("== west.yaml ==")
    assert (
        "Rows in no agreement's pool (1)\n         row 5  L002  pool 'nowhere' is not a pool of "
        "any agreement in the folder\n"
    ) in out
    assert "    row 3            £300,000.00  needs executives, approved by board\n" in out
    code, out = run(str(folder), "--ledger", str(ledger), "--strict")
    assert code == 1  # row 7 (and row 5) rejected, and said so
    assert "exit 1 (--strict): 2 ledger rows rejected or in no agreement's pool" in out
    code, out = run(str(folder / "east.yaml"), "--ledger", str(ledger), "--strict")
    assert code == 1 and "exit 1 (--strict): 4 ledger rows rejected" in out
    clean = tmp_path / "clean.csv"
    clean.write_text("".join(LEDGER.splitlines(keepends=True)[:2]), "utf-8")
    code, out = run(str(folder / "east.yaml"), "--ledger", str(clean), "--strict")
    assert code == 0 and "--strict" not in out


def test_a_pool_in_two_agreements_stops_the_run(tmp_path: Path) -> None:
    folder, ledger = region(tmp_path)
    (folder / "west.yaml").write_text(HEREFORDSHIRE.read_text("utf-8"), "utf-8")
    code, out = run(str(folder), "--ledger", str(ledger))
    assert code == 1
    assert "error[X002]: pool `mental-health` is in both east.yaml and west.yaml" in out


def test_a_folder_without_agreements_or_with_a_broken_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, "utf-8")
    code, out = run(str(empty), "--ledger", str(ledger))
    assert code == 2 and "the folder holds no agreement" in out
    (empty / "bad.yaml").write_text("agreement: [\n", "utf-8")
    code, out = run(str(empty), "--ledger", str(ledger))
    assert code == 1 and "cannot run" in out
    code, out = run(str(empty), "--ledger", str(ledger), "--years", "2005/06..2005/06")
    assert code == 2


def test_a_folder_runs_the_agreements_check_finds(tmp_path: Path) -> None:
    """`run FOLDER` takes the agreements `check FOLDER` checks: those in subfolders too (keyed
    by their path within the folder), and not a YAML file that is no agreement (a user's
    region passed `check`, then `run` refused its config.yml; and an agreement in a subfolder
    was left out without a word, its rows reported as in no agreement's pool)."""
    folder, ledger = region(tmp_path)
    west = folder / "west.yaml"
    (folder / "areas").mkdir()
    west.rename(folder / "areas" / "west.yaml")
    (folder / "config.yml").write_text("settings:\n  colour: blue\n", "utf-8")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "old.yaml").write_text(HEREFORDSHIRE.read_text("utf-8"), "utf-8")
    checked = CliRunner().invoke(main, ["check", str(folder)])
    assert checked.exit_code == 0 and "checked 2 files" in checked.output, checked.output
    code, out = run(str(folder), "--ledger", str(ledger), "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert list(data["agreements"]) == ["areas/west.yaml", "east.yaml"]
    assert [r["row"] for r in data["unassigned"]] == [5]
    code, text = run(str(folder), "--ledger", str(ledger))
    assert code == 0 and "== areas/west.yaml ==" in text


def test_rows_outside_the_year_are_warned_without_naming_years_a_folder_refuses(
    tmp_path: Path,
) -> None:
    """A row dated a year on moves the default year; the warning's hint names `--year` only,
    since a folder run refuses `--years` (a single agreement's names both)."""
    folder, ledger = region(tmp_path)
    ledger.write_text(LEDGER + "2006-04-01,mental-health,council,spend,10.00,mh-manager,true\n")
    code, out = run(str(folder), "--ledger", str(ledger), "--format", "json")
    assert code == 0, out
    warnings = [w for result in json.loads(out)["agreements"].values() for w in result["warnings"]]
    said = [w for w in warnings if "rows dated outside it" in w]
    assert len(said) == 2, warnings  # each agreement's
    assert all(w.endswith("(`--year 2005/06` runs the year they are in)") for w in said)
    # west's as-of date is east's last row, still the ledger's last date (found by a review)
    assert all("as-of date 2006-04-01 (the ledger's last date);" in w for w in said), said
    code, out = run(str(folder), "--ledger", str(ledger), "--years")
    assert code != 0 and "--years" in out
    # the refusal names the options given, not every one a folder run refuses
    code, out = run(str(folder), "--ledger", str(ledger), "--explain-row", "3")
    assert code == 2 and (
        "a folder of agreements runs one year of each: drop --explain-row (each goes with a run "
        "of one agreement)"
    ) in " ".join(out.split()), out
