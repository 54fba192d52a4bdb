"""Quotes as a typesetter sets them: the Word file's text never holds a straight quote."""

from __future__ import annotations

from .markup import DEL, END_DEL, END_INS, INS

_MARKS = "*" + INS + END_INS + DEL + END_DEL  # markup around text, not text
_OPENS_AFTER = "([{\u2013\u2014-/\u201c\u2018"


def curly(text: str) -> str:
    """Straight quotes and apostrophes as typographic ones, length kept (one for one).

    A quote opens at the start or after a space or an opening bracket, dash or quote, and
    closes otherwise; an apostrophe closes (St John’s, Partners’) and so does one before a
    digit (’05). The markup's own characters (bold marks, redline marks) are looked through.
    """
    out: list[str] = []
    before = ""
    for i, char in enumerate(text):
        opening = not before or before.isspace() or before in _OPENS_AFTER
        if char == '"':
            char = "\u201c" if opening else "\u201d"
        elif char == "'":
            after = text[i + 1 : i + 2]
            char = "\u2018" if opening and not after.isdigit() else "\u2019"
        out.append(char)
        if char not in _MARKS:
            before = char
    return "".join(out)
