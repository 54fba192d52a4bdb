"""The compiled rules as SQL on PostgreSQL: a ledger in a table or a query, or a file loaded in.

The same design as the DuckDB executor (duck.py), the same statements (generate.py) printed for
the postgres dialect: the SQL validates and parses the rows it is sure of, aggregates by pool,
element and day and picks each spend's rule; the rows it declines go through the reference
reader's `check` (shared.decide), and each distinct (pool, rule, recorded approvers, within
plan) is judged once by the pool's `Authority` (shared.judge). So the rejected rows, codes and
messages are the reference's on every engine.

Where the ledger comes from:

- `--ledger 'postgresql://user@host:port/db?table=NAME'` (or `schema.name`): the table's rows.
  A row's number is its column `line` when the table has one (an integer), else the table must
  be given an order, `&order=COL[,COL...]`, and rows are numbered 2, 3, ... in that order (the
  header counted as row 1, as a CSV of the same rows would number them). PostgreSQL keeps no
  row order of its own (ctid changes on UPDATE and VACUUM FULL), so a table with neither is
  refused (L105) rather than numbered in an order that could change.
- `--ledger 'postgresql://...?query=SELECT...'` (the query percent-encoded): the query's rows,
  numbered by its `line` column if it has one, else 2, 3, ... in the order the query returns
  them (give it an ORDER BY).
- `--ledger FILE --database 'postgresql://user@host:port/db'`: a CSV, JSON Lines, Parquet or
  workbook ledger read by the reference reader's raw pass (or DuckDB for Parquet, calamine for a
  workbook) and copied into a temporary table with COPY; rows keep their file numbering.

Every column is read as its text (`CAST(col AS text)`: a date `2005-06-01`, a numeric(12,2)
`12.50`, a boolean `true`), NULL as empty. Everything the executor creates is TEMPORARY and the
transaction is rolled back at the end: nothing is left in the database.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from ...lists import counted
from ...redact import redact, scrub, url_password
from ..approvals import Authority
from ..executor import ApprovalSpool, PoolTotals, Totals
from ..ledger import COLUMNS, OPTIONAL, REQUIRED, LedgerError, LedgerReader, RawRow, Rejected
from ..orders import (
    SUPPLIERS,
    SplitOrder,
    from_rows,
    rule_limit_rows,
    split_sql,
    supplier_keys,
)
from . import shared
from .generate import GOOD, GOOD_TEXT, TEXTS, Rules

SCHEMES = ("postgresql", "postgres")
_OURS = ("table", "query", "order")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_COPY_BATCH = 1 << 16


@dataclass(frozen=True)
class Source:
    """A database to connect to and, for a ledger URL, the table or query holding the rows."""

    conninfo: str  # the URL less our own parameters, for libpq
    shown: str  # the URL with any password replaced by ***, for messages
    table: tuple[str, ...] | None = None  # schema and name, or the name
    query: str | None = None
    order: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """How messages name the ledger (no slashes: it stands in for a file path)."""
        if self.table is not None:
            return f"table {'.'.join(self.table)}"
        return "query" if self.query is not None else "database"


def parse_url(text: str, ledger: bool = True) -> Source:
    """A `postgresql://` URL; for a ledger it must name a table or a query (L104 if not)."""
    _plain_password(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        # (urlsplit's own words may quote part of the URL: not shown)
        raise LedgerError("L104", f"the database URL {redact(text)} is not valid") from None
    if parts.scheme.lower() not in SCHEMES:
        raise LedgerError(
            "L104",
            f"{redact(text)} is not a PostgreSQL URL",
            "write it postgresql://user@host:port/database"
            + ("?table=NAME" if ledger else " (the ledger is the --ledger file)"),
        )
    params = parse_qsl(parts.query, keep_blank_values=True)
    seen: dict[str, str] = {}
    rest = []
    for key, value in params:
        if key in _OURS:
            if key in seen:
                raise LedgerError("L104", f"the database URL gives `{key}` twice")
            seen[key] = value
        else:
            rest.append((key, value))
    shown = redact(text)
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    if not ledger:
        if seen:
            raise LedgerError(
                "L104",
                f"--database {shown} names a {'/'.join(seen)}: the ledger is the --ledger file",
                "give --database the URL of the database alone, postgresql://user@host:port/db",
            )
        return Source(conninfo, shown)
    table, query, order = seen.get("table"), seen.get("query"), seen.get("order")
    if (table is None) == (query is None):
        raise LedgerError(
            "L104",
            f"the ledger URL {shown} must name a table or a query"
            + (", not both" if table is not None else ""),
            "add ?table=NAME (a table with a `line` column, or with &order=COL) or "
            "?query=SELECT... (percent-encoded)",
        )
    if query is not None and not query.strip():
        raise LedgerError("L104", f"the ledger URL {shown} has an empty query")
    names = None
    if table is not None:
        names = tuple(table.split("."))
        if not 1 <= len(names) <= 2 or not all(_IDENT.match(n) for n in names):
            raise LedgerError(
                "L104",
                f"`{table}` is not a table name this reads",
                "a name or schema.name of letters, digits and _ (quoted names are not read)",
            )
    columns: tuple[str, ...] = ()
    if order is not None:
        columns = tuple(c.strip() for c in order.split(","))
        if not all(columns):
            raise LedgerError("L104", f"order={order} names an empty column")
    return Source(conninfo, shown, names, query, columns)


_UNENCODED = {"@": "%40", "/": "%2F", "?": "%3F", "#": "%23", " ": "%20"}


def _plain_password(text: str) -> None:
    """L104 for a URL whose password holds a character a URL must percent-encode there: read
    as it stands, part of it would be taken for the host or the path, and quoted back in the
    driver's message."""
    password = url_password(text)
    if password is None:
        return
    bad = [c for c in _UNENCODED if c in password]
    if re.search(r"%(?![0-9A-Fa-f]{2})", password) or "%00" in password:
        bad.append("%")
    if bad:
        raise LedgerError(
            "L104",
            f"the database URL {redact(text)} has a password holding "
            + ", ".join(f"`{c}`" for c in bad)
            + " as it stands: a URL needs such a character percent-encoded",
            "write "
            + ", ".join(f"`{c}` as {_UNENCODED.get(c, '%25')}" for c in bad)
            + " (or keep the password in ~/.pgpass or PGPASSWORD)",
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(source: Source) -> Any:
    """A connection, or L104 saying why there is none (never a traceback)."""
    try:
        import psycopg
    except ImportError:
        raise LedgerError(
            "L104",
            "a PostgreSQL ledger needs psycopg, which is not installed",
            "pip install 'agreementdsl[postgres]'",
        ) from None

    try:
        con = psycopg.connect(source.conninfo, connect_timeout=10)
    except psycopg.ProgrammingError as exc:  # a malformed URL (libpq's own words)
        raise LedgerError(
            "L104",
            f"the database URL {source.shown} is not valid: {scrub(_first(exc), source.conninfo)}",
        ) from None
    except psycopg.Error as exc:
        raise LedgerError(
            "L104",
            f"cannot connect to {source.shown}: {scrub(_first(exc), source.conninfo)}",
            "check the host, port, user and database, and that the server is running",
        ) from None
    return con


def _first(exc: BaseException) -> str:
    """The server's own message when it sent one, else libpq's, its lines joined (say, that
    the connection was refused, and its guess why)."""
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    if primary:
        return str(primary)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) if lines else type(exc).__name__  # (LedgerError redacts it)


class PostgresExecutor:
    """Runs a compiled agreement's ledger checks, rules and aggregation on PostgreSQL."""

    def __init__(
        self,
        ir: dict[str, Any],
        authorities: dict[str, Authority],
        source: Source,
        sheet: str | None = None,
    ) -> None:
        self.rules = Rules(ir, "postgres")
        self.authorities = authorities
        self.source = source
        self.sheet = sheet

    def execute(self, reader: LedgerReader, progress: object = None) -> Totals:
        import psycopg

        con = connect(self.source)
        try:
            with con.cursor() as cur:
                cur.execute("SET DateStyle = 'ISO, YMD'")
                cur.execute("SET client_encoding = 'UTF8'")
                try:
                    return self._run(con, cur, reader)
                except psycopg.Error as exc:
                    raise LedgerError(
                        "L105",
                        f"PostgreSQL could not run the ledger's SQL on {self.source.shown}: "
                        f"{_first(exc)}",
                    ) from None
        finally:
            # Nothing the run made is kept; if the connection is gone, so is all it made.
            with contextlib.suppress(psycopg.Error):
                con.rollback()
            con.close()

    def _run(self, con: Any, cur: Any, reader: LedgerReader) -> Totals:
        sql = {name: tree.sql("postgres") for name, tree in self.rules.statements().items()}
        if self.source.table is not None or self.source.query is not None:
            rejected, width = self._relation(con, cur, reader), 0
        else:
            rejected, width = self._file(cur, reader), 0
        cur.execute(f"CREATE TEMP TABLE staged AS {sql['staged']}")
        cur.execute(
            "SELECT count(*), count(*) - count(line), count(line) - count(DISTINCT line) "
            "FROM staged"
        )
        staged, unnumbered, repeated = cur.fetchone()
        if unnumbered:
            raise LedgerError(
                "L105",
                f"the ledger {self.source.name}'s `line` column is empty (NULL) in "
                f"{counted(unnumbered, 'row')}: a row's number must be given",
                "fill in `line`, or drop the column and number the rows with &order=COL",
            )
        if repeated:
            # a number two rows share would name both in every message and approval
            cur.execute("SELECT line FROM staged GROUP BY line HAVING count(*) > 1 ORDER BY line")
            shared_lines = [int(r[0]) for r in cur.fetchmany(3)]
            raise LedgerError(
                "L105",
                f"the ledger {self.source.name}'s `line` column gives one number to more than "
                f"one row ({', '.join(map(str, shared_lines))}"
                f"{', …' if repeated > len(shared_lines) else ''}): each row's number must be "
                "its own",
                "number each row once, or drop the column and number the rows with &order=COL",
            )
        cur.execute(f"CREATE TEMP TABLE dates AS {sql['dates']}")
        read = len(rejected) + int(staged)  # rows rejected on reading never reach `staged`
        cur.execute(sql["doubtful"])
        more, checked = shared.decide(reader, cur.fetchall(), width)
        rejected.extend(more)
        columns = ", ".join(
            f"{n} {t}" for n, t in zip((*GOOD, *GOOD_TEXT), shared.CHECKED_TYPES, strict=True)
        )
        cur.execute(f"CREATE TEMP TABLE checked_rows ({columns})")
        if checked:
            names = ", ".join((*GOOD, *GOOD_TEXT))
            with cur.copy(f"COPY checked_rows ({names}) FROM STDIN") as copy:
                for t in checked:
                    copy.write_row(shared.checked_tuple(t))
        cur.execute(f"CREATE TEMP VIEW good AS {sql['good']}")
        rejected.sort(key=lambda r: r.row)
        pools = self._pools(cur, sql)
        spool = self._spool(con, cur, sql)
        cur.execute(sql["days"])
        days = [row[0] for row in cur.fetchall()]
        totals = Totals(pools, spool, read, read - len(rejected), rejected, days)
        query = shared.unapproved_sql(self.authorities)
        if query is not None:
            cur.execute(query)
            totals.unapproved = shared.unapproved(cur.fetchall(), spool.table)
        totals.split_orders = self._split_orders(cur)
        return totals

    def _split_orders(self, cur: Any) -> list[SplitOrder]:
        """The split orders (engine/orders.py), by the query every SQL executor runs."""
        limits = rule_limit_rows(self.authorities)
        if not limits:
            return []
        cur.execute(
            "CREATE TEMP TABLE rule_limits (pool_index BIGINT, rule BIGINT, rank BIGINT, "
            "limit_pence BIGINT)"
        )
        with cur.copy("COPY rule_limits FROM STDIN") as copy:
            for row in limits:
                copy.write_row(row)
        cur.execute(
            "CREATE TEMP VIEW spend_rows AS "
            "SELECT line, pence, day, pool_index, rule, supplier FROM spends"
        )
        cur.execute(SUPPLIERS)
        keys = supplier_keys(cur.fetchall())
        cur.execute("CREATE TEMP TABLE supplier_keys (supplier TEXT, skey TEXT)")
        with cur.copy("COPY supplier_keys FROM STDIN") as copy:
            for key in keys:
                copy.write_row(key)
        # What the tables hold, so the planner hashes the small ones and runs the spends past
        # them: at 1M rows, with no statistics, it sorted the spends on disk to merge them with
        # `rule_limits` (taken for 1,360 rows), or, knowing only the small tables, took the
        # spends under their rules for 64 rows and compared each with every supplier (27 s).
        for table in ("spends", "rule_limits", "supplier_keys"):
            cur.execute(f"ANALYZE {table}")  # one a statement: PostgreSQL 10 takes no list
        keyed, rows = split_sql("postgres")
        cur.execute(f"CREATE TEMP TABLE split_keyed AS {keyed}")
        # read through a cursor on the server, a batch at a time (`from_rows`)
        with cur.connection.cursor(name="split_rows") as rows_cursor:
            rows_cursor.execute(rows)
            batches = iter(lambda: rows_cursor.fetchmany(_COPY_BATCH), [])
            return from_rows(batches, list(self.authorities), self.authorities)

    # ------------------------------------------------------------ reading
    def _relation(self, con: Any, cur: Any, reader: LedgerReader) -> list[Rejected]:
        """`raw_rows` over the URL's table or query (a temporary view: read once, by `staged`)."""
        import psycopg

        source = self.source
        if source.table is not None:
            relation = ".".join(_quote(n) for n in source.table)
        else:
            relation = f"({source.query})"
        try:
            with con.transaction():
                cur.execute(f"SELECT * FROM {relation} AS ledger_rows LIMIT 0")
        except psycopg.errors.UndefinedTable as exc:
            if source.table is not None:
                missing = f"has no table {'.'.join(source.table)}"
            else:  # the query names it: say so in the server's words
                missing = f"cannot run the ledger query: {_first(exc)}"
            raise LedgerError(
                "L105", f"the database {source.shown} {missing}", self._tables(cur)
            ) from None
        except psycopg.Error as exc:
            what = "table" if source.table is not None else "query"
            raise LedgerError(
                "L105", f"the ledger {what} on {source.shown} cannot be read: {_first(exc)}"
            ) from None
        actual = [d.name for d in cur.description or []]
        lowered = {a.strip().lower(): a for a in actual}
        line = lowered.pop("line", None)
        # The columns that number the rows are not ledger columns (no "unknown column" warning).
        numbering = {line, *(c for c in source.order if c.lower() not in (*REQUIRED, *OPTIONAL))}
        names = [a.strip().lower() for a in actual if a not in numbering]
        reader._columns(names, f"the {'table' if source.table else 'query'} must have the columns")
        for column in source.order:
            if column not in actual and column.lower() not in lowered:
                raise LedgerError(
                    "L105",
                    f"order={column}: the ledger {source.name} has no column `{column}`",
                    f"its columns: {', '.join(actual)}",
                )
        if line is not None:
            number = f"CAST(ledger_rows.{_quote(line)} AS BIGINT)"
        elif source.order:
            keys = ", ".join(
                f"ledger_rows.{_quote(c if c in actual else lowered[c.lower()])}"
                for c in source.order
            )
            number = f"row_number() OVER (ORDER BY {keys}) + 1"
        elif source.table is not None:
            raise LedgerError(
                "L105",
                f"the ledger {source.name} has no `line` column and no order was given: "
                "its rows have no stable row numbers",
                "add &order=COL (a column, or columns, that order the rows, such as a key or "
                "date,reference), or give the table a `line` column",
            )
        else:
            number = "row_number() OVER () + 1"  # in the order the query returns its rows
        picks = [
            f"coalesce(CAST(ledger_rows.{_quote(lowered[c])} AS TEXT), '')"
            if c in lowered
            else "''"
            for c in COLUMNS
        ]
        texts = ", ".join(f"{p} AS {t}" for p, t in zip(picks, TEXTS, strict=True))
        cur.execute(
            f"CREATE TEMP VIEW raw_rows AS SELECT {number} AS line, "
            f"CAST(NULL AS BIGINT) AS broken, {texts} FROM {relation} AS ledger_rows"
        )
        return []

    @staticmethod
    def _tables(cur: Any) -> str:
        cur.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 1 LIMIT 20"
        )
        found = [r[0] for r in cur.fetchall()]
        return f"its tables: {', '.join(found)}" if found else "it has no tables"

    def _file(self, cur: Any, reader: LedgerReader) -> list[Rejected]:
        """A ledger file's rows copied into a temporary `raw_rows` table (COPY)."""
        columns = ", ".join(f"{t} TEXT" for t in TEXTS)
        cur.execute(f"CREATE TEMP TABLE raw_rows (line BIGINT, broken BIGINT, {columns})")
        rejected: list[Rejected] = []
        names = ", ".join(("line", *TEXTS))
        with cur.copy(f"COPY raw_rows ({names}) FROM STDIN") as copy:
            for item in _file_rows(reader, self.sheet):
                if isinstance(item, Rejected):
                    rejected.append(item)
                else:
                    copy.write_row((item[0], *item[1]))
        return rejected

    # ------------------------------------------------------------ results
    def _pools(self, cur: Any, sql: dict[str, str]) -> dict[str, PoolTotals]:
        pools = {pid: PoolTotals() for pid in self.authorities}
        cur.execute(sql["net"])
        for pool, element, day, net in cur.fetchall():
            pools[pool].element_net[(element, day)] += int(net)
        cur.execute(sql["forecasts"])
        for pool, day, line, pence in cur.fetchall():
            pools[pool].forecasts.append((day, int(line), int(pence)))
        cur.execute(sql["received"])
        for pool, partner, day, pence in cur.fetchall():
            pools[pool].received[(partner, day)] += int(pence)
        return pools

    def _spool(self, con: Any, cur: Any, sql: dict[str, str]) -> ApprovalSpool:
        """Every spend above zero, classified, copied to the spool in ledger order."""
        spool = ApprovalSpool(list(self.authorities))
        cur.execute(f"CREATE TEMP TABLE spends AS {sql['spends']}")
        cur.execute("SELECT DISTINCT pool_index, rule, approved_by, in_plan FROM spends")
        keys = shared.judge(self.authorities, spool, cur.fetchall())
        cur.execute(
            "CREATE TEMP TABLE decisions (pool_index BIGINT, rule BIGINT, approved_by TEXT, "
            "in_plan BOOLEAN, ident BIGINT)"
        )
        if keys:
            with cur.copy("COPY decisions FROM STDIN") as copy:
                for key in keys:
                    copy.write_row(key)
        # Binary COPY of five non-null BIGINTs a row, read as fixed-size records with numpy
        # (no Python object per value: at 1M spends five times faster than a cursor).
        query = (
            "SELECT s.line, s.pence, CAST(s.day - DATE '1970-01-01' AS BIGINT), "
            "CAST(s.pool_index AS BIGINT), d.ident "
            "FROM spends s JOIN decisions d ON s.pool_index = d.pool_index "
            "AND s.rule = d.rule AND s.approved_by = d.approved_by "
            "AND s.in_plan = d.in_plan ORDER BY s.line"
        )
        buffer = bytearray()
        header = True
        with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                buffer += block
                if header and len(buffer) >= _BINARY_HEADER:
                    del buffer[:_BINARY_HEADER]
                    header = False
                if not header and len(buffer) >= _COPY_CHUNK:
                    whole = len(buffer) // _RECORD.itemsize * _RECORD.itemsize
                    _spool_records(spool, bytes(buffer[:whole]))
                    del buffer[:whole]
        if not header:
            whole = len(buffer) // _RECORD.itemsize * _RECORD.itemsize
            _spool_records(spool, bytes(buffer[:whole]))
            if bytes(buffer[whole:]) != b"\xff\xff":  # the trailer: a field count of -1
                raise LedgerError("L105", "PostgreSQL's binary COPY of the spends ended early")
        return spool


# PostgreSQL's binary COPY: an 11-byte signature, flags and extension length (19 bytes); each
# row a field count (int16) then, for each field, its length (int32) and big-endian bytes.
_BINARY_HEADER = 19
_RECORD = np.dtype(
    [("n", ">i2")] + [(f, [("size", ">i4"), ("v", ">i8")]) for f in ("a", "b", "c", "d", "e")]
)
_COPY_CHUNK = _RECORD.itemsize << 16


def _spool_records(spool: ApprovalSpool, data: bytes) -> None:
    """Binary COPY records of (line, pence, day ordinal since 1970, pool index, decision id)."""
    if not data:
        return
    records = np.frombuffer(data, dtype=_RECORD)
    if (records["n"] != 5).any() or any((records[f]["size"] != 8).any() for f in "abcde"):
        raise LedgerError("L105", "PostgreSQL's binary COPY of the spends is not five BIGINTs")
    spool.rows.frombytes(records["a"]["v"].astype(np.int64).tobytes())
    spool.amounts.frombytes(records["b"]["v"].astype(np.int64).tobytes())
    spool.days.frombytes((records["c"]["v"].astype(np.int64) + shared.EPOCH).tobytes())
    spool.pool_ids.frombytes(records["d"]["v"].astype(np.uint16).tobytes())
    spool.decisions.frombytes(records["e"]["v"].astype(np.uint64).tobytes())
    spool.flush()


def _file_rows(reader: LedgerReader, sheet: str | None) -> Iterator[RawRow | Rejected]:
    """A ledger file's raw rows, as the DuckDB executor's reading layer numbers them."""
    from . import sources

    suffix = reader.path.suffix.lower()
    if suffix in sources.SPREADSHEETS:
        yield from sources._workbook(reader, sheet)
    elif suffix == ".parquet":
        yield from _parquet_rows(reader)
    else:
        yield from reader


def _parquet_rows(reader: LedgerReader) -> Iterable[RawRow]:
    import duckdb

    from . import sources

    con = duckdb.connect()
    try:
        sources._parquet(con, reader)
        cursor = con.execute(f"SELECT line, {', '.join(TEXTS)} FROM raw_rows ORDER BY line")
        while batch := cursor.fetchmany(_COPY_BATCH):
            for line, *texts in batch:
                yield int(line), tuple(texts)
    finally:
        con.close()


def file_source(database: str) -> Source:
    """The `--database` URL (a database to load a ledger file into)."""
    return parse_url(database, ledger=False)


def ledger_path(source: Source) -> Path:
    """The stand-in path messages name a database ledger by (`the ledger table ledger ...`)."""
    return Path(source.name.replace("/", "_"))
