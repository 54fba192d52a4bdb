"""The columnar executor: the compiled rules as SQL, run embedded on DuckDB.

It stands behind the same `Executor` interface as the reference RowExecutor and leaves the same
`Totals`, so the analysis, settlement and the JSON contract that follow are shared code. The SQL
(generate.py) validates and parses the rows it can be sure of and picks each spend's rule; here
it runs as one aggregating pass over the ledger (nothing written per row), summing the usable
rows by pool, kind, element, partner, date and, for spends, rule, recorded approvers and within
plan. The rows it is not sure of go through the reference reader's `check`, and each distinct
(pool, rule, recorded approvers, within plan) is judged once by the pool's `Authority`, as the
reference does, so both executors agree by construction where the SQL declines and the
differential test holds them to it everywhere else. The spends stay in DuckDB (spool.py).
"""

from __future__ import annotations

import gc
import re
import shutil
import tempfile
import threading
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from ..approvals import Authority, Decision, FieldTuple, Rule
from ..executor import PoolTotals, Totals, bear
from ..ledger import LedgerReader, Rejected, Txn
from ..orders import (
    Counted,
    SplitOrder,
    limited_rules,
    rule_limit_rows,
    supplier_key,
    supplier_name,
)
from . import sources
from .generate import KINDS, TEXTS, Rules
from .shared import decide
from .spool import DuckSpool

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FILE_BYTES = 8 << 20  # from this size of ledger DuckDB works in a database file


class DuckDBExecutor:
    """Runs a compiled agreement's ledger checks, rules and aggregation on DuckDB."""

    def __init__(
        self,
        ir: dict[str, Any],
        authorities: dict[str, Authority],
        sheet: str | None = None,
        memory_limit: str = "250MB",
    ) -> None:
        self.rules = Rules(ir)
        self.authorities = authorities
        self.sheet = sheet
        self.memory_limit = memory_limit
        self._checked_txns: list[Txn] = []  # the checked spends, beside `checked` (_doubtful)
        self._lines = 0  # the ledger's lines, about (`_split_rows`)
        # every statement that reads the ledger runs inside this (sources.Loaded.feeding)
        self._feeding: Callable[..., AbstractContextManager[Any]] = nullcontext

    def execute(self, reader: LedgerReader, progress: object = None) -> Totals:
        work = tempfile.mkdtemp(prefix="agreementdsl-duckdb-")
        con: duckdb.DuckDBPyConnection | None = None
        try:
            # A large ledger's tables live in a database file, which DuckDB compresses (at 10M
            # rows: less time and a third less memory than in memory with spilling).
            large = reader.path.is_file() and reader.path.stat().st_size >= _FILE_BYTES
            con = connect(work, large, self.memory_limit)
            # The connection and its folder now belong to the spool, closed with the result.
            with _collector_paused():
                return self._run(con, reader, work, progress)
        except BaseException:  # an error, Ctrl-C or SIGTERM (cli.py), from the very start
            if con is not None:
                con.close()
            shutil.rmtree(work, ignore_errors=True)
            raise

    def _run(
        self,
        con: duckdb.DuckDBPyConnection,
        reader: LedgerReader,
        work: str,
        progress: object = None,
    ) -> Totals:
        sql = self.rules.statements()
        staged = f"CREATE VIEW staged AS {sql['staged'].sql('duckdb')}"
        loaded = sources.load(con, reader, self.sheet, Path(work))
        exact = getattr(progress, "total_rows", None)
        if exact is not None and loaded.lines is not None:
            exact(loaded.lines)  # the scan counted them: the bar's total need not be a guess
        try:
            con.execute(staged)
            with loaded.feeding():
                groups = _watched(con, self._pass(), progress, loaded.pipes)
            if loaded.misread(con, groups.rows):
                # A row of the wrong width (or an empty line, should the scan have missed one):
                # read the file by lines so every number is right.
                con.execute("DROP VIEW staged")
                con.execute("DROP VIEW raw_rows")
                sources.by_lines(con, reader.path, sources.header(reader.path), loaded.pipes)
                loaded = sources.Loaded(loaded.rejected, loaded.width, None, loaded.pipes)
                con.execute(staged)
                with loaded.feeding():
                    groups = _Groups(con.execute(self._pass()))
        except duckdb.InterruptException:
            raise  # Ctrl-C: not a file DuckDB cannot read
        except duckdb.Error:
            # DuckDB could not read the file as plain lines (say, it is not UTF-8): the
            # reference reader's raw pass reads it instead, or says why it cannot.
            con.execute("DROP VIEW IF EXISTS staged")
            con.execute("DROP VIEW IF EXISTS raw_rows")
            loaded = sources.Loaded(sources.python_rows(con, reader), 0)
            con.execute(staged)
            groups = _Groups(con.execute(self._pass()))
        self._feeding = loaded.feeding
        rejected, width = loaded.rejected, loaded.width
        names = list(self.authorities)
        pools = {pid: PoolTotals() for pid in names}
        # date text -> (ordinal, day); None: not a date (the reference reader decides its rows)
        when: dict[str, tuple[int, date] | None] = {}
        keys: dict[tuple[int, int, str, bool], int] = {}
        counts: dict[tuple[int, int, int], int] = defaultdict(int)
        spool_table: list[tuple[Decision, FieldTuple, bool]] = []
        days: set[int] = set()
        bearing = [a.bears_unapproved for a in self.authorities.values()]
        element_names, partner_names = ["", *self.rules.elements], ["", *self.rules.partners]
        unapproved: dict[tuple[int, int, str, str], list[int]] = {}
        # (pool index, day ordinal, decision id) -> the first and the last line of its spends
        bounds: dict[tuple[int, int, int], list[int]] = {}
        read, doubtful = len(rejected), 0  # rows the reading layer rejected never reach SQL
        in_order = [pools[name] for name in names]
        for (
            ok,
            index,
            kind,
            element,
            partner,
            text,
            approvers,
            plan,
            rule,
            line,
            _,
            pence,
            n,
            _,
            _,
            first_line,
            last_line,
        ) in zip(*groups.main, strict=True):
            read += n
            if not ok:
                doubtful += n
                continue
            # The pass groups by the texts' codes (generate.Rules.stage); an element or partner
            # it does not keep for this kind is NULL, read as none.
            element, partner = element_names[element or 0], partner_names[partner or 0]
            dated = when.get(text, _UNSEEN)
            if dated is _UNSEEN:
                found = _iso_ordinal(text)
                dated = when[text] = None if found is None else (found, date.fromordinal(found))
            if dated is None:
                doubtful += n  # not a date: the reference reader decides these rows
                continue
            ordinal, day = dated
            days.add(ordinal)
            totals = in_order[index]
            if kind == _SPEND:
                totals.element_net[(element, day)] += pence
                if rule is not None:
                    key = (index, rule, approvers, plan)
                    ident = keys.get(key)
                    if ident is None:
                        ident = keys[key] = self._judge(spool_table, *key)
                    at = (index, ordinal, ident)
                    counts[at] += n
                    seen = bounds.get(at)
                    if seen is None:
                        bounds[at] = [first_line, last_line]
                    else:
                        if first_line < seen[0]:
                            seen[0] = first_line
                        if last_line > seen[1]:
                            seen[1] = last_line
                    if bearing[index] and not spool_table[ident][0].compliant:
                        who = partner or self.rules.pools[index].elements.get(element, "")
                        bear(unapproved, (index, ordinal, element, who), pence, n)
            elif kind == _INCOME:
                totals.element_net[(element, day)] -= pence
            elif kind == _FORECAST:
                totals.forecasts.append((day, line, pence))
            else:  # contribution
                totals.received[(partner, day)] += pence
        checked: list[tuple[int, int, int, int, int]] = []
        suppliers: list[str] = []  # of the checked spends
        if doubtful:
            bad = [t for t, dated in when.items() if dated is None]
            stage = getattr(progress, "stage", None)
            if stage is not None:
                stage("checking rows", doubtful)
            self._doubtful(
                con, reader, width, bad, rejected, pools, spool_table, checked, days, suppliers,
                getattr(progress, "update", None),
            )  # fmt: skip
            for (_, pence, ordinal, index, ident), txn in zip(
                checked, self._checked_txns, strict=True
            ):
                if bearing[index] and not spool_table[ident][0].compliant:
                    who = txn.partner or self.rules.pools[index].elements.get(txn.element, "")
                    bear(unapproved, (index, ordinal, txn.element, who), pence)
        rejected.sort(key=lambda r: r.row)
        for totals in pools.values():
            totals.forecasts.sort(key=lambda f: f[1])
        good = [(t, dated[0]) for t, dated in when.items() if dated is not None]
        self._tables(con, keys, good)
        self._lines = read + 1  # about the ledger's last line (the header, the rows)
        spool = DuckSpool(names, con, work, self._candidates(), counts, checked, self._feeding)
        spool.keys, spool.dates, spool.bounds = keys, dict(good), bounds
        spool.table.extend(spool_table)
        split, reader_of_rows = self._split_orders(
            con, groups.split, dict(good), checked, suppliers, spool_table, spool
        )
        out = Totals(
            pools,
            spool,
            read,
            read - len(rejected),
            rejected,
            [date.fromordinal(d) for d in sorted(days)],
        )
        out.unapproved, out.split_orders, out.split_rows = unapproved, split, reader_of_rows
        return out

    def _split_orders(
        self,
        con: duckdb.DuckDBPyConnection,
        raw: tuple[list[Any], ...],
        dates: dict[str, int],
        checked: list[tuple[int, int, int, int, int]],
        suppliers: list[str],
        table: list[tuple[Decision, FieldTuple, bool]],
        spool: DuckSpool,
    ) -> tuple[Sequence[SplitOrder], Callable[[Sequence[SplitOrder]], Iterator[SplitOrder]]]:
        """The split orders (engine/orders.py), counted: the pass counted and summed the
        spends under a limited rule by pool, supplier as written and date; here those groups,
        and the spends the reference reader checked, are merged by supplier key. The rows of a
        group are read only when asked for (`with_rows`: from the spool's table of spends, or
        for a few groups by one more read of the ledger); with the function that reads them."""
        limited = limited_rules(self.authorities)
        names = list(self.authorities)
        # the split-order groups (`_Groups.split`): pool, supplier, date text, count, pence,
        # top rank, first line, last line
        index_c, supplier_c, text_c, n_c, pence_c, top_c, first_c, last_c = raw
        # each supplier as written once: its id, and its key's id (-1: no key, not grouped)
        texts = {t: i for i, t in enumerate(dict.fromkeys(supplier_c))}
        keys = {t: supplier_key(t) for t in texts}  # supplier as written -> key
        key_ids: dict[str, int] = {}
        for key in keys.values():
            if key:
                key_ids.setdefault(key, len(key_ids))
        key_of = np.array([key_ids.get(keys[t], -1) for t in texts], dtype=np.int64)
        text_id = np.fromiter((texts[t] for t in supplier_c), np.int64, len(supplier_c))
        key_id = key_of[text_id]
        # the groups on a date the SQL read (else the reference reader checked their rows)
        day = np.fromiter((dates.get(t, -1) for t in text_c), np.int64, len(text_c))
        kept = np.flatnonzero((day >= 0) & (key_id >= 0))
        # the spends the reference reader checked, one entry each
        extra: list[tuple[tuple[int, str, int], int, int, int, str]] = []
        for (line, pence, ordinal, index, ident), supplier in zip(checked, suppliers, strict=True):
            rule = table[ident][0].rule
            ranked = limited.get((index, rule.number)) if rule is not None else None
            if ranked is None:
                continue
            named = keys.get(supplier)
            if named is None:
                named = keys[supplier] = supplier_key(supplier)
            if named:
                key_ids.setdefault(named, len(key_ids))
                texts.setdefault(supplier, len(texts))
                extra.append(((index, named, ordinal), line, pence, ranked[0], supplier))
        # Every sum of pence fits a 64-bit integer when their total does; else Python's
        # integers (a hostile ledger's figures are not to wrap round).
        total = sum(pence_c) + sum(e[2] for e in extra)
        wide = np.int64 if total < 2**63 else object

        def joined(column: Any, more: list[Any], dtype: Any = np.int64) -> Any:
            mine = np.asarray(column, dtype=dtype)[kept] if len(column) else np.zeros(0, dtype)
            return np.concatenate([mine, np.array(more, dtype=dtype)])

        columns = [
            joined(index_c, [e[0][0] for e in extra]),
            np.concatenate([key_id[kept], np.array([key_ids[e[0][1]] for e in extra], np.int64)]),
            np.concatenate([day[kept], np.array([e[0][2] for e in extra], np.int64)]),
            joined(n_c, [1] * len(extra)),
            joined(pence_c, [e[2] for e in extra], wide),
            joined(top_c, [e[3] for e in extra]),
            joined(first_c, [e[1] for e in extra]),
            np.concatenate([text_id[kept], np.array([texts[e[4]] for e in extra], np.int64)]),
        ]
        out = self._counted(columns, limited, list(key_ids), list(texts))

        def rows_of(found: Sequence[SplitOrder]) -> Iterator[SplitOrder]:
            orders = list(found)  # each made once (Counted makes them when asked for)
            groups = {(names.index(o.pool), o.key, o.day.toordinal()) for o in orders}
            written: dict[tuple[int, str, int], list[tuple[str, str]]] = defaultdict(list)
            upto = 0  # the last line any of these groups has (the ledger is read to there)
            for i in kept.tolist():
                supplier, text = supplier_c[i], text_c[i]
                group = (index_c[i], keys[supplier], dates[text])
                if group in groups:
                    written[group].append((supplier, text))
                    upto = max(upto, last_c[i])
            return self._split_rows(con, orders, written, extra, upto, spool)

        return out, rows_of

    def _counted(
        self,
        columns: list[Any],
        limited: dict[tuple[int, int], tuple[int, Rule]],
        key_names: list[str],
        text_names: list[str],
    ) -> Sequence[SplitOrder]:
        """The split orders among the entries (`_split_orders`), merged by pool, supplier key
        and day (numpy: a ledger may have very many), by pool, day and first row."""
        if not len(columns[0]):
            return []
        pool, key, day, n, pence, top, line, text = columns
        order = np.lexsort((line, day, key, pool))
        pool, key, day, n, pence, top, line, text = (
            a[order] for a in (pool, key, day, n, pence, top, line, text)
        )
        change = np.ones(len(pool), dtype=bool)
        change[1:] = (pool[1:] != pool[:-1]) | (key[1:] != key[:-1]) | (day[1:] != day[:-1])
        starts = np.flatnonzero(change)  # each group's first entry holds its first line
        spends, total = np.add.reduceat(n, starts), np.add.reduceat(pence, starts)
        tops = np.maximum.reduceat(top, starts)
        ranked = {(i, rank): rule for (i, _), (rank, rule) in limited.items()}
        sources_of = {key: f"{rule.file}:{rule.line}" for key, rule in ranked.items()}
        limits = np.zeros((len(self.authorities), max(r for _, r in ranked) + 1), np.int64)
        for (i, rank), rule in ranked.items():
            limits[i, rank] = rule.limit or 0
        first_pool = pool[starts]
        flagged = (spends >= 2) & (total > limits[first_pool, tops])
        groups = starts[flagged]
        found = np.flatnonzero(flagged)
        shown = np.lexsort((line[groups], day[groups], pool[groups]))
        names = list(self.authorities)
        picked = found[shown]
        at = starts[picked]
        # the columns of the split orders, in their order; each made when asked for (Counted)
        o_pool, o_day, o_line, o_text, o_key = pool[at], day[at], line[at], text[at], key[at]
        o_spends, o_pence, o_top = spends[picked], total[picked], tops[picked]
        seen: dict[int, str] = {}  # supplier id -> as shown
        days: dict[int, date] = {}

        def make(i: int) -> SplitOrder:
            p, d, who, top_ = int(o_pool[i]), int(o_day[i]), int(o_text[i]), int(o_top[i])
            rule = ranked[(p, top_)]
            assert rule.limit is not None
            shown_as = seen.get(who)
            if shown_as is None:
                shown_as = seen[who] = supplier_name(text_names[who])
            when = days.get(d)
            if when is None:
                when = days[d] = date.fromordinal(d)
            return SplitOrder.counted(
                names[p],
                shown_as,
                when,
                rule.limit,
                rule.number,
                sources_of[(p, top_)],
                spends=int(o_spends[i]),
                pence=int(o_pence[i]),
                first_row=int(o_line[i]),
                key=key_names[int(o_key[i])],
            )

        return Counted(make, o_pool, o_day, names)

    def _split_rows(
        self,
        con: duckdb.DuckDBPyConnection,
        orders: list[SplitOrder],
        written: dict[tuple[int, str, int], list[tuple[str, str]]],
        extra: list[tuple[tuple[int, str, int], int, int, int, str]],
        upto: int,
        spool: DuckSpool,
    ) -> Iterator[SplitOrder]:
        """These split orders, in this order, each with its rows, into a narrow table, then
        handed over a chunk of groups at a time (so a ledger where half the spends are split
        orders still runs in bounded memory). The rows come from the spool's table of every
        spend when it has one (the JSON lists the approvals first) or when the orders have
        more rows than a chunk or their last row is past the ledger's middle (the table, made
        once, serves every pool: a read of the ledger per pool cost 1.2 s each at 1M rows);
        else from one read of the ledger to line `upto` (the last of their rows: the text
        shows the first few orders)."""
        names = list(self.authorities)
        gid_of = {(names.index(o.pool), o.key, o.day.toordinal()): i for i, o in enumerate(orders)}
        wanted = [
            (g[0], supplier, text, gid)
            for g, gid in gid_of.items()
            for supplier, text in written.get(g, [])
        ]
        columns = list(zip(*wanted, strict=True)) or [(), (), (), ()]
        types = (np.int64, object, object, np.int64)
        _table(con, "split_wanted", ("pool_index", "supplier", "date_text", "gid"), columns, types)
        # (reading most of the ledger for them: the next pool's orders would read it again)
        many = sum(o.spends for o in orders) > _SPLIT_CHUNK or 2 * upto > self._lines
        feeding: AbstractContextManager[Any] = nullcontext()
        if spool.materialised or many:
            spool.materialise()  # the table of `_candidates`
            spends = "spends"
        else:
            spends, feeding = f"({self._candidates()})", self._feeding(upto)
        source = f"SELECT line, pence, supplier, date_text, pool_index, rule FROM {spends} s"
        # Written in any order (a sort of every row would hold them all in memory at once);
        # each chunk of groups is sorted as it is read (`_split_groups`).
        con.execute("SET preserve_insertion_order = false")
        with feeding:
            con.execute(
                f"""CREATE TABLE split_out AS
                SELECT w.gid, x.line, x.pence FROM ({source}) x
                JOIN split_wanted w ON x.pool_index = w.pool_index
                  AND x.supplier = w.supplier AND x.date_text = w.date_text
                WHERE x.supplier <> ''
                  AND x.date_text IN (SELECT date_text FROM split_wanted)
                  AND x.supplier IN (SELECT supplier FROM split_wanted)
                  AND {self._rank_case("x.")} IS NOT NULL"""
            )
        con.execute("SET preserve_insertion_order = true")
        con.execute("DROP TABLE split_wanted")
        # the spends the reference reader checked, by group (a spend under no limit is not one)
        checked: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for group, line, pence, _, _ in extra:
            if group in gid_of:
                checked[gid_of[group]].append((line, pence))
        try:
            found = _split_groups(
                con, [o.spends - len(checked.get(i, ())) for i, o in enumerate(orders)]
            )
            pending = next(found, None)
            for gid, order in enumerate(orders):
                lines, amounts = array("q"), array("q")
                if pending is not None and pending[0] == gid:
                    lines.frombytes(pending[1].astype(np.int64).tobytes())  # in line order
                    amounts.frombytes(pending[2].astype(np.int64).tobytes())
                    pending = next(found, None)
                if gid in checked:  # merged into line order
                    rows = sorted([*zip(lines, amounts, strict=True), *checked[gid]])
                    lines, amounts = (
                        array("q", [r for r, _ in rows]),
                        array("q", [a for _, a in rows]),
                    )
                filled = SplitOrder(
                    order.pool, order.supplier, order.day, lines, amounts, order.limit,
                    order.rule, order.source, key=order.key,
                )  # fmt: skip
                assert (filled.spends, filled.pence) == (order.spends, order.pence), order
                yield filled
        finally:
            con.execute("DROP TABLE IF EXISTS split_out")

    def _rank_case(self, table: str = "") -> str:
        """SQL for the rank of a spend's rule among its pool's limited rules (`limited_rules`),
        from its `pool_index` and `rule` columns (of `table`); NULL for a rule with no limit
        (and for rule 0 or NULL). Simple CASEs, pool then rule: one comparison of each row
        per pool and rule tried, not two."""
        by_pool: dict[int, list[str]] = defaultdict(list)
        for i, n, rank, _ in rule_limit_rows(self.authorities):
            by_pool[i].append(f"WHEN {n} THEN {rank}")
        if not by_pool:
            return "NULL"
        pools = " ".join(
            f"WHEN {i} THEN CASE {table}rule {' '.join(ranks)} END" for i, ranks in by_pool.items()
        )
        return f"(CASE {table}pool_index {pools} END)"

    def _pass(self) -> str:
        """One scan of the ledger: every row counted, the usable ones summed by pool, kind,
        element, partner, date and (for spends above zero) rule, approvers and within plan
        (`main` 1); and the spends under a limited rule that name a supplier once more, counted
        and summed by pool, supplier as written and date, with the highest rank of their rules
        (`main` 0: for split orders, engine/orders.py). The second set of groups comes from the
        same scan: each such spend is paired with both rows of a two-row table, every other row
        with the first only (GROUPING SETS would copy the whole scan into a temporary table
        first; an UNNEST of a list made per row cost half a second more at 10M rows). Each
        group's sum of pence comes as BIGINT where it fits, else as text (`_Groups`)."""
        rule = self.rules.rule_number(coded=True).sql("duckdb")
        spend = "ok AND kind_code = 0 AND pence > 0"  # kinds, elements, partners by code
        bears = any(a.bears_unapproved for a in self.authorities.values())
        # a pool whose unapproved spend its partners bear needs each spend's partner
        partner_kinds = "2, 0" if bears else "2"
        rank = self._rank_case()
        main = ("ok", "kind", "element", "partner", "approved_by", "in_plan", "rule")
        keys = ", ".join(
            [*main[:4], "pool_index", "date_text", *main[4:], "forecast_line", "supplier_g"]
        )
        only_main = ", ".join(f"CASE WHEN main = 1 THEN {k} END AS {k}" for k in main)
        figures = {
            "pence": "sum(pence)",
            "n": "count(*)",
            "top": "max(limit_rank)",
            "first_line": "min(line)",
            "last_line": "max(line)",
        }
        listed = ", ".join(f"{figures[c]} AS {c}" if c in figures else c for c in _PASS)
        low, high = _BIGINT
        fetched = ", ".join(c for c in _PASS if c != "pence")
        return f"""
        SELECT {fetched},
          CASE WHEN pence BETWEEN {low} AND {high} THEN CAST(pence AS BIGINT) END AS pence_small,
          CASE WHEN pence < {low} OR pence > {high} THEN CAST(pence AS VARCHAR) END AS pence_text
        FROM (
        SELECT {listed}
        FROM (SELECT {only_main}, pool_index, date_text,
                     CASE WHEN main = 1 THEN forecast_line END AS forecast_line,
                     CASE WHEN main = 0 THEN supplier_g END AS supplier_g,
                     pence, limit_rank, line, main
              FROM (SELECT *, CASE WHEN limit_rank IS NOT NULL AND supplier <> ''
                              THEN supplier END AS supplier_g
                    FROM (SELECT *, {rank} AS limit_rank
                          FROM (SELECT ok,
                            pool_index,
                            kind_code AS kind,
                            CASE WHEN kind_code IN (0, 1) THEN element_code END AS element,
                            CASE WHEN kind_code IN ({partner_kinds}) THEN partner_code END
                                AS partner,
                            CASE WHEN ok THEN date_text END AS date_text,
                            CASE WHEN {spend} THEN approved_by END AS approved_by,
                            CASE WHEN {spend} THEN in_plan END AS in_plan,
                            CASE WHEN {spend} THEN COALESCE({rule}, 0) END AS rule,
                            CASE WHEN kind_code = 3 THEN line END AS forecast_line,
                            line,
                            supplier,
                            pence
                          FROM staged))) AS scanned,
                   (VALUES (1), (0)) AS sets(main)
              WHERE main = 1 OR supplier_g IS NOT NULL)
        GROUP BY {keys}, main)"""

    def _candidates(self) -> str:
        """Every spend above zero the SQL read, with what its decision is keyed by (`tally`)
        and its supplier (for the rows of split orders, `_split_rows`)."""
        rule = self.rules.rule_number(coded=True).sql("duckdb")
        return f"""
        SELECT line, pence, date_text, pool_index, rule, approved_by, in_plan, supplier
        FROM (SELECT line, pence, date_text, pool_index, approved_by, in_plan,
                     COALESCE({rule}, 0) AS rule, supplier
              FROM staged WHERE ok AND kind_code = 0 AND pence > 0)"""

    def _judge(
        self,
        table: list[tuple[Decision, FieldTuple, bool]],
        index: int,
        rule_number: int,
        approvers: str,
        in_plan: bool,
    ) -> int:
        """Judge one distinct (pool, rule, recorded approvers, within plan); its decision id."""
        authority = self.authorities[list(self.authorities)[index]]
        rule = authority.rules[rule_number - 1] if rule_number else None
        recorded = tuple(a.strip() for a in approvers.split(";") if a.strip())
        table.append((authority.judge(rule, recorded), (), bool(in_plan)))
        return len(table) - 1

    def _tables(
        self,
        con: duckdb.DuckDBPyConnection,
        keys: dict[tuple[int, int, str, bool], int],
        dates: list[tuple[str, int]],
    ) -> None:
        """The judged keys and the good dates, for the spool to read the spends with."""
        columns = list(zip(*[(*k, ident) for k, ident in keys.items()], strict=True)) or [()] * 5
        _table(con, "decision_keys", ("pool_index", "rule", "approved_by", "in_plan", "ident"),
               columns, (np.int64, np.int64, object, bool, np.int64))  # fmt: skip
        columns = list(zip(*dates, strict=True)) or [(), ()]
        _table(con, "good_dates", ("date_text", "ordinal"), columns, (object, np.int64))

    def _doubtful(
        self,
        con: duckdb.DuckDBPyConnection,
        reader: LedgerReader,
        width: int,
        bad_dates: list[str],
        rejected: list[Rejected],
        pools: dict[str, PoolTotals],
        table: list[tuple[Decision, FieldTuple, bool]],
        checked: list[tuple[int, int, int, int, int]],
        days: set[int],
        suppliers: list[str],
        tick: Callable[[int], None] | None = None,
    ) -> None:
        """The rows the SQL declined, decided by the reference reader's `check`; each checked
        spend's supplier and transaction are kept beside `checked`; `tick` told of each batch
        (the progress bar's second stage)."""
        self._checked_txns = []
        _table(con, "bad_dates", ("date_text",), [bad_dates], (object,))
        texts = ", ".join(TEXTS)
        names = list(self.authorities)
        with self._feeding():
            cursor = con.execute(
                f"SELECT line, broken, {texts} FROM staged WHERE NOT ok "
                "OR date_text IN (SELECT date_text FROM bad_dates)"
            )

            # In any order, a batch at a time, and put in line order here: a ledger whose every
            # amount is written `£1,250.00` has all its rows here, and sorting them in DuckDB
            # ran out of its memory (found by a user; `check` judges each row alone).
            def found() -> Iterator[Any]:
                for batch in iter(lambda: cursor.fetchmany(_BATCH), []):
                    yield from batch
                    if tick is not None:
                        tick(len(batch))

            refused, accepted = decide(reader, found(), width)  # the reference reader's verdicts
        accepted.sort(key=lambda txn: txn.row)
        rejected.extend(refused)
        for result in accepted:
            line = result.row
            ordinal = result.day.toordinal()
            days.add(ordinal)
            totals = pools[result.pool]
            if result.kind in ("spend", "income"):
                signed = result.amount if result.kind == "spend" else -result.amount
                totals.element_net[(result.element, result.day)] += signed
                if result.kind == "spend" and result.amount > 0:
                    authority = self.authorities[result.pool]
                    who = result.partner or self.rules.pools[names.index(result.pool)].elements.get(
                        result.element, ""
                    )
                    fields: FieldTuple = (
                        ("category", result.category),
                        ("element", result.element),
                        ("kind", "spend"),
                        ("partner", who),
                        ("supplier", result.supplier),
                    )
                    decision = authority.decide(
                        result.amount, result.in_plan, fields, result.approved_by
                    )
                    table.append((decision, (), result.in_plan))
                    pool_index = names.index(result.pool)
                    checked.append((line, result.amount, ordinal, pool_index, len(table) - 1))
                    suppliers.append(result.supplier)
                    self._checked_txns.append(result)
            elif result.kind == "forecast":
                totals.forecasts.append((result.day, line, result.amount))
            else:
                totals.received[(result.partner, result.day)] += result.amount


# The columns of the pass's groups as `_Groups.main` gives them (the SQL of `_pass` gives
# `pence` apart, as `pence_small` and `pence_text`); `_SPLIT`: `_Groups.split`'s.
_PASS = (
    "ok",
    "pool_index",
    "kind",
    "element",
    "partner",
    "date_text",
    "approved_by",
    "in_plan",
    "rule",
    "forecast_line",
    "supplier_g",
    "pence",
    "n",
    "top",
    "main",
    "first_line",
    "last_line",
)
_UNSEEN = (-1, date.min)  # a date text not looked at yet (`_run`)
_SPEND, _INCOME, _FORECAST = (KINDS.index(k) for k in ("spend", "income", "forecast"))
_SPLIT = ("pool_index", "supplier_g", "date_text", "n", "pence", "top", "first_line", "last_line")
_BIGINT = (-(2**63), 2**63 - 1)


def connect(work: str, large: bool, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """A connection set up as a run's: a database file in the folder `work` for a `large`
    ledger (else in memory), spilling to that folder, within `memory_limit`."""
    con = duckdb.connect(str(Path(work) / "run.duckdb") if large else ":memory:")
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        folder = work.replace("'", "''")  # a TMPDIR may hold a quote
        con.execute(f"SET temp_directory = '{folder}'")
        # Every join here is the ledger (left) to a small table (right), written so. DuckDB
        # cannot tell a ledger read through pipes is large (sources.Pipes) and would build its
        # hash tables on the ledger side: the joins are taken as written.
        con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
    except BaseException:
        con.close()
        raise
    return con


class _Groups:
    """The pass's groups (`DuckDBExecutor._pass`), fetched as numpy columns, not as tuples
    (222,169 groups at 10M rows: 0.07 s against 0.45 s). `main`: the columns of _PASS for
    the groups of `main` 1, as lists (None for NULL); `split`: those of _SPLIT for the
    split-order groups; `rows`: the rows the groups count. A sum of pence comes as BIGINT
    where it fits, else as text (fetched as numbers, DuckDB's HUGEINT would be a float)."""

    def __init__(self, relation: duckdb.DuckDBPyConnection) -> None:
        found = relation.fetchnumpy()
        small, text = found.pop("pence_small"), found.pop("pence_text")
        if small.dtype.kind not in "iu":  # never a float: pence are exact or not at all
            raise AssertionError(f"DuckDB fetched a BIGINT column as {small.dtype}")
        is_main = np.asarray(found["main"]) == 1

        def values(name: str, where: Any) -> list[Any]:
            if name != "pence":
                return found[name][where].tolist()
            pence = small[where].tolist()  # None for NULL (no usable row)
            for i, figure in enumerate(text[where].tolist()):  # masked or None: NULL
                if figure is not None:
                    pence[i] = int(figure)
            return pence

        self.main = [values(c, is_main) for c in _PASS]
        self.split = tuple(values(c, ~is_main) for c in _SPLIT)
        self.rows = int(np.asarray(found["n"])[is_main].sum())


_SPLIT_CHUNK = 1 << 19  # rows of split orders handed over at a time
_BATCH = 1 << 16  # doubtful rows handed over at a time (`_doubtful`)


def _split_groups(
    con: duckdb.DuckDBPyConnection, sizes: list[int]
) -> Iterator[tuple[int, Any, Any]]:
    """The rows of `split_out` group by group: (group id, lines, pences) as numpy arrays in line
    order, read a chunk of whole groups at a time (`sizes`: each group's rows in the table)."""
    start = 0
    while start < len(sizes):
        end, rows = start, 0
        while end < len(sizes) and (end == start or rows + sizes[end] <= _SPLIT_CHUNK):
            rows += sizes[end]
            end += 1
        chunk = con.execute(
            "SELECT gid, line, pence FROM split_out WHERE gid >= ? AND gid < ? ORDER BY gid, line",
            [start, end],
        ).fetchnumpy()
        gid = np.asarray(chunk["gid"], dtype=np.int64)
        line = np.asarray(chunk["line"], dtype=np.int64)
        pence = np.asarray(chunk["pence"], dtype=np.int64)
        # (a chunk may hold no row at all: its groups' spends were all checked by the
        # reference reader, `£40,000.00` say, and come from Python)
        starts = np.flatnonzero(np.diff(gid, prepend=-1))
        ends = [*starts[1:].tolist(), len(gid)] if len(gid) else []
        for a, b in zip(starts.tolist(), ends, strict=True):
            yield int(gid[a]), line[a:b], pence[a:b]
        start = end


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the results are built: they are many small
    objects with no cycles (the split orders alone may be 100,000s), and its passes over them
    cost a third of a second at 10M rows for nothing. Reference counting still frees them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _watched(
    con: duckdb.DuckDBPyConnection, sql: str, progress: object, pipes: sources.Pipes | None
) -> _Groups:
    """Run the pass, telling `progress.fraction` how far DuckDB has got (polled from a thread:
    the statement itself reports nothing until it ends); of a ledger read through pipes, the
    share of its bytes handed over."""
    report = getattr(progress, "fraction", None)
    if report is None:
        return _Groups(con.execute(sql))
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")  # DuckDB's own bar would go to stdout
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.25):
            done = pipes.fraction() * 100 if pipes is not None else con.query_progress()
            if done >= 0:
                report(done / 100)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        return _Groups(con.execute(sql))
    finally:
        stop.set()
        watcher.join()
        report(1.0)


def _table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    names: tuple[str, ...],
    columns: list[Any],
    types: tuple[Any, ...],
) -> None:
    """A small table from Python columns, handed over as numpy arrays (no row-by-row insert)."""
    data = {n: np.array(list(c), dtype=t) for n, c, t in zip(names, columns, types, strict=True)}
    con.register(f"{name}_data", data)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_data")
    con.unregister(f"{name}_data")


def _iso_ordinal(text: str) -> int | None:
    """The day of an ISO date written `YYYY-MM-DD` in ASCII digits (years 0001 to 9999), as the
    SQL's own date check judges it; None for anything else (the reference reader decides)."""
    if not _ISO.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).toordinal()
    except ValueError:
        return None
