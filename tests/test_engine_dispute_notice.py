"""Any partner serves a dispute notice: the optional `raised_by` column of the disputes file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from agreementdsl.engine.run import run_ledger
from engine_support import compile_file, result_json

ROOT = Path(__file__).resolve().parents[1]
IR = compile_file(ROOT / "agreements" / "herefordshire.yaml")


def test_the_partner_that_served_the_notice_is_shown_and_a_stranger_rejected(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("date,pool,kind,amount\n2005-04-01,mental-health,income,0\n", "utf-8")
    disputes = tmp_path / "disputes.csv"
    disputes.write_text(
        "id,pool,raised_on,resolved_on,subject,raised_by\n"
        "D1,mental-health,2005-11-01,,placement costs,HC\n"
        "D2,mental-health,2005-11-02,,charges,the-ombudsman\n"
        "D3,mental-health,2005-11-03,,staff,\n",
        "utf-8",
    )
    data = result_json(run_ledger(IR, ledger, disputes=disputes, as_of=date(2005, 11, 30)))
    assert data["rejected"] == [
        {
            "row": 3,
            "code": "D006",
            "message": "raised_by 'the-ombudsman' is not a partner of the agreement: only a "
            "partner serves a dispute notice",
            "file": str(disputes),
        }
    ]
    found = {d["id"]: d["raised_by"] for d in data["pools"][0]["disputes"]}
    # ids are matched regardless of case; a file that does not say gives null
    assert found == {"D1": "hc", "D3": None}
