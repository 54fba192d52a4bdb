"""Ledgers into DuckDB as `raw_rows` (line, broken, the texts of the reference reader's COLUMNS).

- A plain CSV (no `"`, no bare carriage return, no NUL) is read by DuckDB itself, one physical
  line per row, so the row numbers are the file's line numbers; its fields are split in SQL.
- Any other CSV, and JSON Lines, go through the reference reader's own raw pass (quoting,
  multi-line fields, BOM, blank lines, JSON values as the reference turns them into text), in
  batches handed to DuckDB as columns; the structural rejections (L010, L011) come from it.
- Parquet is read by DuckDB; row N is the Nth record counting the header as row 1 (so the same
  rows as a CSV have the same numbers). Workbooks (.xlsx) are read with python-calamine, row N
  being the sheet's row N.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from ..ledger import COLUMNS, REQUIRED, LedgerError, LedgerReader, RawRow, Rejected
from .generate import TEXTS

_BLOCK = 1 << 24
_BATCH = 1 << 17
_DELIM = "\x01"  # a byte a plain CSV never holds: each line is read as one field
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


def csv_mode(path: Path) -> str:
    """How DuckDB may read a CSV file: "columns" (its own parser: no quoting, no bare CR, no
    NUL or \\x01, no blank line), "lines" (one physical line at a time: the same but with blank
    lines), or "python" (the reference reader's raw pass)."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".parquet", *SPREADSHEETS):
        return "python"
    crs = crlfs = 0
    blank = False
    with path.open("rb") as f:
        first = f.read(4).removeprefix(b"\xef\xbb\xbf")
        if not first or first.lstrip().startswith(b"{"):
            return "python"
        f.seek(0)
        tail = b""
        while block := f.read(_BLOCK):
            if b'"' in block or b"\x00" in block or b"\x01" in block:
                return "python"
            edge = tail + block[:2]
            blank = blank or _blank_line(block) or b"\n\n" in edge or b"\n\r\n" in edge
            if b"\r" in block or tail.endswith(b"\r"):
                crs += block.count(b"\r")
                crlfs += (tail[-1:] + block[:1]).count(b"\r\n") + block.count(b"\r\n")
            tail = block[-2:]
    if crs != crlfs:
        return "python"
    return "lines" if blank else "columns"


def _blank_line(block: bytes) -> bool:
    """Whether the block holds `\n\n` or `\n\r\n` (numpy: bytes.find is slow on a needle
    whose first byte ends every line; 3x faster at 10M rows)."""
    if b"\r" in block and b"\n\r\n" in block:
        return True
    newline = np.frombuffer(block, np.uint8) == 10
    return bool(np.any(newline[1:] & newline[:-1]))


def plain_csv(path: Path) -> bool:
    """Whether DuckDB reads the file itself (by columns or by lines)."""
    return csv_mode(path) != "python"


def header(path: Path) -> list[str]:
    with path.open("rb") as f:
        first = f.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LedgerError("L103", f"the ledger {path} is not UTF-8 text ({exc.reason})") from exc
    return [h.strip().lower() for h in text.rstrip("\r\n").split(",")]


def load(
    con: duckdb.DuckDBPyConnection, reader: LedgerReader, sheet: str | None
) -> tuple[list[Rejected], int]:
    """Create `raw_rows`; the rows rejected before any field is read, and the header's width."""
    path = reader.path
    suffix = path.suffix.lower()
    if not path.is_file():
        return python_rows(con, reader), 0  # the reference reader says why it cannot read it
    if suffix == ".parquet":
        _parquet(con, reader)
        return [], 0
    if suffix in SPREADSHEETS:
        return python_rows(con, _workbook(reader, sheet)), 0
    mode = csv_mode(path)
    if mode != "python":
        names = header(path)
        reader._columns(names)
        if mode == "columns":
            by_columns(con, path, names)
        else:
            by_lines(con, path, names)
        return [], len(names)
    return python_rows(con, reader), 0


def _pick(names: list[str], source: str) -> list[str]:
    """For each of COLUMNS, the SQL giving its text from `source` (a list of fields)."""
    index = {n: i for i, n in enumerate(names)}
    return [f"coalesce({source}[{index[c] + 1}], '')" if c in index else "''" for c in COLUMNS]


def by_columns(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> None:
    """DuckDB's own parallel parser, for a plain CSV without blank lines: row N is line N + 1.

    A row of the wrong width goes to DuckDB's `reject_errors` (then the row numbers after it
    would be off by its absence, so the caller reads the file again by lines: `by_lines`)."""
    spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names)))
    source = (
        f"read_csv({_quote(str(path))}, columns={{{spec}}}, header=false, skip=1, delim=',', "
        f"quote='', escape='', auto_detect=false, nullstr='{_DELIM}', store_rejects=true)"
    )
    index = {n: i for i, n in enumerate(names)}
    picks = [f"coalesce(c{index[c]}, '')" if c in index else "''" for c in COLUMNS]
    texts = ", ".join(f"{sql} AS {name}" for sql, name in zip(picks, TEXTS, strict=True))
    con.execute(
        f"""CREATE VIEW raw_rows AS
        SELECT line, CAST(NULL AS BIGINT) AS broken, {texts}
        FROM (SELECT row_number() OVER () + 1 AS line, * FROM {source})"""
    )


def rejected_widths(con: duckdb.DuckDBPyConnection) -> int:
    """How many rows `by_columns` set aside for their width."""
    try:
        found = con.execute("SELECT count(*) FROM reject_errors").fetchall()
    except duckdb.Error:
        return 0
    return int(found[0][0]) if found else 0


def by_lines(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> None:
    """One physical line per row, fields split in SQL: row N is line N, blank lines counted."""
    lines = (
        f"read_csv({_quote(str(path))}, columns={{'l': 'VARCHAR'}}, header=false, "
        f"delim='{_DELIM}', quote='', escape='', auto_detect=false, strict_mode=false)"
    )
    texts = ", ".join(
        f"{sql} AS {name}" for sql, name in zip(_pick(names, "f"), TEXTS, strict=True)
    )
    try:
        con.execute(
            f"""CREATE VIEW raw_rows AS
            SELECT line, CASE WHEN len(f) <> {len(names)} THEN len(f) END AS broken, {texts}
            FROM (SELECT line, string_split(l, ',') AS f
                  FROM (SELECT row_number() OVER () AS line, l FROM {lines})
                  WHERE line > 1 AND l IS NOT NULL)"""
        )
    except duckdb.Error as exc:  # pragma: no cover - the view is not read until staged
        raise LedgerError("L103", f"cannot read the ledger {path}: {exc}") from exc


def _parquet(con: duckdb.DuckDBPyConnection, reader: LedgerReader) -> None:
    path = reader.path
    source = f"read_parquet({_quote(str(path))}, file_row_number=true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise LedgerError("L103", f"cannot read the ledger {path}: {exc}") from exc
    actual = {str(r[0]).strip().lower(): str(r[0]) for r in described if r[0] != "file_row_number"}
    reader._columns(list(actual))
    picks = [
        f"coalesce(CAST({_ident(actual[c])} AS VARCHAR), '')" if c in actual else "''"
        for c in COLUMNS
    ]
    texts = ", ".join(f"{sql} AS {name}" for sql, name in zip(picks, TEXTS, strict=True))
    con.execute(
        f"CREATE VIEW raw_rows AS SELECT file_row_number + 2 AS line, "
        f"CAST(NULL AS BIGINT) AS broken, {texts} FROM {source}"
    )


def python_rows(
    con: duckdb.DuckDBPyConnection, rows: Iterable[RawRow | Rejected]
) -> list[Rejected]:
    """Rows read in Python, handed to DuckDB in batches of columns."""
    con.execute(
        "CREATE TABLE raw_table (line BIGINT, broken BIGINT, "
        + ", ".join(f"{t} VARCHAR" for t in TEXTS)
        + ")"
    )
    rejected: list[Rejected] = []
    batch: list[RawRow] = []

    def flush() -> None:
        if not batch:
            return
        data: dict[str, Any] = {
            "line": np.array([r[0] for r in batch], dtype=np.int64),
        }
        for i, name in enumerate(TEXTS):
            data[name] = np.array([r[1][i] for r in batch], dtype=object)
        con.register("batch_rows", data)
        con.execute(f"INSERT INTO raw_table SELECT line, NULL, {', '.join(TEXTS)} FROM batch_rows")
        con.unregister("batch_rows")
        batch.clear()

    for item in rows:
        if isinstance(item, Rejected):
            rejected.append(item)
            continue
        batch.append(item)
        if len(batch) >= _BATCH:
            flush()
    flush()
    con.execute("CREATE VIEW raw_rows AS SELECT * FROM raw_table")
    return rejected


def _workbook(reader: LedgerReader, sheet: str | None) -> Iterator[RawRow | Rejected]:
    """A workbook's sheet as raw rows: the first row names the columns."""
    from python_calamine import CalamineWorkbook

    path = reader.path
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # the reader raises its own error types
        raise LedgerError("L103", f"cannot read the workbook {path}: {exc}") from exc
    names = book.sheet_names
    if sheet is not None and sheet not in names:
        raise LedgerError(
            "X001",
            f"the workbook {path} has no sheet `{sheet}`",
            f"its sheets: {', '.join(names) or 'none'}",
        )
    if not names:
        raise LedgerError("L101", f"the workbook {path} has no sheet", "")
    cells = book.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=False)
    if not cells:
        raise LedgerError(
            "L101",
            f"the ledger {path} is empty: it needs a header line",
            f"required columns: {', '.join(REQUIRED)}",
        )
    header = [_cell(v).strip().lower() for v in cells[0]]
    reader._columns(header)
    index = {n: i for i, n in enumerate(header)}
    picks = [index.get(c) for c in COLUMNS]
    for number, values in enumerate(cells[1:], start=2):
        texts = [_cell(v) for v in values]
        if not any(t.strip() for t in texts):
            continue  # an empty row of the sheet holds no ledger row
        yield number, tuple(texts[i] if i is not None and i < len(texts) else "" for i in picks)


def _cell(value: object) -> str:
    """A cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
