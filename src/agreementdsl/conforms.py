"""A quick yes/no: does a YAML tree conform to the agreement schema?

`check` validates every agreement against schema/agreement.schema.json. Importing and building
a jsonschema validator costs more than the rest of checking the three examples, and almost every
file checked conforms. So this module answers only "conforms or not" for the few JSON Schema
keywords the agreement schema uses; when the answer is no (or the schema uses anything else), the
loader runs jsonschema itself for the diagnostics. It must never say yes where jsonschema would
report an error: tests compare the two on every test file and on many altered agreements.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Keywords that only annotate: they never make an instance fail.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


class _Unsure(Exception):
    """The schema uses something this module does not judge: let jsonschema decide."""


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def conforms(schema: dict[str, Any], instance: Any) -> bool:
    """True only if `instance` is valid against `schema` (whose refs are `#/$defs/<name>`)."""
    try:
        return _valid(schema, schema, instance)
    except _Unsure:
        return False


def _valid(root: dict[str, Any], schema: Any, value: Any) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        return _unsure()
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        if not _keyword(root, schema, keyword, arg, value):
            return False
    return True


def _unsure() -> bool:
    raise _Unsure


def _keyword(root: dict[str, Any], schema: dict[str, Any], keyword: str, arg: Any, v: Any) -> bool:
    if keyword == "$ref":
        if not isinstance(arg, str) or not arg.startswith("#/$defs/"):
            return _unsure()
        target = root.get("$defs", {}).get(arg.removeprefix("#/$defs/"))
        return _unsure() if target is None else _valid(root, target, v)
    if keyword == "type":
        names = [arg] if isinstance(arg, str) else arg
        if not isinstance(names, list) or any(n not in _TYPES for n in names):
            return _unsure()
        return any(_TYPES[n](v) for n in names)
    if keyword == "enum":
        # Only text against text: jsonschema's equality of numbers and booleans is its own.
        if not isinstance(v, str) or not all(isinstance(e, str) for e in arg):
            return _unsure()
        return v in arg
    if keyword == "pattern":
        return not isinstance(v, str) or _pattern(arg).search(v) is not None
    if keyword == "minLength":
        return not isinstance(v, str) or len(v) >= arg
    if keyword == "minItems":
        return not isinstance(v, list) or len(v) >= arg
    if keyword == "minProperties":
        return not isinstance(v, dict) or len(v) >= arg
    if keyword == "required":
        return not isinstance(v, dict) or all(k in v for k in arg)
    if keyword == "properties":
        return not isinstance(v, dict) or all(
            _valid(root, sub, v[k]) for k, sub in arg.items() if k in v
        )
    if keyword == "additionalProperties":
        if not isinstance(v, dict):
            return True
        if "patternProperties" in schema:
            return _unsure()
        known = schema.get("properties", {})
        return all(_valid(root, arg, item) for k, item in v.items() if k not in known)
    if keyword == "propertyNames":
        return not isinstance(v, dict) or all(_valid(root, arg, k) for k in v)
    if keyword == "items":
        if "prefixItems" in schema:
            return _unsure()
        return not isinstance(v, list) or all(_valid(root, arg, item) for item in v)
    return _unsure()
