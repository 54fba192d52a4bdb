"""`agreementdsl test --update` writes only what the engine produced, says what it rewrote, and
says what it could not write (the scenario then still fails, for a reason it names)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIRST = """    outturn: "£18,140,000"            # net expenditure for the year
    expect:
      overspend: "£740,000"
      settlement: { hpct: "£631,609.20", hc: "£108,390.80" }"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name in ("herefordshire.yaml", "herefordshire.test.yaml"):
        shutil.copy(ROOT / "agreements" / name, tmp_path / name)
    return tmp_path


def update(workspace: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["test", str(workspace), "--update"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_an_overspend_that_cannot_hold_is_not_written_as_null(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    # £17,000,000 is £400,000 under the budget: the expected overspend cannot hold.
    broken = test.read_text("utf-8").replace(FIRST, FIRST.replace("£18,140,000", "£17,000,000"))
    test.write_text(broken, "utf-8")
    code, out, err = update(workspace)
    text = test.read_text("utf-8")
    assert "overspend: null" not in text
    assert '      overspend: "£740,000"\n' in text  # left as it was
    assert "herefordshire.test.yaml:9: 2005/06 mental health overspend: `overspend` is not " in err
    assert "the engine gives no overspend: it gives an underspend of £400,000" in err
    assert "rewrote 2005/06 mental health overspend: settlement" in err
    assert code == 1  # the scenario still fails, and the report says why
    assert "overspend (line 9)" in out


def test_update_says_what_it_rewrote(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    test.write_text(text.replace('overspend: "£740,000"', 'overspend: "£740,001"', 1), "utf-8")
    code, _, err = update(workspace)
    assert code == 0
    assert f"updated {test}" in err
    assert "  rewrote 2005/06 mental health overspend: overspend\n" in err
    assert "could not update" not in err
    assert test.read_text("utf-8") == text


def test_a_dispute_that_is_not_open_is_not_written(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    expected = "        D1: { stage: 4, holder: mediation by CEDR, overdue: false }\n"
    broken = test.read_text("utf-8").replace(expected, expected.replace("D1:", "D9:"))
    test.write_text(broken, "utf-8")
    code, _, err = update(workspace)
    assert test.read_text("utf-8") == broken  # no `D9: not open`
    assert "dispute D9: the engine has no open dispute by that id" in err
    assert code == 1


def test_expectations_in_one_flow_mapping_are_left_whole_and_reported(tmp_path: Path) -> None:
    shutil.copy(ROOT / "agreements" / "herefordshire.yaml", tmp_path / "herefordshire.yaml")
    test = tmp_path / "herefordshire.test.yaml"
    text = (
        "agreement: herefordshire-mh-ld\nscenarios:\n  - name: flow\n    pool: mental-health\n"
        '    year: 2005/06\n    as_of: 2005-04-01\n    expect: { actual: "£1" }\n'
    )
    test.write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path), "--update"])
    assert test.read_text("utf-8") == text  # never a broken file
    assert "`actual` not rewritten: the expectations are written as one `{ … }` mapping" in (
        result.output
    )


def test_a_share_for_a_partner_the_engine_does_not_know_is_not_written(tmp_path: Path) -> None:
    shutil.copy(ROOT / "agreements" / "herefordshire.yaml", tmp_path / "herefordshire.yaml")
    test = tmp_path / "herefordshire.test.yaml"
    text = (
        "agreement: herefordshire-mh-ld\nscenarios:\n  - name: stranger\n    pool: mental-health\n"
        '    year: 2005/06\n    outturn: "£18,140,000"\n    expect:\n'
        '      settlement: { hpct: "£1", nobody: "£2" }\n'
    )
    test.write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path), "--update"])
    assert test.read_text("utf-8") == text
    assert "the engine gives no share for `nobody`" in result.output
