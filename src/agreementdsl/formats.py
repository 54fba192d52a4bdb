"""Machine formats for CI: GitHub workflow annotations, SARIF 2.1.0 and JUnit XML.

Diagnostics from `check` and failing scenarios from `test` both become annotations and SARIF
results at their file, line and column; `test` also writes JUnit XML, one test case a scenario.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from xml.sax import saxutils

from . import __version__
from .codes import title as code_title
from .diagnostics import Diagnostic
from .terminal import xml_safe

if TYPE_CHECKING:
    from .scenarios import SuiteResult

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
DOCS = "https://github.com/agreementdsl/agreementdsl/blob/main/docs/errors.md"


def escape(text: str) -> str:
    """Text for XML (JUnit): escaped, and with what XML cannot hold shown as escapes."""
    return saxutils.escape(xml_safe(text))


def quoteattr(text: str) -> str:
    """An XML attribute value, quoted, as `escape` makes text."""
    return saxutils.quoteattr(xml_safe(text))


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(level: str, file: str, line: int, col: int, title: str, message: str) -> str:
    """One `::error file=…,line=…::message` workflow command."""
    props = f"file={_gh_prop(file)},line={line},col={col},title={_gh_prop(title)}"
    return f"::{level} {props}::{_gh_data(message)}"


def repo_path(file: str) -> str:
    """A file as CI tools want it: relative to the folder the command runs in (the repository)."""
    from .api import display_name

    return display_name(file)


def github_diagnostics(diags: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diags:
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        where = repo_path(d.span.file)
        lines.append(
            github_annotation(d.severity.value, where, d.span.line, d.span.col, d.code, message)
        )
    return "\n".join(lines)


def _sarif_log(rules: dict[str, dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "agreementdsl",
                        "version": __version__,
                        "informationUri": "https://github.com/agreementdsl/agreementdsl",
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": results,
            }
        ],
    }


def _location(
    file: str, line: int, col: int, end_line: int = 0, end_col: int = 0
) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": line, "startColumn": col}
    file = repo_path(file)
    if end_line >= line and end_col and (end_line > line or end_col > col):
        region.update(endLine=end_line, endColumn=end_col)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": file, "uriBaseId": "SRCROOT"},
            "region": region,
        }
    }


def sarif_diagnostics(diags: Sequence[Diagnostic]) -> str:
    """A SARIF 2.1.0 log of the diagnostics (rules are the codes, documented in docs/errors.md)."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for d in diags:
        rules.setdefault(
            d.code,
            {
                "id": d.code,
                "name": d.code,
                "shortDescription": {"text": code_title(d.code)},
                "helpUri": f"{DOCS}#{d.code.lower()}",
                "defaultConfiguration": {"level": "error" if d.is_error else "warning"},
            },
        )
        message = d.message + (f" Hint: {d.hint}" if d.hint else "")
        results.append(
            {
                "ruleId": d.code,
                "level": "error" if d.is_error else "warning",
                "message": {"text": message},
                "locations": [
                    _location(d.span.file, d.span.line, d.span.col, d.span.end_line, d.span.end_col)
                ],
            }
        )
    return json.dumps(_sarif_log(rules, results), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- scenario results
def _failure_text(result: Any) -> str:
    if result.error:
        return result.error
    return "; ".join(f"{f.key}: expected {f.expected}, actual {f.actual}" for f in result.failures)


def junit(suite: SuiteResult) -> str:
    """JUnit XML: a test suite per scenario file, a test case per scenario."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    errors = len(suite.diagnostics)
    total = len(suite.results) + errors
    failed = sum(1 for r in suite.results if not r.passed)
    out.append(
        f'<testsuites name="agreementdsl" tests="{total}" failures="{failed}" errors="{errors}">'
    )
    for test_file in suite.files:
        mine = [r for r in suite.results if r.file is test_file]
        fails = sum(1 for r in mine if not r.passed)
        out.append(
            f'  <testsuite name={quoteattr(str(test_file.path))} tests="{len(mine) + len(test_file.diagnostics)}" failures="{fails}" errors="{len(test_file.diagnostics)}">'
        )
        for r in mine:
            classname = quoteattr(test_file.agreement_id or str(test_file.path))
            attrs = f'name={quoteattr(r.scenario.name)} classname={classname} file={quoteattr(str(test_file.path))} line="{r.scenario.span.line}"'
            if r.passed:
                out.append(f"    <testcase {attrs}/>")
                continue
            detail = "\n".join([_failure_text(r), *r.explanation])
            out.append(f"    <testcase {attrs}>")
            out.append(
                f"      <failure message={quoteattr(_failure_text(r))}>{escape(detail)}</failure>"
            )
            out.append("    </testcase>")
        for d in test_file.diagnostics:
            out.append(
                f'    <testcase name={quoteattr(d.code)} classname="scenario-file"><error message={quoteattr(d.message)}/></testcase>'
            )
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out)


def _where(source: str) -> tuple[str, int]:
    file, _, line = source.rpartition(":")
    return repo_path(file), int(line) if line.isdigit() else 1


def github_scenarios(suite: SuiteResult, uncovered: list[tuple[str, str]] | None = None) -> str:
    lines = [github_diagnostics(suite.diagnostics)] if suite.diagnostics else []
    for what, source in uncovered or []:
        file, line = _where(source)
        lines.append(
            github_annotation("notice", file, line, 1, "not exercised by any scenario", what)
        )
    for r in suite.results:
        if r.passed:
            continue
        span = r.failures[0].span if r.failures else r.scenario.span
        lines.append(
            github_annotation(
                "error",
                repo_path(span.file),
                span.line,
                span.col,
                f"scenario failed: {r.scenario.name}",
                _failure_text(r),
            )
        )
    return "\n".join(lines)


def sarif_scenarios(suite: SuiteResult, uncovered: list[tuple[str, str]] | None = None) -> str:
    rules = {
        "scenario-failed": {
            "id": "scenario-failed",
            "shortDescription": {
                "text": "A scenario's expectation differs from what the agreement gives"
            },
            "defaultConfiguration": {"level": "error"},
        }
    }
    results = []
    for d in suite.diagnostics:
        rules.setdefault(
            d.code, {"id": d.code, "shortDescription": {"text": d.message.split(":")[0]}}
        )
        results.append(
            {
                "ruleId": d.code,
                "level": "error",
                "message": {"text": d.message},
                "locations": [_location(d.span.file, d.span.line, d.span.col)],
            }
        )
    for r in suite.results:
        if r.passed:
            continue
        span = r.failures[0].span if r.failures else r.scenario.span
        results.append(
            {
                "ruleId": "scenario-failed",
                "level": "error",
                "message": {"text": f"{r.scenario.name}: {_failure_text(r)}"},
                "locations": [_location(span.file, span.line, span.col)],
            }
        )
    if uncovered:
        rules["clause-not-exercised"] = {
            "id": "clause-not-exercised",
            "shortDescription": {"text": "No scenario exercises this clause"},
            "defaultConfiguration": {"level": "note"},
        }
    for what, source in uncovered or []:
        file, line = _where(source)
        results.append(
            {
                "ruleId": "clause-not-exercised",
                "level": "note",
                "message": {"text": what},
                "locations": [_location(file, line, 1)],
            }
        )
    return json.dumps(_sarif_log(rules, results), indent=2, ensure_ascii=False)


def json_scenarios(suite: SuiteResult, uncovered: list[tuple[str, str]] | None = None) -> str:
    payload: dict[str, Any] = {
        "passed": sum(1 for r in suite.results if r.passed),
        "failed": sum(1 for r in suite.results if not r.passed),
        "scenarios": [
            {
                "file": str(r.file.path),
                "line": r.scenario.span.line,
                "name": r.scenario.name,
                "passed": r.passed,
                "error": r.error,
                "failures": [
                    {"key": f.key, "expected": f.expected, "actual": f.actual, "line": f.span.line}
                    for f in r.failures
                ],
                "explanation": r.explanation if not r.passed else [],
            }
            for r in suite.results
        ],
        "diagnostics": [d.to_json() for d in suite.diagnostics],
    }
    if uncovered is not None:
        payload["uncovered"] = [{"clause": what, "source": where} for what, where in uncovered]
    return json.dumps(payload, indent=2, ensure_ascii=False)
