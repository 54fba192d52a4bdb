"""`agreementdsl fmt`: the canonical layout of the rules inside an agreement's clause blocks.

Only the lines of `risk_share`, `spending`, `reporting` and `disputes` blocks that hold a rule
are rewritten: one space between words, steps indented under their section, money in full
figures (`£1,500,000`), singular units for one (`1 month`). Everything else in the file, YAML
comments and comments after a rule included, and every line ending (LF, CRLF, CR, NEL), is left
exactly as it was.

`fmt` refuses what it cannot keep exactly: a rule wrapped over lines (F001), a tab in a rule
line's indentation (F003), and any result that would not check clean, compile to the same rules
or stay as it is when formatted again (F002). Lines never move, so a rule's source line is kept;
only its columns may change.
"""

from __future__ import annotations

import re
from typing import Any

from . import model as m
from .api import Loaded, load_source
from .compile import step_text
from .conditions import describe_rule
from .diagnostics import Diagnostic, error
from .money import format_money, format_percent
from .source import SourceFile, Span

_LITERAL = re.compile(r"^\s*(risk_share|spending|reporting|disputes):\s*\|[+-]?[0-9]?\s*(#.*)?$")
_UNITS = {"working_days": "working day", "days": "day", "weeks": "week", "months": "month"}


def duration_text(d: m.Duration) -> str:
    unit = _UNITS[d.unit]
    return f"{d.count} {unit if d.count == 1 else unit + 's'}"


def duty_text(d: m.Duty) -> str:
    tail = f"to {d.to.name} within {duration_text(d.deadline)}"
    if d.trigger is not None:
        t = d.trigger
        threshold = (
            format_percent(t.percent)
            if t.percent is not None
            else format_money(t.pence or 0, always_pence=False)
        )
        return f"when {'forecast ' if t.forecast else ''}{t.direction} exceeds {threshold}: {d.report} {tail}"
    one_word = d.report.startswith(f"{d.cadence} ") and " " not in d.report.removeprefix(
        f"{d.cadence} "
    )
    return f"{d.report if one_word else f'{d.cadence} {d.report}'} {tail}"


def stage_text(s: m.Stage) -> str:
    limit = f" within {duration_text(s.limit)}" if s.limit else ""
    return f"{s.number}. {s.holder_text}{limit}"


def _comment(line: str) -> str:
    """The `# …` part of a clause line (a `#` inside quotes is text, not a comment)."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[i:].rstrip()
    return ""


def _canonical_lines(pool: m.Pool) -> dict[int, tuple[int, str]]:
    """file line -> (indent, canonical text) for every rule of the pool's clauses."""
    out: dict[int, tuple[int, str]] = {}
    if pool.risk_share is not None:
        for section in pool.risk_share.sections:
            indent = section.span.col - 1
            out[section.span.line] = (indent, f"{section.direction}:")
            for step in section.steps:
                out[step.span.line] = (indent + 2, step_text(step))
    for rule in pool.spending:
        out[rule.span.line] = (rule.span.col - 1, describe_rule(rule))
    if pool.only_named is not None:
        out[pool.only_named.span.line] = (pool.only_named.span.col - 1, "only named approvers")
    for duty in pool.reporting:
        out[duty.span.line] = (duty.span.col - 1, duty_text(duty))
    for stage in pool.disputes:
        out[stage.span.line] = (stage.span.col - 1, stage_text(stage))
    return out


def _literal_blocks(lines: list[str], pool: m.Pool) -> set[int]:
    """The file lines of the pool's clauses that are written as literal (`|`) blocks."""
    literal: set[int] = set()
    for key in ("risk_share", "spending", "reporting", "disputes"):
        span = pool.clause_spans.get(key)
        if span is None or not _LITERAL.match(lines[span.line - 1]):
            continue
        first = span.line + 1
        indent = span.col - 1
        last = first
        while last <= len(lines) and (
            not lines[last - 1].strip()
            or len(lines[last - 1]) - len(lines[last - 1].lstrip()) > indent
        ):
            literal.add(last)
            last += 1
    return literal


# The line breaks YAML counts lines by; a rule's span line is a line of this split.
_BREAKS = re.compile("(\r\n|\r|\n|\x85|\u2028|\u2029)")


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """The text's lines as YAML counts them, and the break that ends each ('' for the last)."""
    parts = _BREAKS.split(text)
    return parts[0::2], [*parts[1::2], ""]


def format_text(loaded: Loaded) -> str:
    """The file's text with its clause blocks in canonical form (the agreement must check clean).

    This is the layout alone; `format_agreement` also refuses what it cannot keep exactly.
    """
    assert loaded.source is not None and loaded.agreement is not None
    lines, ends = split_lines(loaded.source.text)
    for pool in loaded.agreement.pools:
        allowed = _literal_blocks(lines, pool)
        for number, (indent, text) in _canonical_lines(pool).items():
            if number not in allowed:
                continue
            comment = _comment(lines[number - 1])
            lines[number - 1] = " " * indent + text + (f"  {comment}" if comment else "")
    return "".join(line + end for line, end in zip(lines, ends, strict=True))


def format_agreement(loaded: Loaded) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text, or None and why `fmt` cannot lay the file out without changing it."""
    assert loaded.source is not None and loaded.agreement is not None
    source = loaded.source
    unkeepable = _unkeepable(loaded)
    if unkeepable:
        return None, unkeepable
    text = format_text(loaded)
    if text == source.text:
        return text, []
    again = load_source(SourceFile(source.path, text))
    problem = None
    if not again.ok or again.agreement is None:
        problem = "the result would not check clean"
    elif _meaning(again) != _meaning(loaded):
        problem = "the result would not compile to the same rules"
    elif _diagnosed(again) != _diagnosed(loaded):
        problem = "the result would not give the same warnings"
    elif format_text(again) != text:
        problem = "the result would change again when formatted"
    if problem is None:
        return text, []
    line = _first_changed_line(source.text, text)
    return None, [
        error(
            "F002",
            _span_of(source, line, split_lines(source.text)[0][line - 1]),
            f"fmt cannot lay out this file without changing it: {problem}",
            "leave the clause as it is, or lay it out by hand and run `agreementdsl check`",
        )
    ]


def _unkeepable(loaded: Loaded) -> list[Diagnostic]:
    """F001 for a line of a clause block that carries on the rule above it; F003 for a tab (or
    any blank but a space) in the indentation of a rule line: how far it indents is not fmt's
    to decide."""
    assert loaded.source is not None and loaded.agreement is not None
    lines, _ = split_lines(loaded.source.text)
    out = []
    for pool in loaded.agreement.pools:
        rules = _canonical_lines(pool)
        owner = None
        for number in sorted(_literal_blocks(lines, pool)):
            line = lines[number - 1]
            text = line.strip()
            span = _span_of(loaded.source, number, line)
            if number in rules and line[: len(line) - len(line.lstrip())].strip(" "):
                out.append(
                    error(
                        "F003",
                        span,
                        "a tab in the indentation of a clause line: fmt cannot tell how far "
                        "it indents, so it cannot lay the clause out without guessing",
                        "indent clause lines with spaces only",
                    )
                )
            if number in rules:
                owner = number
            elif text and not text.startswith("#") and owner is not None:
                out.append(
                    error(
                        "F001",
                        span,
                        f"this line carries on the rule on line {owner}: fmt lays out a rule "
                        "on one line and cannot keep one wrapped over several",
                        f"join line {number} onto line {owner}, then run fmt again",
                    )
                )
    return out


def _span_of(source: SourceFile, number: int, line: str) -> Span:
    col = len(line) - len(line.lstrip()) + 1
    return source.span(number, col, number, len(line.rstrip()) + 1)


def _meaning(loaded: Loaded) -> Any:
    """The compiled rules without what fmt may change: the file's hash and the columns."""
    from .compile import compile_agreement

    assert loaded.agreement is not None and loaded.source is not None
    ir = compile_agreement(loaded.agreement, loaded.source.text)
    ir["source"] = None
    return _without_columns(ir)


def _without_columns(node: Any) -> Any:
    if isinstance(node, dict):
        span = "line" in node and "col" in node
        return {
            k: _without_columns(v)
            for k, v in node.items()
            if not (span and k in ("col", "end_col"))
        }
    if isinstance(node, list):
        return [_without_columns(v) for v in node]
    return node


def _diagnosed(loaded: Loaded) -> list[tuple[str, int]]:
    return sorted((d.code, d.span.line) for d in loaded.diagnostics)


def _first_changed_line(old: str, new: str) -> int:
    pairs = zip(split_lines(old)[0], split_lines(new)[0], strict=False)
    return next((n for n, (a, b) in enumerate(pairs, start=1) if a != b), 1)
