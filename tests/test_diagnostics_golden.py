"""Diagnostics as a specification: one defective agreement per check, and what `check` prints.

Each `tests/defects/<CODE>-<slug>.yaml` is the valid `tests/defects/baseline.yaml` with exactly
one thing wrong; `tests/golden/diagnostics/<CODE>-<slug>.txt` is the output of
`agreementdsl check tests/defects/<CODE>-<slug>.yaml` run from the repository root. When a
message changes on purpose, refresh the golden files with

    pytest tests/test_diagnostics_golden.py --update-golden

and review the diff. Every code the checker can emit has a defect file here and a section in
docs/errors.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from agreementdsl.cli import main

if TYPE_CHECKING:
    from conftest import Golden

ROOT = Path(__file__).resolve().parents[1]
DEFECTS = Path("tests/defects")  # relative to ROOT, so that paths in the output are stable
GOLDEN = Path("tests/golden/diagnostics")
ERRORS_DOC = ROOT / "docs" / "errors.md"

CODE = re.compile(r"^[EW][0-9]{3}$")
# R codes are those of `report`, `whatif` and `serve`: documented and titled like check's
CODE_IN_SOURCE = re.compile(r"""["']([EWR][0-9]{3})["']""")
CODE_HEADING = re.compile(r"^## ([EWRX][0-9]{3})\b", re.MULTILINE)
# Codes of `run` that stop it (the X range, issue 11's executors): titled and documented like
# the checker's, but no defect file makes them.
RUN_CODE_IN_SOURCE = re.compile(r"""["'](X[0-9]{3})["']""")
ANSI = "\x1b["

# A defect is one file, or a folder when it takes several agreements (such as a shared id).
DEFECT_NAMES = sorted(
    [p.stem for p in (ROOT / DEFECTS).glob("*.yaml")]
    + [p.name for p in (ROOT / DEFECTS).iterdir() if p.is_dir()]
)


def defect_path(name: str) -> Path:
    single = DEFECTS / f"{name}.yaml"
    return single if (ROOT / single).is_file() else DEFECTS / name


MULTI = "multi-independent-problems"
MULTI_CODES = {"E102", "E201", "E302", "E404", "E505", "E604", "W802"}


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def check(*args: str) -> Result:
    result = CliRunner().invoke(main, ["check", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback in the checker is a bug, never a diagnostic
    return result


def code_of(name: str) -> str | None:
    head = name.split("-", 1)[0]
    return head if CODE.match(head) else None


def source_codes() -> set[str]:
    """Every diagnostic code written in the checker's sources and its JSON Schema."""
    src = ROOT / "src" / "agreementdsl"
    files = [*src.rglob("*.py"), *src.rglob("*.json")]
    return {code for f in files for code in CODE_IN_SOURCE.findall(f.read_text("utf-8"))}


def run_codes() -> set[str]:
    src = ROOT / "src" / "agreementdsl"
    return {c for f in src.rglob("*.py") for c in RUN_CODE_IN_SOURCE.findall(f.read_text("utf-8"))}


# ---------------------------------------------------------------- golden outputs
@pytest.mark.usefixtures("at_root")
@pytest.mark.parametrize("name", DEFECT_NAMES)
def test_check_output_matches_its_golden_file(name: str, golden: Golden) -> None:
    result = check(str(defect_path(name)))
    output = result.output
    assert ANSI not in output, "the output of a non-terminal must carry no colour codes"
    golden.check(ROOT / GOLDEN / f"{name}.txt", output)

    code = code_of(name)
    if code is not None:
        severity = "error" if code.startswith("E") else "warning"
        assert f": {severity}[{code}]: " in output
        assert result.exit_code == (1 if severity == "error" else 0)
        if severity == "warning":
            assert "0 errors," in output


@pytest.mark.usefixtures("at_root")
def test_the_baseline_every_defect_starts_from_is_clean() -> None:
    result = check(str(DEFECTS / "baseline.yaml"))
    assert result.exit_code == 0
    assert result.output == "checked 1 file: 0 errors, 0 warnings\n"


def test_every_code_in_the_checker_has_a_defect_file() -> None:
    covered = {code_of(name) for name in DEFECT_NAMES} - {None}
    checker = {c for c in source_codes() if CODE.match(c)}  # R codes are tested in test_report_*
    assert sorted(checker - covered) == [], "codes without a tests/defects/ file"
    assert sorted(covered - checker) == [], "defect files for codes the checker lacks"


def test_every_golden_file_belongs_to_a_defect_file() -> None:
    stale = sorted(p.name for p in (ROOT / GOLDEN).glob("*.txt") if p.stem not in set(DEFECT_NAMES))
    assert stale == []


# ---------------------------------------------------------------- collecting, not stopping
@pytest.mark.usefixtures("at_root")
def test_several_independent_problems_are_all_reported_in_one_run() -> None:
    result = check("--format", "json", str(DEFECTS / f"{MULTI}.yaml"))
    assert result.exit_code == 1
    report = json.loads(result.output)
    codes = [d["code"] for d in report["diagnostics"]]
    assert set(codes) == MULTI_CODES
    assert len(codes) == len(MULTI_CODES)
    assert report["errors"] == 6
    assert report["warnings"] == 1


# ---------------------------------------------------------------- machine-readable output
@pytest.mark.usefixtures("at_root")
def test_json_format_gives_code_position_and_severity() -> None:
    path = str(DEFECTS / "E302-unknown-role.yaml")
    result = check("--format", "json", path)
    assert result.exit_code == 1
    assert ANSI not in result.output
    report = json.loads(result.output)
    assert report["errors"] == 1
    assert report["warnings"] == 0
    [diag] = report["diagnostics"]
    assert diag["code"] == "E302"
    assert diag["severity"] == "error"
    assert diag["file"] == path
    assert (diag["line"], diag["col"]) == (44, 14)
    assert (diag["end_line"], diag["end_col"]) == (44, 20)
    assert diag["message"] == "unknown role `boards` as an approver"
    assert diag["hint"] == "did you mean `board`?"


@pytest.mark.usefixtures("at_root")
def test_json_format_reports_a_warning_with_exit_0() -> None:
    result = check("--format", "json", str(DEFECTS / "W701-limits-do-not-ascend.yaml"))
    assert result.exit_code == 0
    [diag] = json.loads(result.output)["diagnostics"]
    assert (diag["code"], diag["severity"], diag["line"], diag["col"]) == (
        "W701",
        "warning",
        44,
        7,
    )


@pytest.mark.usefixtures("at_root")
def test_strict_turns_a_warning_into_a_failure() -> None:
    result = check("--strict", str(DEFECTS / "W901-no-outcomes.yaml"))
    assert result.exit_code == 1
    assert ": warning[W901]: " in result.output


# ---------------------------------------------------------------- docs/errors.md
def test_every_code_is_documented_in_errors_md_and_every_section_is_a_real_code() -> None:
    headings = CODE_HEADING.findall(ERRORS_DOC.read_text("utf-8"))
    codes = source_codes() | run_codes()
    assert sorted(codes - set(headings)) == [], "codes missing from docs/errors.md"
    assert sorted(set(headings) - codes) == [], "docs/errors.md documents unknown codes"
    assert headings == sorted(set(headings)), "one section per code, in code order"


DOC_BLOCK = re.compile(r"```text\n(tests/defects/(?P<name>[^:]+)\.yaml:[^\n]*\n.*?)```", re.S)


def _doc_with_current_output(doc: str) -> str:
    """docs/errors.md with each quoted diagnostic replaced by the same one from its golden file."""

    def current(match: re.Match[str]) -> str:
        golden_file = ROOT / GOLDEN / f"{match['name']}.txt"
        if not golden_file.is_file():
            return match.group(0)
        first_line = match.group(1).split("\n", 1)[0]
        code = re.search(r"\[([EW][0-9]{3})\]", first_line)
        blocks = golden_file.read_text("utf-8").split("\n\nchecked ")[0].split("\n\n")
        same = [b for b in blocks if code and f"[{code.group(1)}]" in b.split("\n", 1)[0]]
        return f"```text\n{(same or blocks)[0].rstrip()}\n```"

    return DOC_BLOCK.sub(current, doc)


def test_messages_quoted_in_errors_md_are_what_the_checker_prints(golden: Golden) -> None:
    doc = ERRORS_DOC.read_text("utf-8")
    refreshed = _doc_with_current_output(doc)
    if golden.update:
        ERRORS_DOC.write_text(refreshed, encoding="utf-8")
        return
    assert doc == refreshed, "docs/errors.md quotes stale output: rerun with --update-golden"


def test_every_code_has_a_title_for_ci_tools() -> None:
    from agreementdsl.codes import TITLES

    assert sorted((source_codes() | run_codes()) - set(TITLES)) == [], "codes without a title"
    # Every section of docs/errors.md has a title, fmt's, the ledger's and paths' codes too.
    headings = re.findall(r"^## ([A-Z][0-9]{3})\b", ERRORS_DOC.read_text("utf-8"), re.MULTILINE)
    assert sorted(TITLES) == sorted(set(headings))
