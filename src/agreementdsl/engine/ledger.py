"""Reading ledgers: CSV or JSON Lines, every row checked, bad rows reported and counted.

A row that cannot be used is yielded as a `Rejected` with its physical line number and a code;
the run goes on. A missing required column or an unreadable file stops the run (LedgerError).
Reading is the hot path of the engine, so the common cases take fast paths.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

from ..limits import MAX_LEDGER_FIELD, MAX_LEDGER_RECORD, MAX_PENCE, pounds
from ..lists import counted
from ..money import MoneyError, parse_amount
from ..redact import redact
from .structure import Pairs, duplicate_keys, read_header, unclosed_quote
from .textfile import HINT, Encoding, NotText, sniff

KINDS = frozenset({"spend", "income", "contribution", "forecast"})
REQUIRED = ("date", "pool", "kind", "amount")
OPTIONAL = (
    "element",
    "partner",
    "approved_by",
    "in_plan",
    "supplier",
    "category",
    "reference",
    "description",
)
# The columns a row is read as, in order (reference and description are free text, not used).
COLUMNS = (*REQUIRED, *OPTIONAL[:6])
RawRow = tuple[int, tuple[str, ...]]
NOT_A_POOL = "is not a pool of the agreement"  # L002's words (engine/multi.py rewords them)
_TRUE = frozenset({"true", "yes", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "", "n", "f"})


class Txn(NamedTuple):
    """One usable ledger row."""

    row: int
    day: date
    pool: str
    element: str
    kind: str
    amount: int  # pence
    partner: str
    approved_by: tuple[str, ...]
    in_plan: bool
    supplier: str
    category: str


@dataclass(frozen=True)
class Rejected:
    """A row that could not be used: where, a stable code and why."""

    row: int
    code: str
    message: str
    file: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"row": self.row, "code": self.code, "message": self.message}
        if self.file is not None:
            out["file"] = self.file
        return out


class LedgerError(Exception):
    """The ledger cannot be read at all (exit 1)."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        # a ledger named by a database URL (or libpq's key=value form) given where a file was
        # expected is quoted back: never with its password
        message = redact(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class PoolShape:
    """What a row needs to know about a pool to be checked."""

    elements: dict[str, str]  # element id -> the partner it is named against

    @property
    def requires_element(self) -> bool:
        return bool(self.elements)


JSON_HEAD = 64 << 10  # characters read for a ledger's first: `{` makes it JSON Lines


@dataclass
class LedgerReader:
    """Iterates a ledger file, yielding Txn or Rejected; counts rows and notes warnings."""

    path: Path
    pools: dict[str, PoolShape]
    partners: frozenset[str]
    warnings: list[str] = field(default_factory=list)
    _dates: dict[str, date | None] = field(default_factory=dict)
    # A slice of a CSV ledger, for a worker process: byte range, the header, first line number.
    part: tuple[int, int, list[str], int] | None = None
    encoding: Encoding | None = None  # found by `sniff`, once, before any row is read

    def sniff(self) -> Encoding:
        """Whether the file is text and its encoding (L018 stops the run; L019 warns)."""
        if self.encoding is None:
            try:
                self.encoding = sniff(self.path)
            except NotText as exc:
                raise LedgerError("L018", exc.message, HINT) from exc
            except OSError as exc:
                raise LedgerError(
                    "L103", f"cannot read the ledger {self.path}: {exc.strerror}"
                ) from exc
            if self.encoding.warning:
                self.warnings.append(self.encoding.warning)
        return self.encoding

    def _json_lines(self, head: str) -> bool:
        """Whether the ledger is read as JSON Lines: by its name, or by `{` as the first
        character of its `head` (its first JSON_HEAD characters) that is not a space or an
        empty line's break."""
        spaces = " \t\n\r\x0b\x0c"  # ASCII's, as the SQL executors' scan strips bytes
        return self.path.suffix.lower() in (".jsonl", ".ndjson") or head.lstrip(spaces).startswith(
            "{"
        )

    def json_lines(self) -> bool:
        """Whether the ledger is read as JSON Lines (as `__iter__` decides)."""
        with self.path.open(encoding=self.sniff().codec, newline="") as handle:
            return self._json_lines(handle.read(JSON_HEAD))

    def __iter__(self) -> Iterator[RawRow | Rejected]:
        """Rows as (line number, the COLUMNS' texts); structurally broken rows as Rejected."""
        if self.part is not None:
            yield from self._slice(*self.part)
            return
        codec = self.sniff().codec
        try:
            handle = self.path.open(encoding=codec, newline="")
        except OSError as exc:
            raise LedgerError(
                "L103", f"cannot read the ledger {self.path}: {exc.strerror}"
            ) from exc
        with handle:
            try:
                head = handle.read(JSON_HEAD)
                handle.seek(0)
                if self._json_lines(head):
                    yield from self._jsonl(handle)
                else:
                    yield from self._csv(handle)
            except UnicodeDecodeError as exc:
                raise LedgerError(
                    "L103", f"the ledger {self.path} is not UTF-8 text ({exc.reason})"
                ) from exc

    # ------------------------------------------------------------ formats
    def _columns(
        self, raw: list[str], named_by: str = "the first line must name the columns"
    ) -> list[str]:
        """The header's names, normalised; a missing or doubled column stops the run (its hint
        begins `named_by`)."""
        if not any(name.strip() for name in raw):
            raise self._empty_header()
        header = read_header(raw)
        missing = [c for c in REQUIRED if c not in header.names]
        if missing:
            guesses = [f"`{n}` is probably `{c}`" for c in missing if (n := header.probably(c))]
            raise LedgerError(
                "L101",
                f"the ledger {self.path} has no {_listed(missing)}",
                "; ".join(guesses) + ": rename it"
                if guesses
                else f"{named_by}; required: {', '.join(REQUIRED)}",
            )
        if header.problems:
            first = header.problems[0]
            raise LedgerError(first.code, f"the ledger {self.path} has {first.message}", first.hint)
        self.warnings.extend(w for w in header.warnings if w not in self.warnings)
        return header.names

    def _empty_header(self) -> LedgerError:
        """The error for a header with no names: of a text file, where its first line that
        names something is (empty lines above the header are the usual slip). Lines are read as
        the CSV reader reads them (CR, LF or CR LF; a line of spaces, commas or `""` is empty)."""
        required = f"required columns: {', '.join(REQUIRED)}"
        if self.path.suffix.lower() in (".parquet", *SPREADSHEETS) or not (self.path.is_file()):
            return LedgerError(
                "L101", f"the ledger {self.path} has an empty first row: it must name the columns",
                required,
            )  # fmt: skip
        codec = "utf-8-sig" if self.encoding is None else self.encoding.codec
        with self.path.open(encoding=codec, errors="replace", newline="") as handle:
            reader = csv.reader(handle)
            before = 0  # the physical line the last row read ended on
            try:
                for row in reader:
                    if any(field.strip() for field in row):
                        return self._header_after(before, row, required)
                    before = reader.line_num
                    if before >= _EMPTY_LINES_READ:
                        break
            except csv.Error:  # a line the CSV reader cannot read: not an empty one
                return self._header_after(reader.line_num - 1, [], required)
        if before >= _EMPTY_LINES_READ:
            return LedgerError(
                "L101",
                f"the ledger {self.path} has no header: none of its first {before:,} lines "
                "names a column",
                required,
            )
        return LedgerError(
            "L101",
            f"the ledger {self.path} has no header: it holds only empty lines",
            required,
        )

    def _header_after(self, empty: int, row: list[str], required: str) -> LedgerError:
        """The error for `empty` empty lines (0: none) before `row`, the first line with text
        (none: a line the CSV reader cannot read)."""
        if not empty:
            return LedgerError(
                "L101", f"the ledger {self.path} has no header: its first line names no column",
                required,
            )  # fmt: skip
        lines = f"{empty:,} empty line{'s' if empty > 1 else ''}"
        at = empty + 1
        missing = [c for c in REQUIRED if c not in read_header(row).names]
        if missing:
            return LedgerError(
                "L101",
                f"the ledger {self.path} begins with {lines}, and line {at}, the first with "
                f"text, does not name the columns either (no {_listed(missing)})",
                required,
            )
        return LedgerError(
            "L101",
            f"the ledger {self.path} begins with {lines}: the columns are named on line {at}",
            f"delete the empty line{'s' if empty > 1 else ''} above the header: the first line "
            "must name the columns",
        )

    def _slice(
        self, start: int, end: int, header: list[str], first_line: int
    ) -> Iterator[RawRow | Rejected]:
        with self.path.open("rb") as raw:
            raw.seek(start)
            codec = "utf-8" if self.encoding is None else self.encoding.codec.removesuffix("-sig")
            text = io.TextIOWrapper(
                io.BufferedReader(_Bounded(raw, end - start)), encoding=codec, newline=""
            )
            yield from self._csv(text, header, first_line)

    def _csv(
        self, handle: IO[str], header: list[str] | None = None, first_line: int = 0
    ) -> Iterator[RawRow | Rejected]:
        reader = csv.reader(handle)
        if header is None:
            try:
                header = next(reader, None)
            except csv.Error as exc:  # found by `make fuzz`: a header field past the limit
                raise LedgerError(
                    "L017",
                    f"the ledger {self.path} cannot be read: its header line (line 1) holds a "
                    f"field longer than the {MAX_LEDGER_FIELD:,} characters a ledger field may "
                    "have",
                    "the first line must name the columns; required: " + ", ".join(REQUIRED),
                ) from exc
        if header is None:
            raise LedgerError(
                "L101",
                f"the ledger {self.path} is empty: it needs a header line",
                f"required columns: {', '.join(REQUIRED)}",
            )
        names = self._columns(header)
        index = {n: i for i, n in enumerate(names)}
        width = len(names)
        # Absent optional columns read an empty slot appended to every row.
        pick = itemgetter(*[index.get(c, width) for c in COLUMNS])
        pad = any(c not in index for c in COLUMNS)
        start = first_line - 1 if first_line else 0
        last_line = reader.line_num + start
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # a field past the limit (the reader goes on after it)
                row, last_line = last_line + 1, reader.line_num + start
                yield _too_long(row, str(exc))
                continue
            row = last_line + 1
            last_line = reader.line_num + start
            if last_line > row and unclosed_quote(fields, width, index["date"]) is not None:
                message = (
                    f"a quote opened on line {row} is not closed where the row ends: it runs "
                    f"over the next {last_line - row} lines (to line {last_line}), none of which "
                    "is counted: close the quote and the rows among them are read"
                )
                self.warnings.append(f"L015: {message}")
                yield Rejected(row, "L015", message)
                continue
            if len(fields) != width:
                if not fields:
                    continue  # a blank line holds no row
                yield Rejected(row, "L010", wrong_width(len(fields), width))
                continue
            if pad:
                fields.append("")
            yield row, pick(fields)

    def _jsonl(self, handle: IO[str]) -> Iterator[RawRow | Rejected]:
        seen_columns = False
        for number, line in enumerate(handle, start=1):
            if len(line) > MAX_LEDGER_RECORD:
                yield Rejected(
                    number,
                    "L017",
                    f"the line is {len(line):,} characters long, more than the "
                    f"{MAX_LEDGER_RECORD:,} a record may have: it is not read",
                )
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_float=str, parse_int=str, object_pairs_hook=Pairs)
            except json.JSONDecodeError as exc:
                yield Rejected(number, "L010", f"the line is not JSON: {exc.msg}")
                continue
            if not isinstance(record, Pairs):
                yield Rejected(number, "L010", "the line is not a JSON object")
                continue
            twice = duplicate_keys(record)
            if twice:
                yield Rejected(
                    number,
                    "L012",
                    f"the record gives {', '.join(f'`{k}`' for k in twice)} more than once",
                )
                continue
            record = dict(record)
            if not seen_columns:
                self.warnings.extend(read_header([str(k) for k in record], exact=True).warnings)
                seen_columns = True
            missing = [c for c in REQUIRED if c not in record]
            if missing:
                yield Rejected(number, "L011", f"the record has no {', '.join(missing)}")
                continue
            nested = next((c for c in COLUMNS if not _plain(record.get(c))), None)
            if nested is not None:
                what = (
                    "an object"
                    if isinstance(record[nested], Pairs)
                    else "a list of lists or objects"
                )
                yield Rejected(
                    number,
                    "L010",
                    f"`{nested}` is {what}: a field is a string, a number, true, false or null, "
                    "or a list of those (read joined by `;`)",
                )
                continue
            yield number, tuple(_text(record.get(c)) for c in COLUMNS)

    def transactions(self) -> Iterator[Txn | Rejected]:
        """Every row checked in full: the careful path, for callers that want records."""
        for item in self:
            yield item if isinstance(item, Rejected) else self.check(item[0], *item[1])

    # ------------------------------------------------------------ one row
    def _date(self, text: str) -> date | None:
        try:
            return self._dates[text]
        except KeyError:
            value = self._dates[text] = self.parse_date(text)
            return value

    @staticmethod
    def parse_date(text: str) -> date | None:
        """An ISO date `YYYY-MM-DD`, or None."""
        text = text.strip()
        if (
            len(text) != 10
            or text[4] != "-"
            or text[7] != "-"
            or not (text[:4] + text[5:7] + text[8:]).isdigit()
        ):
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None

    def check(
        self,
        row: int,
        day_text: str,
        pool: str,
        kind: str,
        amount_text: str,
        element: str,
        partner: str,
        approved_by: str,
        in_plan: str,
        supplier: str,
        category: str,
    ) -> Txn | Rejected:
        """Validate one row's fields (LANGUAGE.md §9)."""
        day = self._date(day_text)
        if day is None:
            return Rejected(
                row, "L001", f"date '{day_text}' is not a date (YYYY-MM-DD){_date_hint(day_text)}"
            )
        # Ids are lower case in an agreement (E106), so a ledger's `BCF`, `Respite` or `HC` can
        # only mean `bcf`, `respite` or `hc`: a value that matches an id but for case is that id.
        pool = _as_id(pool.strip(), self.pools)
        shape = self.pools.get(pool)
        if shape is None:
            return Rejected(row, "L002", f"pool '{pool}' {NOT_A_POOL}")
        kind = kind.strip().lower()
        if kind not in KINDS:
            return Rejected(
                row, "L005", f"kind '{kind}' is not one of spend, income, contribution, forecast"
            )
        amount = _fast_amount(amount_text)
        if amount is None:
            try:
                amount = parse_amount(amount_text)
            except MoneyError as exc:
                code = exc.code or ("L004" if "decimals" in str(exc) else "L003")
                return Rejected(row, code, str(exc))
        if abs(amount) >= MAX_PENCE:
            return Rejected(
                row,
                "L016",
                f"amount '{amount_text.strip()}' is {pounds(MAX_PENCE)} or more, beyond any "
                "pooled budget",
            )
        element = _as_id(element.strip(), shape.elements)
        if element:
            if element not in shape.elements:
                return Rejected(
                    row, "L006", f"element '{element}' is not an element of pool '{pool}'"
                )
        elif kind == "spend" and shape.requires_element:
            return Rejected(row, "L007", f"a spend in pool '{pool}' must name its element")
        partner = _as_id(partner.strip(), self.partners)
        if partner and partner not in self.partners:
            return Rejected(row, "L008", f"partner '{partner}' is not a partner of the agreement")
        plan = in_plan.strip().lower()
        if plan not in _TRUE and plan not in _FALSE:
            return Rejected(row, "L009", f"in_plan '{in_plan}' is not true or false")
        approvers = (
            tuple(a.strip() for a in approved_by.split(";") if a.strip()) if approved_by else ()
        )
        return Txn(
            row,
            day,
            pool,
            element,
            kind,
            amount,
            partner,
            approvers,
            plan in _TRUE,
            # as written, whatever else of the row needed reading carefully: a condition's
            # `supplier is "…"` compares the text exactly (LANGUAGE.md §5), and stripping it
            # here made a spend's rule depend on how its amount was written (`£20,000.00` or
            # `20000.00`, the fast path keeping the text; found by an auditor)
            supplier,
            category,
        )


def _as_id(value: str, known: Any) -> str:
    """`value`, or the id it names but for case (`Respite` for `respite`); as written otherwise,
    so that a message about an unknown value shows it as it was."""
    if value in known:
        return value
    folded = value.lower()
    return folded if folded in known else value


def side_rows(
    path: Path, kind: str, required: tuple[str, ...], columns: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a disputes or measures CSV file as (physical line, stripped fields).

    A file that cannot be read, is not UTF-8 or lacks a required column stops the run
    (LedgerError), like a ledger.
    """
    try:
        encoding = sniff(path, f"{kind} file")
        handle = path.open(encoding=encoding.codec, newline="")
    except NotText as exc:
        raise LedgerError("L018", exc.message, HINT) from exc
    except OSError as exc:
        raise LedgerError("L103", f"cannot read the {kind} file {path}: {exc.strerror}") from exc
    with handle:
        try:
            reader = csv.DictReader(handle)
            # names matched as ledger columns are: regardless of case and surrounding spaces
            names = [n.strip().lower() for n in reader.fieldnames or []]
            reader.fieldnames = names
            for name in names:
                close = difflib.get_close_matches(name, columns, n=1, cutoff=0.75)
                if name not in columns and close:
                    raise LedgerError(
                        "L013",
                        f"the {kind} file {path} has a column `{name}`, not one of its columns: "
                        f"is it `{close[0]}`?",
                        f"columns: {', '.join(columns)}",
                    )
            twice = [c for c in columns if names.count(c) > 1]
            if twice:
                raise LedgerError(
                    "L012",
                    f"the {kind} file {path} has the column `{twice[0]}` twice: which one holds "
                    "it cannot be told",
                    f"keep one `{twice[0]}` column",
                )
            missing = [c for c in required if c not in names]
            if missing:
                raise LedgerError(
                    "L101",
                    f"the {kind} file {path} has no {', '.join(missing)} column",
                    f"columns: {', '.join(columns)}",
                )
            last = reader.line_num
            for record in reader:
                row, last = last + 1, reader.line_num
                yield row, {c: (record.get(c) or "").strip() for c in columns}
        except UnicodeDecodeError as exc:
            raise LedgerError(
                "L103", f"the {kind} file {path} is not UTF-8 text ({exc.reason})"
            ) from exc
        except csv.Error as exc:
            raise LedgerError(
                "L017", f"the {kind} file {path} cannot be read: {_too_long(0, str(exc)).message}"
            ) from exc


class _Bounded(io.RawIOBase):
    """At most `left` bytes of an open binary file, from where it stands."""

    def __init__(self, raw: IO[bytes], left: int) -> None:
        self.raw = raw
        self.left = left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self.left)]
        got = self.raw.readinto(view)  # type: ignore[attr-defined]
        self.left -= got or 0
        return got or 0


def _too_long(row: int, problem: str) -> Rejected:
    if "field limit" in problem:
        message = (
            f"a field is longer than the {MAX_LEDGER_FIELD:,} characters a ledger field may "
            "have: the row is not read"
        )
        return Rejected(row, "L017", message)
    return Rejected(row, "L010", f"the row cannot be read as CSV: {problem}")


def _date_hint(text: str) -> str:
    """A suggestion for dates in the day/month/year form spreadsheets export."""
    parts = text.strip().replace(".", "/").replace("-", "/").split("/")
    if len(parts) == 3 and all(p.isdigit() and p.isascii() for p in parts) and len(parts[2]) == 4:
        day, month, year = (int(p) for p in parts)
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"; if it is {day} {date(2000, month, 1):%B} {year}, write {year}-{month:02d}-{day:02d}"
    return ""


def wrong_width(fields: int, width: int) -> str:
    """L010's message for a CSV row of `fields` fields under a header of `width`."""
    message = f"the row has {counted(fields, 'field')} but the header has {width}"
    if fields > width:  # most often a comma in a field that is not quoted
        message += (
            ' (a field holding a comma is written in double quotes, `"£1,250.00"`; roles in '
            "`approved_by` are separated by `;`)"
        )
    return message


def _plain(value: object) -> bool:
    """Whether a JSON Lines value can be a field's text: not an object, and not a list holding
    one or another list (`_text` would write Python's form of it)."""
    if isinstance(value, Pairs):
        return False
    if isinstance(value, list):
        return not any(isinstance(v, list) for v in value)  # (Pairs is a list too)
    return True


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_text(v) for v in value)  # null as nothing, true as `true`
    return str(value)


def _fast_amount(text: str) -> int | None:
    """Pence for the plain form `12500.00` / `12500`, or None to take the careful path."""
    whole, dot, frac = text.partition(".")
    if (
        whole.isdigit()
        and whole.isascii()
        and (not dot or (len(frac) == 2 and frac.isdigit() and frac.isascii()))
    ):
        return int(whole) * 100 + (int(frac) if dot else 0)
    return None


_EMPTY_LINES_READ = 100_000  # lines read looking for a header below empty ones
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")  # workbooks (read with --engine duckdb)


def _listed(columns: list[str]) -> str:
    """`date` column, or `date`, `pool` columns."""
    return f"{', '.join(f'`{c}`' for c in columns)} column{'s' if len(columns) > 1 else ''}"
