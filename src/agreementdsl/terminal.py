"""Text for terminals: fields from ledgers and agreements are shown, never obeyed.

A supplier name or a clause may hold escape sequences (colours, a new window title, a link, a
clipboard write) or characters that reorder the line (bidirectional overrides). Every text
report passes each field it echoes through `visible`, which writes such characters as escapes
(`\\x1b`, `\\u202e`) instead of sending them to the terminal.
"""

from __future__ import annotations

import re

# C0 controls (tab and line breaks included: one field is one line), DEL, C1 controls, and the
# bidirectional embeddings, overrides and isolates, and the line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """`text` as a string with every control character written as an escape."""
    return _CONTROL.sub(_escape, str(text))
