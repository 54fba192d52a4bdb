"""Cells of any CSV the tool writes, neutralised against formula injection.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula, and a leading tab
or carriage return can hide one; `=HYPERLINK(...)` or `=cmd|' /C calc'!A0` in a pool or partner
name would run in whoever opens the file. Per OWASP's CSV injection guidance such a cell is
written with a leading `'`, which spreadsheets show as text and do not evaluate. The full-width
forms (`＝`, `＋`, `－`, `＠`), which some spreadsheets also take as formulas, are treated alike.
Every CSV meant to be opened by people goes through `safe_cell`; the temporary ledgers the
scenario runner writes for the engine to read back are data, not output, and are left exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: str) -> str:
    """The cell as written: a leading `'` where a spreadsheet could run it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_text(rows: Iterable[Iterable[str]]) -> str:
    """CSV text of `rows` (header first), every cell neutralised.

    Lines end in CRLF (RFC 4180): Python's writer quotes a cell holding a character of the line
    terminator, so with CRLF a carriage return inside a cell is quoted too and cannot split a row.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([safe_cell(str(c)) for c in row] for row in rows)
    return out.getvalue()
