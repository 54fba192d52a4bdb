"""The columnar executor: the compiled rules as SQL, run embedded on DuckDB.

It stands behind the same `Executor` interface as the reference RowExecutor and leaves the same
`Totals`, so the analysis, settlement and the JSON contract that follow are shared code. The SQL
(generate.py) validates and parses the rows it can be sure of, aggregates by pool, element and
day, and picks each spend's rule; the rows it is not sure of go through the reference reader's
`check`, and each distinct (pool, rule, recorded approvers, within plan) is judged once by the
pool's `Authority`, as the reference does, so both executors agree by construction where the
SQL declines and the differential test holds them to it everywhere else.
"""

from __future__ import annotations

import tempfile
from array import array
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from ..approvals import Authority, Decision, FieldTuple
from ..executor import _KINDS, _PLAN, ApprovalSpool, PoolTotals, Totals
from ..ledger import LedgerReader, Rejected, Txn
from . import sources
from .generate import GOOD, GOOD_TEXT, Rules

_EPOCH = date(1970, 1, 1).toordinal()
_SPOOL_LINES = 1 << 19  # ledger lines per chunk when the spends are copied to the spool
_FILE_BYTES = 8 << 20  # from this size of ledger DuckDB works in a database file


class DuckDBExecutor:
    """Runs a compiled agreement's ledger checks, rules and aggregation on DuckDB."""

    def __init__(
        self,
        ir: dict[str, Any],
        authorities: dict[str, Authority],
        sheet: str | None = None,
        memory_limit: str = "400MB",
    ) -> None:
        self.rules = Rules(ir)
        self.authorities = authorities
        self.sheet = sheet
        self.memory_limit = memory_limit

    def execute(self, reader: LedgerReader, progress: object = None) -> Totals:
        with tempfile.TemporaryDirectory(prefix="agreementdsl-duckdb-") as work:
            # A large ledger's tables live in a database file, which DuckDB compresses (at 10M
            # rows: less time and a third less memory than in memory with spilling).
            large = reader.path.is_file() and reader.path.stat().st_size >= _FILE_BYTES
            con = duckdb.connect(str(Path(work) / "run.duckdb") if large else ":memory:")
            try:
                con.execute(f"SET memory_limit = '{self.memory_limit}'")
                con.execute(f"SET temp_directory = '{work}'")
                return self._run(con, reader)
            finally:
                con.close()

    def _run(self, con: duckdb.DuckDBPyConnection, reader: LedgerReader) -> Totals:
        sql = self.rules.statements()
        rejected, width = sources.load(con, reader, self.sheet)
        try:
            con.execute(f"CREATE TABLE staged AS {sql['staged'].sql('duckdb')}")
            if sources.rejected_widths(con):
                # A row of the wrong width: read the file by lines so every number is right.
                con.execute("DROP TABLE staged")
                con.execute("DROP VIEW raw_rows")
                sources.by_lines(con, reader.path, sources.header(reader.path))
                con.execute(f"CREATE TABLE staged AS {sql['staged'].sql('duckdb')}")
        except duckdb.Error:
            # DuckDB could not read the file as plain lines (say, it is not UTF-8): the
            # reference reader's raw pass reads it instead, or says why it cannot.
            con.execute("DROP VIEW IF EXISTS raw_rows")
            rejected, width = sources.python_rows(con, reader), 0
            con.execute(f"CREATE TABLE staged AS {sql['staged'].sql('duckdb')}")
        con.execute(f"CREATE TABLE dates AS {sql['dates'].sql('duckdb')}")
        read = len(rejected)  # rows the reading layer rejected never reach `staged`
        checked: list[Txn] = []
        for line, broken, *texts in con.execute(sql["doubtful"].sql("duckdb")).fetchall():
            if broken is not None:
                rejected.append(
                    Rejected(
                        line, "L010", f"the row has {broken} fields but the header has {width}"
                    )
                )
                continue
            result = reader.check(line, *texts)
            if isinstance(result, Rejected):
                rejected.append(result)
            elif self._fast(reader, texts):
                # The reference executor reads this row on its fast path, where conditions see
                # supplier and category as written (its careful path strips them).
                checked.append(result._replace(supplier=texts[8], category=texts[9]))
            else:
                checked.append(result)
        self._checked(con, checked)
        con.execute(f"CREATE VIEW good AS {sql['good'].sql('duckdb')}")
        rejected.sort(key=lambda r: r.row)
        staged = con.execute("SELECT count(*) FROM staged").fetchone()
        read += staged[0] if staged else 0
        pools = self._pools(con, sql)
        spool = self._spool(con, sql)
        days = [row[0] for row in con.execute(sql["days"].sql("duckdb")).fetchall()]
        totals = Totals(pools, spool, read, read - len(rejected), rejected, days)
        totals.suppliers, totals.supplier_names = self.suppliers, self.supplier_names
        totals.payers, totals.payer_names = self.payers, self.payer_names
        return totals

    def _fast(self, reader: LedgerReader, texts: list[str]) -> bool:
        """Whether RowExecutor.execute takes its fast path for these texts (the same tests)."""
        day, pool, kind, amount, element, partner, _, plan, _, _ = texts
        shape = reader.pools.get(pool)
        whole, dot, frac = amount.partition(".")
        return not (
            reader.parse_date(day) is None
            or shape is None
            or kind not in _KINDS
            or plan not in _PLAN
            or not (
                whole.isdigit()
                and whole.isascii()
                and len(whole) < 16
                and (not dot or (len(frac) == 2 and frac.isdigit()))
            )
            or (element and element not in shape.elements)
            or (not element and kind == "spend" and shape.requires_element)
            or (partner and partner not in reader.partners)
        )

    def _checked(self, con: duckdb.DuckDBPyConnection, rows: list[Txn]) -> None:
        """The rows the reference reader accepted, as a table shaped like the SQL's own."""
        columns = ", ".join(
            f"{n} {t}"
            for n, t in zip(
                (*GOOD, *GOOD_TEXT),
                (
                    "BIGINT",
                    "DATE",
                    "VARCHAR",
                    "VARCHAR",
                    "BIGINT",
                    "VARCHAR",
                    "VARCHAR",
                    "VARCHAR",
                    "BOOLEAN",
                    "VARCHAR",
                    "VARCHAR",
                ),
                strict=True,
            )
        )
        con.execute(f"CREATE TABLE checked_rows ({columns})")
        if not rows:
            return
        data = {
            "line": np.array([t.row for t in rows], dtype=np.int64),
            "day": np.array([t.day.isoformat() for t in rows], dtype=object),
            "pool": np.array([t.pool for t in rows], dtype=object),
            "kind": np.array([t.kind for t in rows], dtype=object),
            "pence": np.array([t.amount for t in rows], dtype=np.int64),
            "element": np.array([t.element for t in rows], dtype=object),
            "partner": np.array([t.partner for t in rows], dtype=object),
            "approved_by": np.array([";".join(t.approved_by) for t in rows], dtype=object),
            "in_plan": np.array([t.in_plan for t in rows], dtype=bool),
            "supplier": np.array([t.supplier for t in rows], dtype=object),
            "category": np.array([t.category for t in rows], dtype=object),
        }
        con.register("checked_batch", data)
        con.execute(
            "INSERT INTO checked_rows SELECT line, CAST(day AS DATE), pool, kind, pence, element, "
            "partner, approved_by, in_plan, supplier, category FROM checked_batch"
        )
        con.unregister("checked_batch")

    def _pools(self, con: duckdb.DuckDBPyConnection, sql: dict[str, Any]) -> dict[str, PoolTotals]:
        pools = {pid: PoolTotals() for pid in self.authorities}
        for pool, element, day, net in con.execute(sql["net"].sql("duckdb")).fetchall():
            pools[pool].element_net[(element, day)] += int(net)
        for pool, day, line, pence in con.execute(sql["forecasts"].sql("duckdb")).fetchall():
            pools[pool].forecasts.append((day, line, int(pence)))
        for pool, partner, day, pence in con.execute(sql["received"].sql("duckdb")).fetchall():
            pools[pool].received[(partner, day)] += int(pence)
        return pools

    def _spool(self, con: duckdb.DuckDBPyConnection, sql: dict[str, Any]) -> ApprovalSpool:
        """Every spend above zero, classified, copied to the spool in ledger order."""
        names = list(self.authorities)
        spool = ApprovalSpool(names)
        # No ORDER BY: the rows come in ledger order but for those the reference reader
        # accepted, and each chunk copied to the spool below is sorted by line.
        con.execute(f"CREATE TABLE spends AS {sql['spends'].sql('duckdb')}")
        keys = con.execute(
            "SELECT DISTINCT pool_index, rule, approved_by, in_plan FROM spends"
        ).fetchall()
        idents = []
        for ident, (pool_index, rule_number, approved_by, in_plan) in enumerate(keys):
            authority = self.authorities[names[pool_index]]
            rule = authority.rules[rule_number - 1] if rule_number else None
            recorded = tuple(a.strip() for a in approved_by.split(";") if a.strip())
            decision: Decision = authority.judge(rule, recorded)
            fields: FieldTuple = ()
            spool.table.append((decision, fields, bool(in_plan)))
            idents.append(ident)
        con.register(
            "decision_keys",
            {
                "pool_index": np.array([k[0] for k in keys], dtype=np.int64),
                "rule": np.array([k[1] for k in keys], dtype=np.int64),
                "approved_by": np.array([k[2] for k in keys], dtype=object),
                "in_plan": np.array([bool(k[3]) for k in keys], dtype=bool),
                "ident": np.array(idents, dtype=np.int64),
            },
        )
        con.execute("CREATE TABLE decisions AS SELECT * FROM decision_keys")
        con.unregister("decision_keys")
        con.execute(
            "CREATE TABLE suppliers AS SELECT supplier, "
            "CAST(row_number() OVER (ORDER BY supplier) - 1 AS BIGINT) AS sid "
            "FROM (SELECT DISTINCT COALESCE(supplier, '') AS supplier FROM spends)"
        )
        self.supplier_names = [
            str(name)
            for (name,) in con.execute("SELECT supplier FROM suppliers ORDER BY sid").fetchall()
        ]
        self.suppliers = array("L")
        con.execute(
            "CREATE TABLE payers AS SELECT who, "
            "CAST(row_number() OVER (ORDER BY who) - 1 AS BIGINT) AS pid "
            "FROM (SELECT DISTINCT COALESCE(who, '') AS who FROM spends)"
        )
        self.payer_names = [
            str(name) for (name,) in con.execute("SELECT who FROM payers ORDER BY pid").fetchall()
        ]
        self.payers = array("L")
        bounds = con.execute("SELECT min(line), max(line) FROM spends").fetchone()
        if bounds is None or bounds[0] is None:
            return spool
        low, high = int(bounds[0]), int(bounds[1])
        for start in range(low, high + 1, _SPOOL_LINES):
            chunk = con.execute(
                "SELECT s.line, s.pence, s.day, s.pool_index, d.ident, u.sid, w.pid FROM spends s "
                "JOIN decisions d ON s.pool_index = d.pool_index AND s.rule = d.rule "
                "AND s.approved_by = d.approved_by AND s.in_plan = d.in_plan "
                "JOIN suppliers u ON COALESCE(s.supplier, '') = u.supplier "
                "JOIN payers w ON COALESCE(s.who, '') = w.who "
                "WHERE s.line >= ? AND s.line < ? ORDER BY s.line",
                [start, start + _SPOOL_LINES],
            ).fetchnumpy()
            if not len(chunk["line"]):
                continue
            ordinals = chunk["day"].astype("datetime64[D]").astype(np.int64) + _EPOCH
            spool.rows.frombytes(chunk["line"].astype(np.int64).tobytes())
            spool.amounts.frombytes(chunk["pence"].astype(np.int64).tobytes())
            spool.days.frombytes(ordinals.astype(np.int64).tobytes())
            spool.pool_ids.frombytes(chunk["pool_index"].astype(np.uint16).tobytes())
            spool.decisions.frombytes(chunk["ident"].astype(np.uint64).tobytes())
            self.suppliers.frombytes(chunk["sid"].astype(np.uint64).tobytes())
            self.payers.frombytes(chunk["pid"].astype(np.uint64).tobytes())
            spool.flush()
        return spool
