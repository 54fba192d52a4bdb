"""Several years in one run: each year's carried-forward balance brought into the next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")


def _from_2004(text: str = HEREFORDSHIRE) -> str:
    """Herefordshire from 1 April 2004, with 2004/05 learning-disabilities contributions and a
    risk share that holds the first £714,000 of an overspend as a deficit (seed 004 §84)."""
    pairs = [
        ("  commencement: 2005-04-01", "  commencement: 2004-04-01"),
        (
            '      2005/06: { hpct: "£3,000,000", hc: "£6,300,000" }',
            '      2004/05: { hpct: "£2,900,000", hc: "£5,900,000" }\n'
            '      2005/06: { hpct: "£3,000,000", hc: "£6,300,000" }',
        ),
        (
            "      overspend:\n        first £280,000 to host\n        rest by contribution\n"
            "      underspend:\n        first £100,000 carried forward",
            "      overspend:\n        first £714,000 carried forward\n        rest by contribution\n"
            "      underspend:\n        first £100,000 carried forward",
        ),
    ]
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


LEDGER = """\
date,pool,element,kind,amount,approved_by
2004-06-01,learning-disabilities,council,spend,10300000.00,board
2005-06-01,learning-disabilities,council,spend,8400000.00,board
2006-06-01,learning-disabilities,council,spend,9450000.00,board
2007-03-31,mental-health,council,spend,1.00,board
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    agreement, ledger = tmp_path / "herefordshire.yaml", tmp_path / "ledger.csv"
    agreement.write_text(_from_2004(), "utf-8")
    ledger.write_text(LEDGER, "utf-8")
    return agreement, ledger


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", *args])
    return result.exit_code, result.output


def test_a_deficit_and_an_underspend_carried_through_three_years(files: tuple[Path, Path]) -> None:
    agreement, ledger = files
    code, out = _run(
        str(agreement), "--ledger", str(ledger), "--years", "2004/05..2006/07", "--format", "json"
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["years"] == ["2004/05", "2005/06", "2006/07"]
    ld = {
        r["year"]: next(p for p in r["pools"] if p["pool"] == "learning-disabilities")
        for r in data["runs"]
    }
    # 2004/05: £10,300,000 spent against £8,800,000: overspend £1,500,000. The first £714,000 is
    # held as a deficit; the rest, £786,000, by contribution 2.9m : 5.9m: hpct 25,902,272.73p,
    # hc 52,697,727.27p → the spare penny to hpct.
    y1 = ld["2004/05"]
    assert y1["brought_forward"] is None
    assert y1["variance"] == {"kind": "overspend", "amount": "1500000.00"}
    assert y1["settlement"] == {
        "shares": {"hpct": "259022.73", "hc": "526977.27"},
        "carried_forward": "714000.00",
    }
    # 2005/06: the £714,000 deficit is a first call on the £9,300,000 pool: £8,586,000 available,
    # £8,400,000 spent: underspend £186,000. The first £100,000 carried forward; £86,000 by
    # contribution 3m : 6.3m: hpct 2,774,193.55p, hc 5,825,806.45p → the penny to hpct.
    y2 = ld["2005/06"]
    assert y2["budget"] == "9300000.00"  # the year's contributions, as stated
    assert y2["brought_forward"] == {"kind": "overspend", "amount": "714000.00"}
    assert y2["variance"] == {"kind": "underspend", "amount": "186000.00"}
    assert y2["settlement"] == {
        "shares": {"hpct": "27741.94", "hc": "58258.06"},
        "carried_forward": "100000.00",
    }
    # 2006/07: £9,300,000 plus £100,000 brought forward; £9,450,000 spent: overspend £50,000,
    # all within the first £714,000, so carried forward into 2007/08 as a deficit.
    y3 = ld["2006/07"]
    assert y3["brought_forward"] == {"kind": "underspend", "amount": "100000.00"}
    assert y3["variance"] == {"kind": "overspend", "amount": "50000.00"}
    assert y3["settlement"]["carried_forward"] == "50000.00"
    chain = [c for c in data["chain"] if c["pool"] == "learning-disabilities"]
    assert [(c["year"], c["carried_forward"]) for c in chain] == [
        ("2004/05", {"kind": "overspend", "amount": "714000.00"}),
        ("2005/06", {"kind": "underspend", "amount": "100000.00"}),
        ("2006/07", {"kind": "overspend", "amount": "50000.00"}),
    ]


def test_one_year_keeps_the_single_year_contract(files: tuple[Path, Path]) -> None:
    agreement, ledger = files
    code, out = _run(
        str(agreement),
        "--ledger",
        str(ledger),
        "--year",
        "2005/06",
        "--as-of",
        "2006-03-31",
        "--format",
        "json",
    )
    assert code == 0
    pools = json.loads(out)["pools"]
    assert all("brought_forward" not in p for p in pools)
    ld = next(p for p in pools if p["pool"] == "learning-disabilities")
    # alone, 2005/06 knows nothing of the deficit: £9,300,000 − £8,400,000 = £900,000 under
    assert ld["variance"] == {"kind": "underspend", "amount": "900000.00"}


def test_the_text_shows_each_year_and_the_chain(files: tuple[Path, Path]) -> None:
    agreement, ledger = files
    code, out = _run(
        str(agreement), "--ledger", str(ledger), "--years", "2004/05..2006/07", "--explain"
    )
    assert code == 0, out
    assert out.count("financial year 2004/05") == 1 and out.count("financial year 2006/07") == 1
    assert (
        "a deficit of £714,000.00 carried forward from 2004/05 is a first call on this year's pool"
        in out
    )
    assert "Balances carried from year to year" in out
    assert "brought forward deficit £714,000.00" in out


@pytest.mark.parametrize(
    ("years", "message"),
    [
        ("2004/05", "is not a range of years"),
        ("2006/07..2004/05", "runs backwards"),
        ("2004/05..2008/09", "goes past the as-of date 2007-03-31"),
        ("2004/06..2005/06", "is not a financial year"),
    ],
)
def test_bad_ranges_are_usage_errors(files: tuple[Path, Path], years: str, message: str) -> None:
    agreement, ledger = files
    code, out = _run(str(agreement), "--ledger", str(ledger), "--years", years)
    assert code == 2
    assert message in out


def test_a_large_carried_forward_is_not_run_into_its_label(tmp_path: Path) -> None:
    text = HEREFORDSHIRE.replace(
        "      underspend:\n        first £100,000 carried forward",
        "      underspend:\n        first £6,300,000 carried forward",
    )
    agreement, ledger = tmp_path / "h.yaml", tmp_path / "l.csv"
    agreement.write_text(text, "utf-8")
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by\n"
        "2006-03-31,learning-disabilities,council,spend,1.00,board\n",
        "utf-8",
    )
    code, out = _run(str(agreement), "--ledger", str(ledger))
    assert code == 0
    assert "carried forward  £6,300,000.00" in out
