"""`agreementdsl fmt`: the canonical layout of the rules inside an agreement's clause blocks.

Only the lines of `risk_share`, `spending`, `reporting` and `disputes` blocks that hold a rule
are rewritten: one space between words, steps indented under their section, money in full
figures (`£1,500,000`), singular units for one (`1 month`). Everything else in the file, YAML
comments and comments after a rule included, is left exactly as it was.
"""

from __future__ import annotations

import re

from . import model as m
from .api import Loaded
from .compile import step_text
from .conditions import describe_rule
from .money import format_money, format_percent

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


def format_text(loaded: Loaded) -> str:
    """The file's text with its clause blocks in canonical form (the agreement must check clean)."""
    assert loaded.source is not None and loaded.agreement is not None
    lines = loaded.source.text.split("\n")
    for pool in loaded.agreement.pools:
        allowed = _literal_blocks(lines, pool)
        for number, (indent, text) in _canonical_lines(pool).items():
            if number not in allowed:
                continue
            original = lines[number - 1]
            ending = "\r" if original.endswith("\r") else ""  # keep Windows line endings
            comment = _comment(original.rstrip("\r"))
            lines[number - 1] = " " * indent + text + (f"  {comment}" if comment else "") + ending
    return "\n".join(lines)
