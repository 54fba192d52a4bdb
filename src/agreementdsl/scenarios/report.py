"""Scenario results as text for people: each scenario passed or failed, with the working."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..diagnostics import format_text_report
from ..terminal import visible as v


def _plain(text: str, **_: Any) -> str:
    return text


def format_suite(
    suite: Any, missing: list[tuple[str, str]] | None, style: Callable[..., str] = _plain
) -> str:
    """The run of a suite: diagnostics, each scenario, a summary and, with coverage, what was missed."""
    out: list[str] = []
    if suite.diagnostics:
        out.append(
            format_text_report(suite.diagnostics, {str(f.path): f.source for f in suite.files})
        )
    for test_file in suite.files:
        out.append(style(v(test_file.path), bold=True))
        for r in (r for r in suite.results if r.file is test_file):
            if r.passed:
                out.append("  " + style("✓", fg="green") + f" {v(r.scenario.name)}")
                continue
            out.append(
                "  " + style("✗", fg="red") + f" {v(r.scenario.name)} (line {r.scenario.span.line})"
            )
            if r.error:
                out.append(f"      error: {v(r.error)}")
            for f in r.failures:
                out.append(f"      {v(f.key)} (line {f.span.line}): expected {v(f.expected)}")
                out.append(
                    f"      {' ' * len(v(f.key))}{' ' * (len(str(f.span.line)) + 8)}  actual {v(f.actual)}"
                )
            out.extend(style(f"        {v(line)}", dim=True) for line in r.explanation)
    passed = sum(1 for r in suite.results if r.passed)
    failed = len(suite.results) - passed
    total = len(suite.results)
    out.append(
        style(
            f"{total} scenario{'s' * (total != 1)}: {passed} passed, {failed} failed",
            fg="red" if failed else "green",
        )
    )
    if missing is not None:
        if missing:
            out.append(
                style(
                    f"{len(missing)} clause{'s' * (len(missing) != 1)} no scenario exercised:",
                    fg="yellow",
                )
            )
            out.extend(f"  {v(where)}: {v(what)}" for what, where in missing)
        else:
            out.append(
                style(
                    "every waterfall step, spending rule, duty and dispute stage is exercised",
                    fg="green",
                )
            )
    return "\n".join(out) + "\n"
