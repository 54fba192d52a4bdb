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
from .terminal import visible


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


EXCERPT = 120  # the widest stretch of a source line a diagnostic quotes
LEAD = 40  # how much of a long line is shown before the column pointed at


def _excerpt(source: SourceFile, line: int, col: int, width: int) -> tuple[str, str]:
    """The quoted line (a window of a long one, marked with …) and its caret line.

    Only the window is copied out of the file, so quoting a huge line costs no more than a
    short one. A tab shows as one space (YAML counts it as one column); control characters are
    shown escaped (terminal.visible), and the carets stay under what they point at.
    """
    first, last = source.line_bounds(line)
    length = last - first
    at = max(0, min(col - 1, length))
    start = 0 if length <= EXCERPT else max(0, min(at - LEAD, length - EXCERPT))
    end = min(length, start + EXCERPT)
    window = source.text[first + start : first + end].replace("\t", " ")
    head = "…" if start > 0 else ""
    tail = "…" if end < length else ""
    marked = window[at - start : at - start + width] or " "
    shown = head + visible(window) + tail
    pad = len(head + visible(window[: at - start]))
    return shown, " " * pad + "^" * max(1, len(visible(marked)))


def format_text(diag: Diagnostic, source: SourceFile | None) -> str:
    """`path:line:col: error[CODE]: message`, the source line with a caret, then the hint.

    A long line is quoted as a window around the column, so a report of many diagnostics on one
    huge line stays proportional to their number, not to the line's length times their number.
    """
    lines = [f"{visible(diag.span)}: {diag.severity.value}[{diag.code}]: {visible(diag.message)}"]
    first, last = source.line_bounds(diag.span.line) if source else (0, 0)
    if source is not None and last > first:
        gutter = str(diag.span.line)
        pad = " " * len(gutter)
        width = 1
        if diag.span.end_line == diag.span.line and diag.span.end_col > diag.span.col:
            width = diag.span.end_col - diag.span.col
        shown, caret = _excerpt(source, diag.span.line, diag.span.col, width)
        lines.append(f" {gutter} | {shown}")
        lines.append(f" {pad} | {caret}")
    if diag.hint:
        lines.append(f"  = hint: {visible(diag.hint)}")
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
