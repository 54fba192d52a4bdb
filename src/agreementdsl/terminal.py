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


# Characters XML 1.0 cannot hold at all: most C0 controls, U+FFFE, U+FFFF, lone surrogates.
# (and DEL and the C1 controls, which XML allows but Word shows as boxes or acts on: escaped too)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: object) -> str:
    """`text` as a string XML can carry: each character XML cannot hold is written as its
    escape (`\\x1b`), as `visible` writes it, instead of making the file unreadable."""
    return _NOT_XML.sub(_escape, str(text))
