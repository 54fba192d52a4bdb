"""Reading an agreement file: YAML with positions, then the JSON Schema of its structure.

The YAML is composed (not constructed) so every value keeps the line and column it came from.
Scalars become JSON-compatible values (dates stay ISO text) so the same tree can be validated
against the schema that editors use.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .conforms import conforms
from .diagnostics import Diagnostic, error
from .limits import MAX_YAML_DEPTH, MAX_YAML_NODES, expanded_size, too_deep
from .source import SourceFile, Span

Scalar = str | int | float | bool | None


@dataclass
class YNode:
    """A YAML value with its position: a mapping, a sequence or a scalar."""

    value: Any  # dict[str, YNode] | list[YNode] | Scalar
    span: Span
    key_span: Span | None = None  # for a mapping value, where its key was written
    style: str | None = None  # scalar style: None (plain), '|', '>', '"' or "'"
    raw: str = ""  # a scalar's text as written
    keys: dict[str, Span] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)

    def get(self, key: str) -> YNode | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def plain(self) -> Any:
        """The JSON-compatible value, for schema validation."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def at(self, path: list[str | int]) -> YNode:
        """The deepest node along `path` (a jsonschema error path)."""
        node = self
        for step in path:
            nxt = None
            if isinstance(node.value, dict) and isinstance(step, str):
                nxt = node.value.get(step)
            elif isinstance(node.value, list) and isinstance(step, int):
                nxt = node.value[step] if step < len(node.value) else None
            if nxt is None:
                break
            node = nxt
        return node


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
# The tags plain YAML gives values (and `!!str` and the like, written out); any other tag, such
# as `!!python/object` or a local `!tag`, is refused (E015): nothing is ever constructed from one.
_PLAIN_TAGS = frozenset({"str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge"})


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _scalar(node: yaml.ScalarNode) -> Scalar:
    tag = node.tag.removeprefix(_TAG)
    if tag == "int":
        return int(_CONSTRUCTOR.construct_yaml_int(node))
    if tag == "float":
        return float(_CONSTRUCTOR.construct_yaml_float(node))
    if tag == "bool":
        return bool(_CONSTRUCTOR.construct_yaml_bool(node))
    if tag == "null":
        return None
    return str(node.value)


def _span(source: SourceFile, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(source.path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Builder:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def build(self, node: yaml.Node, depth: int = 0) -> YNode:
        span = _span(self.source, node)
        if node.tag.removeprefix(_TAG) not in _PLAIN_TAGS:
            self.diagnostics.append(
                error(
                    "E015",
                    span,
                    f"the YAML tag `{_short(node.tag)}` is not read: agreementdsl reads plain "
                    "text, numbers, dates, lists and mappings, and never builds objects from tags",
                    "remove the tag; quote the value if it is text",
                )
            )
            text = str(node.value) if isinstance(node, yaml.ScalarNode) else None
            return YNode(text, span, raw=text or "")
        if depth > MAX_YAML_DEPTH:
            self.diagnostics.append(error("E004", span, "the YAML is nested too deeply"))
            return YNode(None, span)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, span, depth)
        if isinstance(node, yaml.SequenceNode):
            return YNode([self.build(n, depth + 1) for n in node.value], span)
        assert isinstance(node, yaml.ScalarNode)
        style = node.style or None  # libyaml gives '' for a plain scalar, PyYAML None
        return YNode(_scalar(node), span, style=style, raw=str(node.value))

    def _mapping(self, node: yaml.MappingNode, span: Span, depth: int) -> YNode:
        out: dict[str, YNode] = {}
        keys: dict[str, Span] = {}
        for key_node, value_node in node.value:
            key_span = _span(self.source, key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(
                    error("E004", key_span, "a key must be plain text, not a list or mapping")
                )
                continue
            key = str(key_node.value)
            if key in out:
                first = keys[key]
                self.diagnostics.append(
                    error(
                        "E003",
                        key_span,
                        f"`{key}` is given twice in this mapping (first at line {first.line})",
                        "remove one of them; YAML would silently keep only the last",
                    )
                )
                continue
            child = self.build(value_node, depth + 1)
            child.key_span = key_span
            out[key] = child
            keys[key] = key_span
        return YNode(out, span, keys=keys)


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # libyaml, when PyYAML was built with it


def compose(text: str) -> list[yaml.Node]:
    """The YAML documents of `text` as positioned nodes.

    libyaml composes ten times faster than PyYAML's own reader and gives the same nodes and
    positions, except that it accepts tabs between tokens (PyYAML rejects them) and counts
    positions after a byte-order mark differently; text with either, and any text libyaml
    rejects, is composed by PyYAML, so errors are worded as they always have been.
    """
    if _FAST_LOADER is not None and "\t" not in text and "\ufeff" not in text:
        try:
            return list(yaml.compose_all(text, Loader=_FAST_LOADER))
        except (yaml.YAMLError, UnicodeError):
            pass
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def parse_yaml(source: SourceFile) -> tuple[YNode | None, list[Diagnostic]]:
    """The positioned YAML tree of a file, or None with the syntax error."""
    deep = too_deep(source)
    if deep is not None:
        return None, [deep]
    try:
        docs = compose(source.text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "the YAML cannot be read"
        hint = None
        if "\\t" in problem or "'\\t'" in str(exc):
            hint = "indent with spaces, not tabs"
        elif "chomping or indentation" in problem:
            hint = 'a value starting with `>` or `|` must be quoted, like ">= 80"'
        elif "mapping values are not allowed" in problem:
            hint = "a value containing `: ` must be quoted, or written as a `|` block"
        elif "found character" in problem and "`" in problem:
            hint = "a value starting with ` or @ must be quoted"
        elif exc.context:
            hint = f"{exc.context} (line {exc.context_mark.line + 1})" if exc.context_mark else None
        return None, [error("E002", Span(source.path, line, col), f"YAML syntax: {problem}", hint)]
    except yaml.YAMLError as exc:
        return None, [error("E002", Span(source.path, 1, 1), f"YAML syntax: {exc}")]
    except RecursionError:
        return None, [error("E004", Span(source.path, 1, 1), "the YAML is nested too deeply")]
    if not docs or docs[0] is None:
        return None, [
            error(
                "E005",
                Span(source.path, 1, 1),
                "the file is empty",
                "an agreement starts with `agreement:`",
            )
        ]
    if len(docs) > 1:
        second = _span(source, docs[1])
        return None, [
            error(
                "E006", second, "the file holds more than one YAML document", "one agreement a file"
            )
        ]
    size, unique, where = expanded_size(docs[0])
    if size > MAX_YAML_NODES:
        how = "its aliases expand" if size > unique else "it holds"
        return None, [
            error(
                "E012",
                _span(source, where),
                f"the YAML is too large to read: {how} to more than {MAX_YAML_NODES:,} values",
                "write each value out once; an agreement needs no aliases (`*name`) that repeat "
                "whole lists or mappings"
                if size > unique
                else "no agreement needs so many values: see docs/robustness.md for the limits",
            )
        ]
    builder = _Builder(source)
    tree = builder.build(docs[0])
    nested = [d for d in builder.diagnostics if d.message == "the YAML is nested too deeply"]
    if nested:  # a shape no agreement has: nothing else can be read from it (as with E001–E007)
        return None, nested[:1]
    if not tree.is_map:
        builder.diagnostics.append(
            error(
                "E007", tree.span, "an agreement file must be a mapping starting with `agreement:`"
            )
        )
        return None, builder.diagnostics
    return tree, builder.diagnostics


# ---------------------------------------------------------------- schema
@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an agreement's YAML structure."""
    text = (resources.files("agreementdsl") / "schema" / "agreement.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _suggest(word: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _where(path: list[str | int]) -> str:
    parts = [str(p) if isinstance(p, str) else f"[{p}]" for p in path]
    return " > ".join(parts) if parts else "the top level"


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def _type_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty"
    return "text"


def validate_schema(tree: YNode) -> list[Diagnostic]:
    """Structural problems: missing and unknown keys, wrong types, values out of range."""
    plain = tree.plain()
    if conforms(schema(), plain):
        return []  # jsonschema would find nothing; it is imported only to word what is wrong
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    diags: list[Diagnostic] = []
    for err in validator.iter_errors(plain):
        diags.extend(_schema_diagnostics(err, tree))
    return diags


def _schema_diagnostics(err: Any, tree: YNode) -> list[Diagnostic]:
    path = list(err.absolute_path)
    node = tree.at(path)
    sub = err.schema if isinstance(err.schema, dict) else {}
    code = sub.get("x-code")
    here = _where(path)
    kind = err.validator
    if kind == "required":
        missing = err.message.split("'")[1]
        anchor = node.key_span or node.span
        hint = sub.get("x-hint", {}).get(missing) if isinstance(sub.get("x-hint"), dict) else None
        return [error("E101", anchor, f"{here} is missing `{missing}`", hint)]
    if kind == "additionalProperties":
        allowed = sorted(sub.get("properties", {}))
        out = []
        for key in sorted(set(node.value) - set(allowed)) if node.is_map else []:
            hint = _suggest(key, allowed) or (
                f"allowed here: {', '.join(allowed)}" if allowed else None
            )
            out.append(
                error("E102", node.keys.get(key, node.span), f"unknown key `{key}` in {here}", hint)
            )
        return out
    span = node.span
    if node.is_map and isinstance(err.instance, str) and err.instance in node.keys:
        span = node.keys[err.instance]  # a propertyNames failure: point at the key itself
    if kind == "type":
        want = sub.get("type")
        wants = [want] if isinstance(want, str) else list(want or [])
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wants)
        hint = None
        if (
            "string" in wants
            and isinstance(err.instance, int | float)
            and not isinstance(err.instance, bool)
        ):
            hint = "put the value in quotes"
        return [
            error(
                code or "E103",
                span,
                f"{here} should be {words}, not {_type_of(err.instance)}",
                hint,
            )
        ]
    if kind == "enum":
        options = [str(o) for o in sub.get("enum", [])]
        hint = _suggest(str(err.instance), options) or f"one of: {', '.join(options)}"
        return [error(code or "E104", span, f"`{err.instance}` is not allowed for {here}", hint)]
    if kind in ("pattern", "format"):
        message = sub.get("x-message", "`{value}` is not valid for {where}").format(
            value=err.instance, where=here
        )
        return [error(code or "E104", span, message, sub.get("x-hint"))]
    if kind in ("minProperties", "minItems", "minLength"):
        return [error(code or "E105", node.key_span or span, f"{here} must not be empty")]
    return [error(code or "E104", span, f"{here}: {err.message}")]


def split_money_lines(tree: YNode) -> dict[int, Span]:
    """Lines where unquoted money in a `{ }` mapping was split by YAML at its commas.

    `{ hpct: £13,300,000 }` reads as the keys `hpct`, `300` and `000`; one clear error on such
    a line replaces the dozen that would follow from it.
    """
    found: dict[int, Span] = {}
    pools = tree.get("pools")
    for pool in pools.value.values() if pools is not None and pools.is_map else []:
        for key in ("contributions", "budgets"):
            years = pool.get(key)
            for row in years.value.values() if years is not None and years.is_map else []:
                if row.is_map and any(k.isdigit() for k in row.value):
                    found.setdefault(row.span.line, row.span)
    return found
