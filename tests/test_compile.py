"""The IR: contributions evaluated with their working, host resolved, authority ranked, spans kept."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from agreementdsl import load
from agreementdsl.cli import main
from agreementdsl.compile import IR_VERSION, compile_agreement

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"


def _ir() -> dict:
    loaded = load(HEREFORDSHIRE)
    assert loaded.agreement is not None and loaded.source is not None
    return compile_agreement(loaded.agreement, loaded.source.text)


def test_contributions_are_evaluated_half_up_with_their_working() -> None:
    mh = _ir()["pools"][0]
    year = mh["contributions"][1]
    assert year["year"] == "2006/07"
    assert year["total"] == "17732500.00"
    hpct = year["partners"][0]
    assert hpct["amount"] == "13632500.00"
    assert "2.5% of £13,300,000.00 = £332,500.00" in hpct["working"]


def test_to_host_names_the_host_and_keeps_the_words() -> None:
    step = _ir()["pools"][0]["risk_share"]["overspend"]["steps"][0]
    assert step["allocation"] == {"type": "to", "partner": "hpct", "as_written": "host"}
    assert step["amount"] == "280000.00"
    assert step["text"] == "first £280,000 to host"
    assert step["span"]["line"] == 47


def test_authority_ranks_follow_the_highest_limit_then_the_later_mention() -> None:
    ir = _ir()
    assert ir["pools"][0]["authority"] == {"mh-manager": 1, "board": 2, "executives": 3}
    # `above: executives and board`: both highest, board named later ranks higher.
    assert ir["pools"][1]["authority"] == {"ld-manager": 1, "executives": 2, "board": 3}


def test_every_rule_keeps_its_source_line() -> None:
    ir = _ir()
    lines = HEREFORDSHIRE.read_text("utf-8").split("\n")
    for pool in ir["pools"]:
        for rule in pool["spending"]:
            assert rule["approvers"][0] in lines[rule["span"]["line"] - 1]
        for duty in pool["reporting"]:
            assert duty["to"] in lines[duty["span"]["line"] - 1]
        for stage in pool["disputes"]:
            assert lines[stage["span"]["line"] - 1].strip().startswith(f"{stage['stage']}.")


def test_compile_command_writes_versioned_json(tmp_path: Path) -> None:
    out = tmp_path / "ir.json"
    result = CliRunner().invoke(main, ["compile", str(HEREFORDSHIRE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    ir = json.loads(out.read_text("utf-8"))
    assert ir["ir_version"] == IR_VERSION
    assert len(ir["source"]["sha256"]) == 64


def test_compile_refuses_an_agreement_with_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEREFORDSHIRE.read_text("utf-8").replace("to host", "to nobody"))
    result = CliRunner().invoke(main, ["compile", str(bad)])
    assert result.exit_code == 1
    assert "error[E301]" in result.output
