"""The working of one ledger row (`run --explain-row N`), from the reference executor's own steps.

Whatever engine ran the totals, the row is read again by the reference reader (`LedgerReader`:
the fields as the file holds them, then `check`, with its code and message for a bad row), and a
spend is classified by the pool's `Authority` as the reference executor classifies it: the rule
that applies (each earlier rule and why it does not), who may approve, and the decision, each
step citing the clause it comes from.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from ..calendar import FinancialYear
from ..money import format_money, format_pounds
from .approvals import Authority, FieldTuple
from .ledger import COLUMNS, SPREADSHEETS, LedgerReader, RawRow, Rejected, Txn
from .run import RunError, Working


@dataclass
class RowWorking:
    """One row's working: its texts, how they were read, and what the row does."""

    row: int
    texts: dict[str, str] | None  # None: no such row in the ledger
    rejected: Rejected | None = None
    steps: list[Working] = field(default_factory=list)
    decision: dict[str, object] | None = None  # a spend's approval, as in the JSON approvals

    def to_json(self) -> dict[str, object]:
        return {
            "row": self.row,
            "fields": self.texts,
            "rejected": self.rejected.to_json() if self.rejected else None,
            "working": [w.to_json() for w in self.steps],
            "approval": self.decision,
        }


def explain_row(
    ir: dict[str, Any],
    ledger: Path,
    row: int,
    sheet: str | None = None,
    year: FinancialYear | None = None,
    as_of: date | None = None,
) -> RowWorking:
    """The working of ledger row `row` (its physical line; in a workbook, its sheet row). With
    the run's `year` and `as-of` date, a row dated outside them is said to be left out of that
    run's figures, and has no `approval` (the run's approvals do not list it)."""
    if row < 1:
        raise RunError(
            f"--explain-row {row} is not a row number", usage=True, hint="rows count from 1"
        )
    shapes = _shapes(ir)
    reader = LedgerReader(ledger, shapes, frozenset(p["id"] for p in ir["partners"]))
    found = _find(reader, row, sheet)
    if isinstance(found, _Missing):
        said = _no_row(reader, row, found)
        return RowWorking(row, None, steps=[Working(f"row {row}", said)])
    if isinstance(found, Rejected):
        return RowWorking(
            row, None, found, [Working("read the row", f"{found.code} {found.message}")]
        )
    texts = dict(zip(COLUMNS, found[1], strict=True))
    result = reader.check(row, *found[1])
    out = RowWorking(row, texts)
    if isinstance(result, Rejected):
        out.rejected = result
        out.steps.append(Working("check the row", f"{result.code} {result.message}"))
        return out
    out.steps.append(Working("check the row", _read(result)))
    left_out = _left_out(result.day, year, as_of)
    if left_out is not None:
        out.steps.append(Working("the run's figures", left_out))
    pool = next(p for p in ir["pools"] if p["id"] == result.pool)
    if result.kind == "spend" and result.amount > 0:
        _spend(ir, pool, result, out, counted=left_out is None)
    else:
        out.steps.append(Working(_what(result), _effect(result)))
    return out


def _left_out(day: date, year: FinancialYear | None, as_of: date | None) -> str | None:
    """Why a row dated `day` is left out of a run of `year` to `as_of`, or None if it is in."""
    if year is not None and not year.contains(day):
        return (
            f"left out: dated {day}, outside the financial year run, {year.label} "
            f"({year.first_day} to {year.last_day}); what follows is the row's working in a run "
            "of its own year"
        )
    if as_of is not None and day > as_of:
        return (
            f"left out: dated {day}, after the as-of date {as_of}; what follows is the row's "
            "working in a run to a later date"
        )
    return None


def _shapes(ir: dict[str, Any]) -> dict[str, Any]:
    from .run import _shapes as shapes

    return shapes(ir)


@dataclass(frozen=True)
class _Missing:
    """No row has the number asked for: `last` is the last row number read before it (0 for
    none, -1 not known: Parquet is not read in order to look), `passed` whether the ledger has
    rows after it (the number falls between rows)."""

    last: int
    passed: bool
    unclosed: bool = False  # the last row read before it was rejected for an unclosed quote


def _no_row(reader: LedgerReader, row: int, found: _Missing) -> str:
    """Why no row has the number `row`."""
    text = reader.path.suffix.lower() not in (".parquet", *SPREADSHEETS)
    json_lines = text and reader.json_lines()
    if row == 1 and not json_lines:  # a CSV's, a workbook's and a Parquet file's numbering
        return "no ledger row has this number (row 1 is the header)"
    if found.passed:
        # the ledger goes on past it: an empty line, or a line inside a quoted field that runs
        # over several lines (such a row is numbered by its first line)
        csv_text = text and not json_lines
        if csv_text and found.last > 1 and row <= _record_end(reader, found.last):
            if found.unclosed:
                said = (
                    f"line {row} holds no row of its own: it lies within the quote that row "
                    f"{found.last} opens and does not close (L015), so it is not counted"
                )
                if (_line(reader, row) or "").strip():
                    said += "; with that quote closed it would be read as a row"
                return said
            return (
                f"line {row} holds no row of its own: it is inside a quoted field of row "
                f"{found.last}, which runs over several lines (a row is numbered by the line it "
                "starts on)"
            )
        return f"line {row} holds no row of its own: it is empty"
    if found.last > 0:
        return f"no ledger row has this number: the last row is {found.last}"
    if found.last == 0:
        return "no ledger row has this number: the ledger holds no rows"
    return "no ledger row has this number"


def _record_end(reader: LedgerReader, first: int) -> int:
    """The last line of the CSV record that begins on line `first`, as the reader's parser
    (Python's csv module, lines ending at LF, CR LF or a bare CR) reads it: a `"` counts as a
    quote only where it opens a field, so `12" monitor` opens nothing."""
    with reader.path.open(encoding=reader.sniff().codec, newline="") as handle:
        records = csv.reader(islice(handle, first - 1, None))
        try:
            next(records)
        except StopIteration:
            return first
        except csv.Error:  # a field past the limit: the record ends where it was cut, as L017's
            pass
        return first - 1 + records.line_num


def _line(reader: LedgerReader, line: int) -> str | None:
    """Line `line` of a text ledger (lines counted as its reader counts them), or None when it
    has fewer lines."""
    if line > sys.maxsize:  # (islice's limit; no file has so many lines)
        return None
    with reader.path.open(encoding=reader.sniff().codec, newline="") as handle:
        found: str | None = next(islice(handle, line - 1, None), None)
        return found


def _find(reader: LedgerReader, row: int, sheet: str | None) -> RawRow | Rejected | _Missing:
    """Row `row` of the ledger as the reference reader yields it, or why there is none."""
    suffix = reader.path.suffix.lower()
    items: Iterable[RawRow | Rejected]
    if suffix == ".parquet":
        found = _parquet_row(reader, row)
        return _Missing(-1, False) if found is None else found
    if suffix in SPREADSHEETS:
        from .sql.sources import _workbook

        items = _workbook(reader, sheet)
    else:
        items = reader
    last, unclosed = 0, False
    for item in items:
        number = item.row if isinstance(item, Rejected) else item[0]
        if number == row:
            return item
        if number > row:
            return _Missing(last, True, unclosed)
        last, unclosed = number, isinstance(item, Rejected) and item.code == "L015"
    # past the last row but within the file: an empty line at its end, or a line inside the
    # last row's quoted field
    within = suffix not in SPREADSHEETS and _line(reader, row) is not None
    return _Missing(last, within, unclosed)


def _parquet_row(reader: LedgerReader, row: int) -> RawRow | None:
    """Row N of a Parquet ledger (the (N-1)th record, as the DuckDB executor numbers them)."""
    if row - 2 > 2**63 - 1:  # past any file's records (and DuckDB's BIGINT)
        return None
    import duckdb

    from .sql.sources import _ident, _quote

    con = duckdb.connect()
    try:
        source = f"read_parquet({_quote(str(reader.path))}, file_row_number=true)"
        names = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        actual = {n.strip().lower(): n for n in names if n != "file_row_number"}
        reader._columns(list(actual))
        picks = [
            f"coalesce(CAST({_ident(actual[c])} AS VARCHAR), '')" if c in actual else "''"
            for c in COLUMNS
        ]
        found = con.execute(
            f"SELECT {', '.join(picks)} FROM {source} WHERE file_row_number = ?", [row - 2]
        ).fetchall()
    finally:
        con.close()
    return (row, tuple(str(v) for v in found[0])) if found else None


def _read(txn: Txn) -> str:
    parts = [f"{txn.kind} of {format_money(txn.amount)} on {txn.day} in pool `{txn.pool}`"]
    if txn.element:
        parts.append(f"element `{txn.element}`")
    if txn.partner:
        parts.append(f"partner `{txn.partner}`")
    if txn.kind == "spend":
        parts.append("within plan" if txn.in_plan else "not marked within plan")
        recorded = ", ".join(txn.approved_by)
        parts.append(f"approved by {recorded}" if recorded else "no approver recorded")
    return "; ".join(parts)


def _what(txn: Txn) -> str:
    return {
        "spend": "a spend of nothing or less needs no approval",
        "income": "income reduces the pool's net expenditure",
        "contribution": "a contribution received from a partner",
        "forecast": "a forecast of the outturn",
    }[txn.kind]


def _effect(txn: Txn) -> str:
    day = txn.day.isoformat()
    if txn.kind == "spend":
        return (
            f"net expenditure {'+' if txn.amount >= 0 else ''}{format_money(txn.amount)} on {day}"
        )
    if txn.kind == "income":  # (a negative income adds to net expenditure)
        return (
            f"net expenditure {'+' if txn.amount <= 0 else ''}{format_money(-txn.amount)} on {day}"
        )
    if txn.kind == "contribution":
        return f"{txn.partner} paid {format_money(txn.amount)} on {day}"
    return f"forecast outturn {format_money(txn.amount)} as of {day}"


def _spend(
    ir: dict[str, Any], pool: dict[str, Any], txn: Txn, out: RowWorking, counted: bool = True
) -> None:
    """The rule that applies, who may approve, and the decision (as RowExecutor._decide);
    `counted`: whether the run's figures hold the row (else it has no `approval` there)."""
    roles = frozenset(r["id"] for r in ir["roles"])
    authority = Authority(pool, roles)
    elements = {e["id"]: e["partner"] for e in pool["elements"]}
    fields: FieldTuple = (
        ("category", txn.category),
        ("element", txn.element),
        ("kind", "spend"),
        ("partner", txn.partner or elements.get(txn.element, "")),
        ("supplier", txn.supplier),
    )
    decision = authority.decide(txn.amount, txn.in_plan, fields, txn.approved_by)
    out.steps.append(
        Working(
            f"net expenditure of pool `{txn.pool}`",
            f"+{format_money(txn.amount)} on {txn.day.isoformat()}",
        )
    )
    for line in authority.why_not_lower(decision, txn.amount, txn.in_plan, fields):
        out.steps.append(Working("delegated authority", line))
    if decision.rule is None:
        out.steps.append(Working("delegated authority", "no spending rule applies"))
    verdict = "complies" if decision.compliant else "BREACHES delegated authority"
    source = f"{decision.rule.file}:{decision.rule.line}" if decision.rule else None
    out.steps.append(Working(decision.approved_words(), verdict, source))
    if not counted:
        return
    out.decision = {
        "row": txn.row,
        "date": txn.day.isoformat(),
        "amount": format_pounds(txn.amount),
        **decision.to_json(),
    }


def write_row_text(working: RowWorking, out: Any) -> None:
    """The working as text: the row's fields, then each step."""
    from ..terminal import visible as v

    out.write(f"\nRow {working.row} (read again by the reference executor)\n")
    if working.texts is not None:
        shown = ", ".join(f"{k}={v(repr(t))}" for k, t in working.texts.items() if t)
        out.write(f"  fields: {shown}\n")
    for step in working.steps:
        out.write(f"  {v(step.text())}\n")
