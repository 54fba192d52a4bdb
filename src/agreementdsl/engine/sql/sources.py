"""Ledgers into DuckDB as `raw_rows` (line, broken, the texts of the reference reader's COLUMNS).

- A plain CSV (no `"`, no bare carriage return, no NUL) is read by DuckDB's own parser, one
  physical line per row, so the row numbers are the file's line numbers; one with an empty
  line (which that parser skips) is read a line at a time instead, and one it misreads (rows
  of the wrong width) is read again that way. A large one is read in parts side by side, each
  through a named pipe (`Pipes`).
- Any other CSV, and JSON Lines, go through the reference reader's own raw pass (quoting,
  multi-line fields, BOM, blank lines, JSON values as the reference turns them into text), in
  batches handed to DuckDB as columns; the structural rejections (L010, L011) come from it.
- Parquet is read by DuckDB; row N is the Nth record counting the header as row 1 (so the same
  rows as a CSV have the same numbers). Workbooks (.xlsx) are read with python-calamine, row N
  being the sheet's row N.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from ...limits import MAX_LEDGER_FIELD
from ..ledger import (
    COLUMNS,
    JSON_HEAD,
    REQUIRED,
    SPREADSHEETS,
    LedgerError,
    LedgerReader,
    RawRow,
    Rejected,
)
from ..textfile import signed
from .generate import AMOUNT_RE, TEXTS

_BLOCK = 1 << 20  # bytes read at a time: numpy's work on a block stays in the cache
_BATCH = 1 << 17
_LOOK = 64 << 10  # bytes read at a time looking for where a part begins (`_line_start`)
_DELIM = "\x01"  # a byte a plain CSV never holds: each line is read as one field


@dataclass
class Scan:
    """What one read of a CSV file tells before DuckDB reads it.

    `mode`: "columns" (DuckDB's own parser may read it: UTF-8, no quoting, no bare CR, no
    mix of CR LF and LF, no NUL or \\x01, no overlong line), "lines" (the same, but with an
    empty line, which that parser would skip: read a line at a time, `by_lines`) or "python"
    (the reference reader's raw pass). `rows`: the lines after the header, which DuckDB must
    give back as rows by columns (fewer, or rows set aside: `Loaded.misread`, the file is read
    again by lines). `cuts`: where each part after the first begins, as (byte offset, line
    number of its first row), each just after a line break.
    """

    mode: str
    rows: int = 0
    cuts: list[tuple[int, int]] = field(default_factory=list)


def scan(path: Path, parts: int = 1) -> Scan:
    """Read a CSV file once, a block at a time, for `Scan` (cut into `parts` where it can be).
    The last file scanned is remembered by its path, size, time of change and `parts`: `auto`
    scans a large ledger to choose its engine (choose.py) and DuckDB then needs the same."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".parquet", *SPREADSHEETS):
        return Scan("python")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, parts)
    if _last_scan and _last_scan[0] == key:
        return _last_scan[1]
    found = _scan(path, parts, stat.st_size)
    _last_scan[:] = [key, found]
    return found


_last_scan: list[Any] = []  # [key, Scan] of the last file scanned (`scan`)


def _scan(path: Path, parts: int, size: int) -> Scan:
    """`scan`'s read: the file in `parts` ranges, each from a line's start (where the parts
    will begin), read side by side, one thread each. The reads and numpy's counts run side
    by side; the searches for a byte and the UTF-8 checks hold Python's lock, but are the
    smaller part (1 GB, 10M rows: 0.34 s in two ranges against 0.43-0.71 s in one)."""
    with path.open("rb") as f:
        head = f.read(JSON_HEAD + 3)  # the reader's JSON_HEAD characters, after a BOM
        first = head.removeprefix(b"\xef\xbb\xbf")[:JSON_HEAD]
        # JSON Lines (a first `{` after any spaces or empty lines, as the reader decides), a
        # file with a byte-order mark of UTF-16 or 32, or an empty one: the reference reader's
        if not first or first.lstrip().startswith(b"{") or signed(head):
            return Scan("python")
        starts = [0]
        for k in range(1, parts):
            at = _line_start(f, size * k // parts, size)
            if at is not None and at > starts[-1]:
                starts.append(at)
        tails = []
        for start in starts:  # the two bytes before each range: for an empty line at its start
            f.seek(max(start - 2, 0))
            tails.append(f.read(start - max(start - 2, 0)))
    ends = [*starts[1:], size]
    stop = threading.Event()  # set by the first range that finds the file is not plain
    found: list[_Range | None] = [None] * len(starts)
    failed: list[BaseException] = []  # an error reading a range, raised here

    def read(k: int) -> None:
        try:
            found[k] = _scan_range(path, starts[k], ends[k], tails[k], stop)
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)
            stop.set()

    if len(starts) == 1:
        read(0)
    else:
        threads = [threading.Thread(target=read, args=(k,)) for k in range(len(starts))]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except BaseException:  # Ctrl-C, or a thread could not start: the others stop too
            stop.set()
            for thread in threads:
                if thread.ident is not None:
                    thread.join()
            raise
    if failed:
        raise failed[0]
    if stop.is_set() or any(r is None for r in found):
        return Scan("python")
    ranges = [r for r in found if r is not None]
    crs, crlfs = sum(r.crs for r in ranges), sum(r.crlfs for r in ranges)
    newlines = sum(r.newlines for r in ranges)
    last = ranges[-1]
    if last.since > LONG_LINE:
        return Scan("python")  # the last line, with no line break after it
    if crs != crlfs or 0 < crlfs < newlines:
        # A bare CR, or CR LF and LF both ending lines: DuckDB's parser refuses the mix by
        # columns and, by lines, took each CR LF for two breaks (every later row misnumbered).
        return Scan("python")
    cuts: list[tuple[int, int]] = []
    line = 1  # the number of the line each range starts on
    for start, r in zip(starts, ranges, strict=True):
        if line > 2 and start < size:
            cuts.append((start, line))  # not inside the header, nor at the very end
        line += r.newlines
    lines = newlines + (0 if last.ends_line else 1)
    return Scan("lines" if any(r.blank for r in ranges) else "columns", lines - 1, cuts)


def _line_start(f: Any, target: int, size: int) -> int | None:
    """Where the first line starting after byte `target` starts (just after the first line
    break at or after it); None when no line break follows."""
    f.seek(target)
    at = target
    while at < size:
        block = f.read(min(_LOOK, size - at))
        if not block:
            break
        found = block.find(b"\n")
        if found >= 0:
            return at + found + 1
        at += len(block)
    return None


@dataclass
class _Range:
    """What `_scan_range` found in its part of the file (None from it: not a plain CSV)."""

    crs: int
    crlfs: int
    newlines: int
    blank: bool  # an empty line (not the first line of the file)
    since: int  # bytes after its last line break
    ends_line: bool  # its last byte is a line break


def _scan_range(
    path: Path, start: int, end: int, tail: bytes, stop: threading.Event
) -> _Range | None:
    """Read bytes `start` to `end` of the file (`start` a line's start; `tail` the bytes just
    before it), a block at a time, for `Scan`; None (and `stop` set) as soon as the range
    shows the file is not for DuckDB's parser, or when another range has shown it."""
    crs = crlfs = newlines = 0
    blank = False
    # Only UTF-8 goes to DuckDB's parser (which does not check the columns it does not read):
    # any other file is the reference reader's to decode, warn about (L019) or refuse (L018).
    utf8 = codecs.getincrementaldecoder("utf-8")()
    since = 0  # bytes since the last line break
    buffer = bytearray(_BLOCK)
    with path.open("rb") as f:
        f.seek(start)
        at = start
        while at < end and not stop.is_set():
            read = f.readinto(memoryview(buffer)[: min(_BLOCK, end - at)])
            if not read:
                break
            block = buffer if read == len(buffer) else buffer[:read]  # one buffer, reused
            at += read
            if b'"' in block or b"\x00" in block or b"\x01" in block:
                break
            if not block.isascii() or utf8.getstate()[0]:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    break
            if b"\r" in block or tail.endswith(b"\r"):
                crs += block.count(b"\r")
                crlfs += (tail[-1:] + block[:1]).count(b"\r\n") + block.count(b"\r\n")
            ends = np.frombuffer(block, np.uint8) == 10
            if not blank:
                blank = _empty_line(block, ends, tail)
            if _long_line(block, since):
                break
            last_break = block.rfind(b"\n")
            since = since + len(block) if last_break < 0 else len(block) - 1 - last_break
            newlines += int(np.count_nonzero(ends))
            tail = (tail + block[-2:])[-2:]
        else:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                pass  # the range ends inside a character
            else:
                if not stop.is_set():
                    return _Range(crs, crlfs, newlines, blank, since, tail.endswith(b"\n"))
    stop.set()
    return None


def _empty_line(block: bytearray, ends: Any, tail: bytes) -> bool:
    """Whether an empty line ends in this block (`ends`: where its line breaks are; `tail`:
    the last bytes before it). Two line breaks side by side, found with numpy (a search for
    b"\n\n" took 1 ms a megabyte, five times the rest of the scan), or a line break, a
    carriage return and a line break where the block holds a carriage return."""
    if bool(np.any(ends[1:] & ends[:-1])) or (tail[-1:] == b"\n" and block[:1] == b"\n"):
        return True
    if b"\r" not in block and tail[-1:] != b"\r":
        return False
    crs = np.frombuffer(block, np.uint8) == 13
    if bool(np.any(ends[:-2] & crs[1:-1] & ends[2:])):
        return True
    return b"\n\r\n" in tail[-2:] + block[:2]


def _long_line(block: bytearray, since: int) -> bool:
    """Whether a line longer than LONG_LINE ends in or runs through this block, `since` bytes
    of it before the block. Cheap for the usual file: a line that long covers one of the
    windows of half its length, and each window is searched for a line break first."""
    first = block.find(b"\n")
    if since + (len(block) if first < 0 else first) > LONG_LINE:
        return True
    half = LONG_LINE // 2
    if all(block.find(b"\n", at, at + half) >= 0 for at in range(0, len(block), half)):
        return False
    breaks = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    return len(breaks) > 1 and int(np.diff(breaks).max()) - 1 > LONG_LINE


def csv_mode(path: Path) -> str:
    """How DuckDB may read a CSV file: "columns" or "python" (see `Scan`)."""
    return scan(path).mode


def plain_csv(path: Path) -> bool:
    """Whether DuckDB reads the file itself (by columns or by lines)."""
    return csv_mode(path) != "python"


def raw_header(path: Path) -> list[str]:
    """The header's names as written (the reader normalises them and warns: `_columns`)."""
    with path.open("rb") as f:
        first = f.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LedgerError("L103", f"the ledger {path} is not UTF-8 text ({exc.reason})") from exc
    return text.rstrip("\r\n").split(",")


def header(path: Path) -> list[str]:
    """The header's names, trimmed and in lower case."""
    return [h.strip().lower() for h in raw_header(path)]


SAMPLE_LINES = 2_000  # the rows `mostly_doubtful` looks at


def mostly_doubtful(path: Path) -> bool:
    """Whether most of a plain CSV's first rows have an amount the SQL leaves to the reference
    reader's own check (`£1,250.00`, `1250.5`: generate.AMOUNT_RE), so that DuckDB would only
    hand them back to it, slower and in more memory than the reference alone (an all-`£` 1M
    ledger: 25.5 s and 1.35 GB against 23.1 s and 990 MB)."""
    names = header(path)
    if "amount" not in names:
        return False
    at, plain = names.index("amount"), re.compile(AMOUNT_RE)
    seen = doubtful = 0
    with path.open("rb") as f:
        f.readline()
        for raw in islice(f, SAMPLE_LINES):
            fields = raw.decode("utf-8", "replace").rstrip("\r\n").split(",")
            if len(fields) != len(names):
                continue  # a row the reader rejects either way
            seen += 1
            doubtful += plain.match(fields[at]) is None
    return doubtful * 2 > seen > 0


# A line longer than a field may be (L017) may hold an overlong field, which the SQL does not
# look for (and DuckDB's parser refuses a line of 2 MB): the reference reader reads that file.
LONG_LINE = MAX_LEDGER_FIELD
PIPE_BYTES = 32 << 20  # from this size a plain CSV is read in parts side by side (`Pipes`)
PIPE_BUFFER = 1 << 20  # each pipe's buffer, where the system allows (`_widen`)


class Pipes:
    """A plain CSV handed to DuckDB in parts, one named pipe each, so that it reads them side
    by side. Rows are numbered by `row_number() OVER ()`, which DuckDB computes in one thread
    per scan: over the whole file that made the parse and everything after it serial (twice
    the time on two cores). Each part is numbered from the line its first row is on.

    A pipe can be read once: every statement that reads the ledger runs inside `feeding()`,
    which hands each part over once, and reads it once (no statement here scans it twice).
    """

    def __init__(self, path: Path, folder: Path, cuts: list[tuple[int, int]]) -> None:
        self.path = path
        size = path.stat().st_size
        self.starts = [(0, 1), *cuts]  # (byte offset, line number) where each part begins
        self.ends = [c[0] for c in cuts] + [size]
        self.names = [folder / f"ledger-part-{k}.csv" for k in range(len(self.starts))]
        for name in self.names:
            os.mkfifo(name)
        self.size = size
        self.sent = 0  # bytes handed over by the current `feeding`

    def fraction(self) -> float:
        return self.sent / self.size if self.size else 1.0

    @contextmanager
    def feeding(self, upto: int | None = None) -> Iterator[None]:
        """Feed every part to whoever opens its pipe, once, while the block runs; with `upto`,
        only the lines up to that line number (the later parts come empty), for a statement
        that wants no row after it."""
        self.sent = 0
        stop = threading.Event()
        ends = list(self.ends)
        if upto is not None:
            ends = self._ends_upto(upto)
        threads = [
            threading.Thread(target=self._feed, args=(k, stop, ends[k]), daemon=True)
            for k in range(len(self.names))
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for name, thread in zip(self.names, threads, strict=True):
                if thread.is_alive():
                    # Still waiting for a reader (the statement failed before it read this
                    # part): open the pipe here so the feeder wakes, sees `stop` and ends.
                    with suppress(OSError):
                        os.close(os.open(name, os.O_RDONLY | os.O_NONBLOCK))
                thread.join(timeout=10)

    def _ends_upto(self, line: int) -> list[int]:
        """Where each part's feed stops for the lines up to `line`: just after that line's
        break in the part that holds it, at its start in every later part."""
        ends = []
        for (start, first), end in zip(self.starts, self.ends, strict=True):
            if first > line:
                ends.append(start)  # the part starts after the line: nothing of it
                continue
            wanted, at = line - first + 1, start  # line breaks to pass within this part
            with self.path.open("rb") as f:
                f.seek(start)
                while wanted > 0 and at < end:
                    block = f.read(min(_BLOCK, end - at))
                    if not block:
                        break
                    breaks = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
                    if len(breaks) >= wanted:
                        at += int(breaks[wanted - 1]) + 1
                        wanted = 0
                        break
                    wanted -= len(breaks)
                    at += len(block)
            ends.append(end if wanted > 0 else min(at, end))
        return ends

    def _feed(self, k: int, stop: threading.Event, end: int) -> None:
        try:
            out = os.open(self.names[k], os.O_WRONLY)  # waits for DuckDB to open the pipe
        except OSError:
            return
        try:
            if stop.is_set():
                return
            _widen(out)
            with self.path.open("rb") as source:
                self._send(source.fileno(), out, self.starts[k][0], end)
        except (BrokenPipeError, ConnectionResetError):
            pass  # DuckDB stopped reading (the statement failed or was cut short)
        finally:
            os.close(out)

    def _send(self, source: int, out: int, start: int, end: int) -> None:
        at = start
        while at < end:
            try:
                n = os.sendfile(out, source, at, min(_BLOCK, end - at))
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK):
                    raise
                n = self._copy(source, out, at, end)
            if n == 0:
                return
            at += n
            self.sent += n

    @staticmethod
    def _copy(source: int, out: int, at: int, end: int) -> int:
        """Where the kernel cannot send a file to a pipe (not Linux): read, then write."""
        block = os.pread(source, min(1 << 20, end - at), at)
        view = memoryview(block)
        while view:
            view = view[os.write(out, view) :]
        return len(block)


def _widen(pipe: int) -> None:
    """Give a pipe a buffer of up to PIPE_BUFFER bytes where the system allows (Linux): with
    its default 64 KiB, DuckDB and the feeder woke each other sixteen times as often (a 10M-row
    pass took about a second longer)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not a POSIX system
        return
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if setting is None:  # pragma: no cover
        return
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            ceiling = int(f.read())
    except (OSError, ValueError):
        ceiling = PIPE_BUFFER
    with suppress(OSError):
        fcntl.fcntl(pipe, setting, min(PIPE_BUFFER, ceiling))


@dataclass
class Loaded:
    """`raw_rows` made: the rows rejected before any field was read, the header's width, the
    rows DuckDB must give back (a plain CSV read by columns: its lines after the header), the
    pipes its parts come through (read the ledger only inside `feeding()`), and a plain CSV's
    lines after the header (for the progress bar's total)."""

    rejected: list[Rejected]
    width: int
    rows: int | None = None
    pipes: Pipes | None = None
    lines: int | None = None  # a CSV's lines after the header, as the scan counted them

    def feeding(self, upto: int | None = None) -> AbstractContextManager[None]:
        """Run a statement that reads the ledger inside this. With `upto`, it may be given
        only the lines up to that line number (when its rows come through pipes): a
        statement that wants no row after it must still filter on `line`."""
        return self.pipes.feeding(upto) if self.pipes is not None else nullcontext()

    def misread(self, con: duckdb.DuckDBPyConnection, rows: int) -> bool:
        """Whether DuckDB's parser, having given back `rows` rows, misread the file's lines:
        it set some aside for their width, or skipped blank ones. Then the row numbers after
        them are off, and the file must be read again by lines (`by_lines`)."""
        return bool(rejected_widths(con)) or (self.rows is not None and rows != self.rows)


def load(
    con: duckdb.DuckDBPyConnection,
    reader: LedgerReader,
    sheet: str | None,
    folder: Path | None = None,
) -> Loaded:
    """Create `raw_rows`. With a `folder` for its pipes, a large plain CSV is read in as many
    parts as DuckDB has threads (`Pipes`)."""
    path = reader.path
    suffix = path.suffix.lower()
    if not path.is_file():
        return Loaded(python_rows(con, reader), 0)  # the reference reader says why it cannot
    if suffix == ".parquet":
        _parquet(con, reader)
        return Loaded([], 0)
    if suffix in SPREADSHEETS:
        return Loaded(python_rows(con, _workbook(reader, sheet)), 0)
    wanted = parts(con) if folder is not None and path.stat().st_size >= PIPE_BYTES else 1
    found = scan(path, wanted)
    if found.mode == "python":
        return Loaded(python_rows(con, reader), 0)
    names = reader._columns(raw_header(path))  # with the reader's warnings (L014)
    pipes = Pipes(path, folder, found.cuts) if folder is not None and found.cuts else None
    if found.mode == "lines":  # read once, by lines (not by columns, then again by lines)
        by_lines(con, path, header(path), pipes)
        return Loaded([], len(names), None, pipes, found.rows)
    by_columns(con, path, names, pipes)
    return Loaded([], len(names), found.rows, pipes, found.rows)


def parts(con: duckdb.DuckDBPyConnection) -> int:
    """How many parts a large CSV is read in: one for each of DuckDB's threads."""
    return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])


def default_parts() -> int:
    """`parts` of a new connection (the executor's, before it is made)."""
    with duckdb.connect() as con:
        return parts(con)


def _pick(names: list[str], source: str) -> list[str]:
    """For each of COLUMNS, the SQL giving its text from `source` (a list of fields)."""
    index = {n: i for i, n in enumerate(names)}
    return [f"coalesce({source}[{index[c] + 1}], '')" if c in index else "''" for c in COLUMNS]


def _numbered(path: Path, pipes: Pipes | None, read: Callable[[str, bool], str], first: int) -> str:
    """The file's rows with their line numbers (`line`), read by `read(path, first part?)`
    whose first row is on line `first`; part by part, side by side, when there are pipes."""
    parts = [(str(path), first)]
    if pipes is not None:
        parts = [(str(n), first if k == 0 else s[1]) for k, (n, s) in enumerate(
            zip(pipes.names, pipes.starts, strict=True))]  # fmt: skip
    return " UNION ALL ".join(
        f"SELECT row_number() OVER () + {line - 1} AS line, * FROM {read(name, k == 0)}"
        for k, (name, line) in enumerate(parts)
    )


def by_columns(
    con: duckdb.DuckDBPyConnection, path: Path, names: list[str], pipes: Pipes | None = None
) -> None:
    """DuckDB's own parallel parser, for a plain CSV: row N is line N + 1, unless DuckDB sets a
    row aside for its width (`reject_errors`) or skips a blank line (`Loaded.misread`: then
    the caller reads the file again by lines)."""
    spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names)))

    def read(name: str, first: bool) -> str:
        return (
            f"read_csv({_quote(name)}, columns={{{spec}}}, header=false, skip={int(first)}, "
            f"delim=',', quote='', escape='', auto_detect=false, nullstr='{_DELIM}', "
            "store_rejects=true)"
        )

    # No field is NULL: the NULL text is a byte a plain CSV never holds (`Scan`), and a row of
    # the wrong width is set aside, not padded.
    index = {n: i for i, n in enumerate(names)}
    picks = [f"c{index[c]}" if c in index else "''" for c in COLUMNS]
    texts = ", ".join(f"{sql} AS {name}" for sql, name in zip(picks, TEXTS, strict=True))
    con.execute(
        f"""CREATE VIEW raw_rows AS
        SELECT line, CAST(NULL AS BIGINT) AS broken, {texts}
        FROM ({_numbered(path, pipes, read, 2)})"""
    )


def rejected_widths(con: duckdb.DuckDBPyConnection) -> int:
    """How many rows `by_columns` set aside for their width."""
    try:
        found = con.execute("SELECT count(*) FROM reject_errors").fetchall()
    except duckdb.Error:
        return 0
    return int(found[0][0]) if found else 0


def by_lines(
    con: duckdb.DuckDBPyConnection, path: Path, names: list[str], pipes: Pipes | None = None
) -> None:
    """One physical line per row, fields split in SQL: row N is line N, blank lines counted.

    Each line is split where it is read, below the row numbering: DuckDB pushes a statement's
    filters down to the numbering, and a split above it was written into the filter once for
    every field named there (the checks name seven): 1.4 s against 0.4 s for the spends of a
    600,000-row ledger (a blank line is NULL, split or not)."""

    def read(name: str, first: bool) -> str:
        return (
            f"(SELECT string_split(l, ',') AS f FROM read_csv({_quote(name)}, "
            f"columns={{'l': 'VARCHAR'}}, header=false, delim='{_DELIM}', quote='', escape='', "
            "auto_detect=false, strict_mode=false))"
        )

    texts = ", ".join(
        f"{sql} AS {name}" for sql, name in zip(_pick(names, "f"), TEXTS, strict=True)
    )
    try:
        con.execute(
            f"""CREATE VIEW raw_rows AS
            SELECT line, CASE WHEN len(f) <> {len(names)} THEN len(f) END AS broken, {texts}
            FROM ({_numbered(path, pipes, read, 1)})
            WHERE line > 1 AND f IS NOT NULL"""
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
        near = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        raise LedgerError(
            "X001",
            f"the workbook {path} has no sheet `{sheet}`",
            (f"did you mean `{near[0]}`? " if near else "")
            + f"its sheets: {', '.join(names) or 'none'}",
        )
    if not names:
        raise LedgerError("L101", f"the workbook {path} has no sheet", "")
    chosen = sheet or names[0]
    cells = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    if not cells:
        raise LedgerError(
            "L101",
            f"the ledger {path} is empty: it needs a header line",
            f"required columns: {', '.join(REQUIRED)}",
        )
    header = [_cell(v).strip().lower() for v in cells[0]]
    try:
        reader._columns(header)
    except LedgerError as exc:
        # say which sheet was read: a workbook's first sheet is often not the ledger
        which = f"sheet `{chosen}`" if sheet is not None else f"the first sheet, `{chosen}`"
        hint = f"its sheets: {', '.join(names)}"
        if sheet is None and len(names) > 1:
            hint += "; name the ledger's with --sheet NAME"
        if exc.hint:
            hint = f"{exc.hint}; {hint}"
        raise LedgerError(exc.code, f"{exc.message} (read from {which})", hint) from None
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
