"""The DuckDB executor's approvals: every spend's decision, kept in DuckDB until it is wanted.

The executor classifies spends in one aggregating pass and judges each distinct (pool, rule,
recorded approvers, within plan) once; no spend is copied out of DuckDB for the analysis. This
spool answers what the outputs ask of the reference's `ApprovalSpool`:

- `tally` (the text summary): the counts come from the pass's groups, and only the first few
  breaches are read from the ledger again (one filtered scan with a top-N);
- `columns` / `records` / iteration (the JSON contract's every approval): the spends are written
  once to a narrow table of integers, then handed over a chunk of lines at a time, in row order.

The rows the reference reader had to decide (`checked`) are few; they are kept in Python and
merged in by row number.
"""

from __future__ import annotations

import heapq
import shutil
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import Any

import duckdb
import numpy as np

from ..approvals import Decision, FieldTuple
from ..executor import _TYPES, ApprovalSpool, Classified
from ..summary import Tally

_LINES = 1 << 19  # ledger lines per chunk handed over


class DuckSpool(ApprovalSpool):
    """An `ApprovalSpool` whose spends stay in DuckDB (see the module's docstring)."""

    def __init__(
        self,
        pools: list[str],
        con: duckdb.DuckDBPyConnection,
        work: str,
        candidates: str,
        counts: dict[tuple[int, int, int], int],
        checked: list[tuple[int, int, int, int, int]],
        feeding: Callable[..., AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        super().__init__(pools)
        self.feeding = feeding  # every statement that reads the ledger runs inside it
        self.con = con
        self.work = work
        # SELECT line, pence, date_text, pool_index, rule, approved_by, in_plan, supplier of
        # every spend the SQL read; `checked` holds (line, pence, day ordinal, pool index,
        # decision id) of the spends the reference reader read.
        self.candidates = candidates
        self.counts = counts  # (pool index, day ordinal, ident) -> spends the SQL read
        self.checked = sorted(checked)
        self.count = sum(counts.values()) + len(checked)
        self._bounds: tuple[int, int] | None = None
        # For `tally`: (pool index, rule, approvers, within plan) -> decision id, and the good
        # dates (text -> ordinal); the same as the tables decision_keys and good_dates.
        self.keys: dict[tuple[int, int, str, bool], int] = {}
        self.dates: dict[str, int] = {}
        # (pool index, day ordinal, decision id) -> the first and last line of those spends:
        # how far the ledger must be read for the first breaches (`_scan_breaches`)
        self.bounds: dict[tuple[int, int, int], list[int]] = {}
        # the first breaches of every pool, by (first day, last day, how many): one scan
        self._first: dict[
            tuple[int, int, int], dict[int, list[tuple[int, int, int, int, int]]]
        ] = {}

    @property
    def materialised(self) -> bool:
        """Whether the spends are in the table `spends` (line, pence, date_text, pool_index,
        rule, approved_by, in_plan, supplier)."""
        return self._bounds is not None

    def materialise(self) -> tuple[int, int]:
        """The spends written to the table `spends` (once); their first and last line."""
        if self._bounds is None:
            # Written in any order (keeping insertion order costs memory at 10M rows), and with
            # no join (a join over the ledger's scan is slower than the scan and the write
            # together); each chunk below is joined to its decision and read back in line order.
            self.con.execute("SET preserve_insertion_order = false")
            with self.feeding():
                self.con.execute(f"CREATE TABLE spends AS {self.candidates}")
            self.con.execute("SET preserve_insertion_order = true")
            found = self.con.execute("SELECT min(line), max(line) FROM spends").fetchall()[0]
            self._bounds = (int(found[0]), int(found[1])) if found[0] is not None else (0, -1)
        return self._bounds

    def columns(self, pool: int | None = None) -> Iterator[list[array[int]]]:
        """The spends a chunk of ledger lines at a time: [rows, pence, day ordinals, pool
        indexes, decision ids], in row order; of one pool (its index: DuckDB leaves out the
        others) or of all."""
        low, high = self.materialise()
        pending = [c for c in self.checked if pool is None or c[3] == pool]
        only = "" if pool is None else f"AND s.pool_index = {int(pool)} "
        for start in range(low, high + 1, _LINES) if high >= low else ():
            chunk = self.con.execute(
                "SELECT s.line, s.pence, d.ordinal AS day, s.pool_index, k.ident FROM spends s "
                "JOIN good_dates d ON s.date_text = d.date_text "
                "JOIN decision_keys k ON s.pool_index = k.pool_index AND s.rule = k.rule "
                "AND s.approved_by = k.approved_by AND s.in_plan = k.in_plan "
                f"WHERE s.line >= ? AND s.line < ? {only}ORDER BY s.line",
                [start, start + _LINES],
            ).fetchnumpy()
            before = [c for c in pending if c[0] < start + _LINES]
            pending = pending[len(before) :]
            yield _merge(chunk, before)
        if pending:
            yield _merge(None, pending)

    def records_for(
        self, idents: set[int], pool: int | None = None
    ) -> Iterator[tuple[int, int, int, int, int]]:
        """`records` of the spends whose decision is one of `idents`: one filtered scan of the
        ledger (the spends are not all copied out, as `records` would), unless they are many
        (more than a chunk, or a quarter of the pool's spends: then the table of every spend, which
        the split orders' rows and the next pool read too, is made, and read; at 1M rows, the
        JSON's breaches took four reads of the ledger, then two)."""
        wanted = spends = 0
        for (index, _, ident), n in self.counts.items():
            if pool in (None, index):
                spends += n
                wanted += n if ident in idents else 0
        if self._bounds is not None or wanted > min(_LINES, spends // 4):
            self.materialise()
            yield from super().records_for(idents, pool)
            return
        keys = [k for k, ident in self.keys.items() if ident in idents and pool in (None, k[0])]
        checked = [c for c in self.checked if c[4] in idents and pool in (None, c[3])]
        if not keys:
            yield from (tuple(int(v) for v in c) for c in sorted(checked))  # type: ignore[misc]
            return
        self.con.register("wanted_keys", _key_columns([(*k, self.keys[k]) for k in keys]))
        try:
            with self.feeding():
                cursor = self.con.execute(
                    f"SELECT s.line, s.pence, d.ordinal, s.pool_index, k.ident "
                    f"FROM ({self.candidates}) s "
                    "JOIN good_dates d ON s.date_text = d.date_text "
                    "JOIN wanted_keys k ON s.pool_index = k.pool_index AND s.rule = k.rule "
                    "AND s.approved_by = k.approved_by AND s.in_plan = k.in_plan "
                    "ORDER BY s.line"
                )

                def found() -> Iterator[tuple[int, int, int, int, int]]:
                    # handed over a chunk at a time: the breaches may be millions of rows
                    while chunk := cursor.fetchmany(_LINES):
                        yield from chunk

                for record in heapq.merge(found(), sorted(checked)):
                    yield tuple(int(v) for v in record)  # type: ignore[misc]
        finally:
            self.con.unregister("wanted_keys")

    def tally(self, pool: str, first_day: date, last_day: date, keep: int) -> Tally:
        """As `summary.tally`: the counts from the groups, the first breaches by one scan."""
        index = self.pools.index(pool)
        first, last = first_day.toordinal(), last_day.toordinal()
        breaching = [not decision.compliant for decision, _, _ in self.table]
        spends = breaches = 0
        for (pool_index, ordinal, ident), n in self.counts.items():
            if pool_index == index and first <= ordinal <= last:
                spends += n
                breaches += n if breaching[ident] else 0
        mine = [
            c for c in self.checked if c[3] == index and first <= c[2] <= last and breaching[c[4]]
        ]
        spends += sum(1 for c in self.checked if c[3] == index and first <= c[2] <= last)
        breaches += len(mine)
        found: list[tuple[int, int, int, int, int]] = list(mine[:keep])
        if keep and breaches > len(mine):
            found += self._first_breaches(index, first, last, breaching, keep)
        found.sort()
        kept = tuple(self._classified(*c) for c in found[:keep])
        return Tally(spends, breaches, kept)

    def _first_breaches(
        self, index: int, first: int, last: int, breaching: list[bool], keep: int
    ) -> list[tuple[int, int, int, int, int]]:
        """The pool's first `keep` breaches the SQL read. One filtered scan finds them for
        every pool at once (the text asks pool by pool, with the same dates): the spends whose
        decision breaches, joined to a small table of those decisions, numbered in line order
        within their pool (an ORDER BY: DuckDB does not promise a LIMIT alone keeps the first
        rows of a file)."""
        cached = self._first.get((first, last, keep))
        if cached is None:
            cached = self._first[(first, last, keep)] = self._scan_breaches(
                first, last, breaching, keep
            )
        return cached.get(index, [])

    def _scan_breaches(
        self, first: int, last: int, breaching: list[bool], keep: int
    ) -> dict[int, list[tuple[int, int, int, int, int]]]:
        keys = [(*k, ident) for k, ident in self.keys.items() if breaching[ident]]
        if not keys:
            return {}
        self.con.register("breach_keys", _key_columns(keys))
        upto = self._breaches_upto(first, last, breaching, keep)
        try:
            with self.feeding(upto):
                rows = self.con.execute(
                    "SELECT line, pence, ordinal, pool_index, ident FROM ("
                    "  SELECT s.line, s.pence, d.ordinal, s.pool_index, k.ident, row_number() OVER "
                    "    (PARTITION BY s.pool_index ORDER BY s.line) AS n "
                    f"  FROM ({self.candidates}) s "
                    "  JOIN good_dates d ON s.date_text = d.date_text "
                    "  JOIN breach_keys k ON s.pool_index = k.pool_index AND s.rule = k.rule "
                    "   AND s.approved_by = k.approved_by AND s.in_plan = k.in_plan "
                    "  WHERE d.ordinal BETWEEN ? AND ?) WHERE n <= ? ORDER BY line",
                    [first, last, keep],
                ).fetchall()
        finally:
            self.con.unregister("breach_keys")
        out: dict[int, list[tuple[int, int, int, int, int]]] = {}
        for line, pence, ordinal, pool, ident in rows:
            out.setdefault(int(pool), []).append(
                (int(line), int(pence), int(ordinal), int(pool), int(ident))
            )
        return out

    def _breaches_upto(self, first: int, last: int, breaching: list[bool], keep: int) -> int:
        """A line by which every pool's first `keep` breaches dated `first` to `last` have come:
        the pass gave each (pool, day, decision) its first and last line. A pool with `keep`
        such groups or more has a breach on each one's first line, so its first `keep` are on
        or before the keep-th smallest first line; a pool with fewer needs every one of them."""
        by_pool: dict[int, list[list[int]]] = defaultdict(list)
        for (pool, ordinal, ident), bound in self.bounds.items():
            if first <= ordinal <= last and breaching[ident]:
                by_pool[pool].append(bound)
        upto = 0
        for found in by_pool.values():
            if len(found) >= keep:
                upto = max(upto, sorted(b[0] for b in found)[keep - 1])
            else:
                upto = max(upto, max(b[1] for b in found))
        return upto

    def _classified(self, row: int, pence: int, ordinal: int, pool: int, ident: int) -> Classified:
        decision, fields, in_plan = self.table[ident]
        return Classified(
            int(row), int(pence), date.fromordinal(int(ordinal)), self.pools[int(pool)],
            decision, fields, in_plan,
        )  # fmt: skip

    def close(self) -> None:
        super().close()
        try:
            self.con.close()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)


def _key_columns(keys: list[tuple[int, int, str, bool, int]]) -> dict[str, Any]:
    """Decision keys with their ids, (pool index, rule, recorded approvers, within plan, id),
    as numpy columns for DuckDB to join the spends to."""
    columns = list(zip(*keys, strict=True))
    return {
        "pool_index": np.array(columns[0], dtype=np.int64),
        "rule": np.array(columns[1], dtype=np.int64),
        "approved_by": np.array(columns[2], dtype=object),
        "in_plan": np.array(columns[3], dtype=bool),
        "ident": np.array(columns[4], dtype=np.int64),
    }


def _merge(
    chunk: dict[str, Any] | None, rows: list[tuple[int, int, int, int, int]]
) -> list[array[int]]:
    """A chunk from DuckDB and the checked rows of the same lines, in row order."""
    names = ("line", "pence", "day", "pool_index", "ident")
    if chunk is not None and len(chunk["line"]):
        parts = [np.asarray(chunk[n], dtype=np.int64) for n in names]
    else:
        parts = [np.zeros(0, dtype=np.int64) for _ in names]
    if rows:
        extra = np.array(rows, dtype=np.int64).reshape(-1, 5)
        parts = [np.concatenate([p, extra[:, i]]) for i, p in enumerate(parts)]
        order = np.argsort(parts[0], kind="stable")
        parts = [p[order] for p in parts]
    out = []
    for (typecode, _), part in zip(_TYPES, parts, strict=True):
        column = array(typecode)
        column.frombytes(part.astype(np.dtype(typecode)).tobytes())
        out.append(column)
    return out


Judged = tuple[Decision, FieldTuple, bool]
