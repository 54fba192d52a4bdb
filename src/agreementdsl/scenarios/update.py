"""`agreementdsl test --update`: rewrite each scenario's expectations from the actual results.

Only the lines of each `expect:` block are rewritten, in place; everything else in the file,
comments included, stays as it was, so the change is reviewed as a small diff.
"""

from __future__ import annotations

import re
from typing import Any

from .runner import ScenarioResult
from .spec import TestFile

DEFAULT_KEYS = {
    "outturn": ("overspend", "underspend", "balanced", "settlement", "carried_forward"),
    "transaction": ("required", "compliant"),
}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return (
        '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if text.startswith("£") or ":" in text or not text
        else text
    )


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _keys(result: ScenarioResult) -> list[str]:
    wanted = list(result.scenario.expect)
    if wanted:
        return wanted
    if result.scenario.outturn is not None:
        return [
            k
            for k in DEFAULT_KEYS["outturn"]
            if k in result.actual and (k != "balanced" or result.actual[k])
        ]
    if result.scenario.single:
        return list(DEFAULT_KEYS["transaction"])
    return []


def _updated(key: str, expected: Any, actual: Any) -> Any:
    """The actual value, shaped like the expectation (same reports, disputes and fields)."""
    if key == "raised":
        return actual
    if key == "reports" and isinstance(expected, list):
        out: list[dict[str, Any]] = []
        for want in expected:
            if not isinstance(want, dict):
                continue
            match = [
                a
                for a in actual
                if all(
                    str(a.get(k)) == str(want[k])
                    for k in ("report", "to", "period_end")
                    if k in want
                )
            ]
            out.extend(
                {k: a[k] for k in ("report", "to", "period_end", "due") if k in want or k == "due"}
                for a in match[:1]
            )
        return out
    if key == "disputes" and isinstance(expected, dict):
        return {
            d: {k: actual[d][k] for k in (want or {}) if k in actual[d]}
            if d in actual
            else "not open"
            for d, want in expected.items()
        }
    return actual


def _comments(
    block: list[str], indent: int
) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """Comment lines of an expect block: before each key, inside it, and after the last."""
    before: dict[str, list[str]] = {}
    inner: dict[str, list[str]] = {}
    pending: list[str] = []
    current: str | None = None
    key_line = re.compile(" " * indent + r"([A-Za-z_]+):")
    for line in block:
        if line.strip().startswith("#"):
            deeper = len(line) - len(line.lstrip()) > indent
            (inner.setdefault(current, []) if current and deeper else pending).append(line)
        elif match := key_line.match(line):
            current = match.group(1)
            before[current], pending = pending, []
    return before, inner, pending


def expect_lines(result: ScenarioResult, indent: int, block: list[str] | None = None) -> list[str]:
    pad = " " * indent
    before, inner, trailing = _comments(block or [], indent)
    lines: list[str] = []
    for key in _keys(result):
        lines.extend(before.get(key, []))
        start = len(lines)
        value = _updated(key, result.scenario.expect.get(key), result.actual.get(key))
        if key == "overspend" and key not in result.actual:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}  - {_flow(v)}" for v in value)
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}  {k}: {_flow(v)}" for k, v in value.items())
        else:
            lines.append(f"{pad}{key}: {_flow(value)}")
        lines[start + 1 : start + 1] = inner.get(key, [])
    return lines + trailing


def _last_line(node: Any) -> int:
    """The last line (1-based) that holds any of the node's own text."""
    if node.is_map or node.is_seq:
        children = node.value.values() if node.is_map else node.value
        last = max((_last_line(c) for c in children), default=node.span.line)
        return max(last, node.span.line if node.span.end_line == node.span.line else last)
    span = node.span
    return span.end_line if span.end_col > 1 else span.end_line - 1


def update_file(test_file: TestFile, results: list[ScenarioResult]) -> bool:
    """Rewrite the file's expectations; True when its text changed."""
    text = test_file.source.text
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # (first line index, end index, new lines)
    for result in results:
        if result.error is not None:
            continue
        node = result.scenario.expect_node
        if node is not None and node.key_span is not None and node.is_map and node.keys:
            first = node.key_span.line  # the line after `expect:`
            indent = min(span.col for span in node.keys.values()) - 1
            end = _last_line(node)
            if node.span.line == node.key_span.line:  # a flow mapping on the key's line
                first, end = node.key_span.line - 1, node.key_span.line
                key_line = lines[first]
                head = key_line[: node.key_span.col - 1]
                new = [f"{head}expect:", *expect_lines(result, len(head) + 2)]
                edits.append((first, end, new))
                continue
            edits.append((first, end, expect_lines(result, indent, lines[first:end])))
        else:
            indent = result.scenario.span.col - 1
            new = [" " * indent + "expect:", *expect_lines(result, indent + 2)]
            end = (
                _last_line(result.scenario.span_node)
                if result.scenario.span_node
                else result.scenario.span.line
            )
            edits.append((end, end, new))
    for first, end, new in sorted(edits, reverse=True):
        lines[first:end] = new
    updated = "\n".join(lines)
    if updated == text:
        return False
    test_file.path.write_text(updated, encoding="utf-8")
    return True
