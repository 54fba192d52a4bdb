"""Text that XML can hold: what the Word file is built from, whatever the agreement says.

A double-quoted YAML string can carry any control character (`"\\0"`, `"\\x1b"`); XML 1.0 has no
way to write most of them, and python-docx refuses the whole document. Before a Word file is
built, every string in the laid-out document loses the characters XML 1.0 cannot hold (C0
controls but tab, line feed and carriage return; lone surrogates; U+FFFE and U+FFFF) and the
C1 controls and DEL, which no printed text means. The agreement itself is not changed.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
T = TypeVar("T")


def xml_text(text: str) -> str:
    """`text` without the characters a Word document cannot hold."""
    return _NOT_XML.sub("", text)


def xml_safe(value: T) -> T:
    """A copy of a laid-out document (dataclasses, lists, tuples, dicts of text) made XML-safe."""
    result: T = _clean(value)
    return result


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value
