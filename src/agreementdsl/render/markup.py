"""The document's own markup, kept apart from the agreement's text.

The laid-out document's text is a small markup language: `**bold**`, `⟦ref:label⟧`
cross-references (resolved once clauses are numbered) and, in a redline, insertion and deletion
marks (private-use characters, so that a word diff can carry them through). Text from the
agreement — names, titles, aims, services, file names — is `protect`ed as it enters the
document: each character the markup uses, and the escape itself, becomes ESC and a digit. No
agreement text can therefore open a bold, a reference or a tracked change, whatever it holds.
Writers find the markup first and `release` each piece of text to exactly what was written.

`markdown` is the Markdown writer's half: it escapes what Markdown would read as formatting,
links or raw HTML, and nothing else, so ordinary prose stays as it was written.
"""

from __future__ import annotations

import re
from typing import Any

from ..terminal import visible

INS, END_INS, DEL, END_DEL = "\ue000", "\ue001", "\ue002", "\ue003"
ESC = "\ue00f"
SPECIAL = ("*", "⟦", "⟧", INS, END_INS, DEL, END_DEL, ESC)  # index = the digit after ESC
_PROTECT = re.compile("[" + re.escape("".join(SPECIAL)) + "]")
_RELEASE = re.compile(ESC + "([0-7])")
BOLD = re.compile(r"\*\*(.+?)\*\*")


def protect(text: str) -> str:
    """Agreement text made safe to place in document markup (reversed by `release`)."""
    return _PROTECT.sub(lambda m: ESC + str(SPECIAL.index(m.group())), text)


def release(text: str) -> str:
    """Protected text back to exactly what the agreement said."""
    return _RELEASE.sub(lambda m: SPECIAL[int(m.group(1))], text)


def protect_ir(value: Any) -> Any:
    """A copy of compiled rules (or any JSON value) with every string protected; keys are ids."""
    if isinstance(value, str):
        return protect(value)
    if isinstance(value, dict):
        return {key: protect_ir(item) for key, item in value.items()}
    if isinstance(value, list):
        return [protect_ir(item) for item in value]
    return value


def bold_pieces(text: str) -> list[tuple[bool, str]]:
    """Markup (without redline marks) as (bold, released text) pieces, in order."""
    pieces, pos = [], 0
    for match in BOLD.finditer(text):
        if match.start() > pos:
            pieces.append((False, release(text[pos : match.start()])))
        pieces.append((True, release(match.group(1))))
        pos = match.end()
    if pos < len(text):
        pieces.append((False, release(text[pos:])))
    return pieces


# ---------------------------------------------------------------- Markdown
_LINE_BREAK = re.compile(r"\s*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])\s*")
# Markdown's inline syntax: emphasis, code, links and images, raw HTML and autolinks, table
# cells, strikethrough, maths; and the backslash that escapes them.
_INLINE = re.compile(r"[\\`*_\[\]<>|~$#]")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # `&amp;` would be read as `&`
# What opens a block when it starts a line: a list item, a heading, a quote, a rule, a fence.
_BLOCK_START = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")


def markdown_text(text: str, block_start: bool = False) -> str:
    """Released text as Markdown that shows it literally.

    Only characters Markdown would read as syntax are escaped; hyphens, apostrophes, full
    stops, quotes, £ and % are left alone. Control characters and bidirectional overrides are
    shown as escapes (`\\x1b`, `\\u202e`), as on a terminal: a Markdown file is read in both. A line break becomes a space (in Markdown it is one),
    so no text can start a new block. With `block_start`, the text begins a line, so what would
    open a list, heading or rule there is escaped too.
    """
    text = visible(_LINE_BREAK.sub(" ", text))  # control characters shown, as on a terminal
    text = _ENTITY.sub(r"\\&", _INLINE.sub(lambda m: "\\" + m.group(), text))
    if block_start:
        text = text.lstrip()
        start = _BLOCK_START.match(text)
        if start:
            end = start.end()
            text = (
                text[:end] + "\\" + text[end:]
                if text[:1].isdigit()
                else "\\" + text  # `-`, `+`, `=`
            )
    return text


def markdown(markup: str, block_start: bool = False) -> str:
    """Document markup as Markdown: **bold** kept, agreement text escaped, deletions dropped."""
    markup = re.sub(f"{DEL}.*?{END_DEL}", "", markup, flags=re.S)
    markup = markup.replace(INS, "").replace(END_INS, "")
    out = []
    for i, (bold, piece) in enumerate(bold_pieces(markup)):
        text = markdown_text(piece, block_start and i == 0)
        out.append(f"**{text}**" if bold and text else text)
    return "".join(out)


def code_span(text: str) -> str:
    """Text as a Markdown code span: fenced with more backticks than it holds in a row, so
    nothing inside is read as Markdown (a code span has no escapes)."""
    text = visible(_LINE_BREAK.sub(" ", text))
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
