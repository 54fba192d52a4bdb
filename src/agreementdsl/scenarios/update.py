"""`agreementdsl test --update`: rewrite failing expectations from the actual results.

Only the expectations that failed are rewritten, each in place and in the shape it was written
(a `{ … }` on one line stays on one line, a block stays a block, keys keep their order, the
comment after a one-line value stays); passing scenarios and everything else in the file are left
exactly as they were, so the change is reviewed as a small diff. A scenario with no `expect:`
gets one.

Only what the engine produced is written. An expectation the engine gives no value for (an
`overspend` when the pool is underspent, a dispute that is not open, an approval when no spend
was approved) is left as it was and reported, so the scenario still fails and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..loader import YNode
from ..outputs import write_file
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
    special = text.startswith("£") or ":" in text or "#" in text or not text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if special else text


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def shaped(key: str, expected: Any, actual: Any) -> Any:
    """The actual value, shaped like the expectation: same entries, same order, same fields."""
    if key == "settlement" and isinstance(expected, dict) and isinstance(actual, dict):
        named = {p: actual.get(p, "£0") for p in expected}
        others = {p: v for p, v in actual.items() if p not in expected and v not in ("£0", "£0.00")}
        return named | others
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
                {k: a[k] for k in [*want, *(["due"] if "due" not in want else [])] if k in a}
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
    if key in ("approvals", "raised") and isinstance(expected, list) and isinstance(actual, list):
        fields = [list(e) if isinstance(e, dict) else [] for e in expected]
        return [
            {k: a[k] for k in (fields[i] if i < len(fields) and fields[i] else a)}
            for i, a in enumerate(actual)
        ]
    return actual


def _key_lines(
    key: str, value: Any, indent: int, child_indent: int, block: bool, comment: str
) -> list[str]:
    pad = " " * indent
    if not block:
        return [f"{pad}{key}: {_flow(value)}" + (f"  {comment}" if comment else "")]
    lines = [f"{pad}{key}:" + (f"  {comment}" if comment else "")]
    child = " " * child_indent
    if isinstance(value, list):
        lines.extend(f"{child}- {_flow(v)}" for v in value)
    elif isinstance(value, dict):
        lines.extend(f"{child}{k}: {_flow(v)}" for k, v in value.items())
    else:
        lines[0] = f"{pad}{key}: {_flow(value)}"
    return lines


def _last_line(node: YNode) -> int:
    """The last line (1-based) that holds any of the node's own text."""
    if node.is_map or node.is_seq:
        children = node.value.values() if node.is_map else node.value
        return max((_last_line(c) for c in children), default=node.span.line)
    span = node.span
    return span.end_line if span.end_col > 1 else span.end_line - 1


def _comment_after(line: str) -> str:
    quoted = False
    for i, char in enumerate(line):
        if char in "\"'":
            quoted = not quoted
        elif char == "#" and not quoted and (i == 0 or line[i - 1] in " \t"):
            return line[i:].rstrip()
    return ""


@dataclass
class Update:
    """What `--update` did to one scenario file: the keys rewritten and those it could not."""

    path: Path
    changed: bool = False
    rewritten: list[str] = field(default_factory=list)  # "scenario: key, key"
    not_written: list[str] = field(default_factory=list)  # "file:line: scenario: why"


VARIANCE = ("overspend", "underspend", "balanced")


def _no_value(key: str, actual: dict[str, Any]) -> str:
    """Why the engine has no value for an expectation, in the scenario's words."""
    if key in VARIANCE:
        kind = next((k for k in VARIANCE if actual.get(k)), None)
        produced = {
            "overspend": f"an overspend of {actual.get('overspend')}",
            "underspend": f"an underspend of {actual.get('underspend')}",
            "balanced": "a balanced outturn",
        }
        return f"the engine gives no {key}: it gives {produced[kind] if kind else 'no variance'}"
    if key in ("required", "recorded", "compliant"):
        return f"the engine gives no `{key}`: no spend in the scenario was checked for approval"
    if key == "disputes":
        return "the engine has no open dispute by that id on the as-of date"
    return f"the engine gives no `{key}` for this scenario"


def _unwritable(result: ScenarioResult, key: str) -> str | None:
    """Why a failing expectation cannot be rewritten from the results, or None if it can."""
    actual = result.actual
    if key not in actual or actual[key] is None:
        return _no_value(key, actual)
    expected = result.scenario.expect.get(key)
    if key == "disputes" and isinstance(expected, dict):
        closed = [d for d in expected if d not in actual[key]]
        if closed:
            return f"dispute{'s' * (len(closed) > 1)} {', '.join(map(str, closed))}: " + _no_value(
                key, actual
            )
    if key == "settlement" and isinstance(expected, dict):
        strangers = [p for p in expected if p not in actual[key]]
        if strangers:
            return (
                f"the engine gives no share for {', '.join(f'`{p}`' for p in strangers)}: "
                "correct the partner's id"
            )
    return None


def _flow_mapping(node: YNode, lines: list[str]) -> bool:
    """Whether the expectations are written as one `{ … }` mapping (which keys cannot be
    rewritten in, one line each, without breaking the file)."""
    line = lines[node.span.line - 1] if 0 < node.span.line <= len(lines) else ""
    return line[node.span.col - 1 : node.span.col].startswith("{")


def _edits_for(
    result: ScenarioResult, lines: list[str], update: Update
) -> list[tuple[int, int, list[str]]]:
    node = result.scenario.expect_node
    scenario = result.scenario
    if node is None or not node.is_map:
        keys = (
            DEFAULT_KEYS["outturn"]
            if scenario.outturn is not None
            else DEFAULT_KEYS["transaction"]
            if scenario.single
            else ()
        )
        indent = scenario.span.col - 1
        new = [" " * indent + "expect:"]
        written = []
        for key in keys:
            if key in result.actual and (key != "balanced" or result.actual[key]):
                new.extend(_key_lines(key, result.actual[key], indent + 2, indent + 4, False, ""))
                written.append(key)
        end = _last_line(scenario.span_node) if scenario.span_node else scenario.span.line
        update.rewritten.append(f"{scenario.name}: {', '.join(written) or 'nothing'} (new)")
        return [(end, end, new)]
    edits = []
    failing = list(dict.fromkeys(f.key for f in result.failures))
    if failing and _flow_mapping(node, lines):
        update.not_written.append(
            f"{result.file.path}:{node.span.line}: {scenario.name}: "
            f"{', '.join(f'`{k}`' for k in failing)} not rewritten: the expectations are written "
            "as one `{ … }` mapping; write `expect:` as a block (a key a line) to update them"
        )
        return []
    written = []
    for key in failing:
        value_node = node.value.get(key)
        key_span = node.keys.get(key)
        if value_node is None or key_span is None:
            continue
        why = _unwritable(result, key)
        if why is not None:
            update.not_written.append(
                f"{result.file.path}:{key_span.line}: {scenario.name}: `{key}` is not "
                f"rewritten: {why}"
            )
            continue
        written.append(key)
        first, last = key_span.line - 1, _last_line(value_node)
        block = value_node.span.line > key_span.line
        child_indent = (value_node.span.col - 1) if block else key_span.col + 1
        head = lines[first]
        comment = _comment_after(head[len(head) - len(head.lstrip()) :]) if head.strip() else ""
        inner = [line for line in lines[first + 1 : last] if line.strip().startswith("#")]
        value = shaped(key, scenario.expect.get(key), result.actual.get(key))
        new = _key_lines(key, value, key_span.col - 1, child_indent, block, comment)
        edits.append((first, last, new[:1] + inner + new[1:]))
    if written:
        update.rewritten.append(f"{scenario.name}: {', '.join(written)}")
    return edits


def update_file(test_file: TestFile, results: list[ScenarioResult]) -> Update:
    """Rewrite the file's failing expectations from the results; say what could not be."""
    update = Update(test_file.path)
    text = test_file.source.text
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []
    for result in results:
        if result.error is None and (result.failures or result.scenario.expect_node is None):
            edits.extend(_edits_for(result, lines, update))
    for first, end, new in sorted(edits, reverse=True):
        lines[first:end] = new
    updated = "\n".join(lines)
    if updated != text:
        write_file(test_file.path, updated)
        update.changed = True
    return update
