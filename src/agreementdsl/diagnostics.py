"""Diagnostics: errors and warnings as values, collected through the pipeline.

Every problem has a stable code (documented in docs/errors.md), a span into the YAML file,
a message in the user's words and, where it helps, a hint saying what to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .source import SourceFile, Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.col, self.code)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            **self.span.to_json(),
        }
        if self.hint:
            out["hint"] = self.hint
        return out


def error(code: str, span: Span, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, span, message, hint)


def warning(code: str, span: Span, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, span, message, hint)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order by position, dropping exact repeats (the same problem found twice)."""
    seen: set[Diagnostic] = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def format_text(diag: Diagnostic, source: SourceFile | None) -> str:
    """`path:line:col: error[CODE]: message`, the source line with a caret, then the hint."""
    lines = [f"{diag.span}: {diag.severity.value}[{diag.code}]: {diag.message}"]
    text = source.line_text(diag.span.line) if source else ""
    if text:
        gutter = str(diag.span.line)
        pad = " " * len(gutter)
        width = 1
        if diag.span.end_line == diag.span.line and diag.span.end_col > diag.span.col:
            width = diag.span.end_col - diag.span.col
        caret = " " * (diag.span.col - 1) + "^" * width
        lines.append(f" {gutter} | {text.expandtabs(1)}")
        lines.append(f" {pad} | {caret}")
    if diag.hint:
        lines.append(f"  = hint: {diag.hint}")
    return "\n".join(lines)


def format_text_report(diags: Sequence[Diagnostic], sources: dict[str, SourceFile]) -> str:
    return "\n\n".join(format_text(d, sources.get(d.span.file)) for d in diags)


def format_json_report(diags: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.is_error)
    payload = {
        "diagnostics": [d.to_json() for d in diags],
        "errors": errors,
        "warnings": len(diags) - errors,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)
