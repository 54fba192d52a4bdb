"""The compiled rules as SQL on Spark (pyspark in local mode; `pip install 'agreementdsl[spark]'`).

The same statements as DuckDB and PostgreSQL (generate.py), printed for the spark dialect and run
with `spark.sql`, each step a cached temporary view. The design is the DuckDB executor's: the
SQL validates and parses the rows it is sure of, aggregates and picks each spend's rule; the rows
it declines are decided by the reference reader's `check` (shared.decide), and each distinct
(pool, rule, recorded approvers, within plan) is judged once by the pool's `Authority`.

The ledger file is read by the DuckDB executor's reading layer (sources.py: the same row
numbers, the same structural rejections) and handed to Spark as a Parquet file of texts; the
classified spends come back the same way, so no row passes through py4j one at a time.

One SparkSession serves every run in a process (starting one takes seconds): master
`local[2]` unless AGREEMENTDSL_SPARK_MASTER names another.
"""

from __future__ import annotations

import os
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any

from ..approvals import Authority
from ..executor import ApprovalSpool, PoolTotals, Totals
from ..ledger import LedgerError, LedgerReader, Rejected
from ..orders import (
    SUPPLIERS,
    SplitOrder,
    from_rows,
    rule_limit_rows,
    split_sql,
    supplier_keys,
)
from . import shared, sources
from .generate import GOOD, GOOD_TEXT, TEXTS, Rules

_BATCH = 1 << 16  # split orders' rows made into columns at a time (`orders.from_rows`)

_SESSION: Any = None
_CHUNK = 1 << 19


def session() -> Any:
    """The process's SparkSession, started on first use (L106 when Spark cannot start)."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise LedgerError(
            "L106",
            "--engine spark needs pyspark, which is not installed",
            "pip install 'agreementdsl[spark]' (and Java 17 or later: Debian's "
            "openjdk-17-jre-headless)",
        ) from None
    master = os.environ.get("AGREEMENTDSL_SPARK_MASTER", "local[2]")
    try:
        spark = (
            SparkSession.builder.master(master)
            .appName("agreementdsl")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            .getOrCreate()
        )
    except Exception as exc:  # pyspark raises its own error types (no Java, no gateway)
        raise LedgerError(
            "L106",
            f"Spark cannot start ({master}): {str(exc).strip().splitlines()[0]}",
            "Spark needs Java 17 or later on the PATH (Debian: openjdk-17-jre-headless)",
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    _SESSION = spark
    return spark


class SparkExecutor:
    """Runs a compiled agreement's ledger checks, rules and aggregation on Spark."""

    def __init__(
        self, ir: dict[str, Any], authorities: dict[str, Authority], sheet: str | None = None
    ) -> None:
        self.rules = Rules(ir, "spark")
        self.authorities = authorities
        self.sheet = sheet

    def execute(self, reader: LedgerReader, progress: object = None) -> Totals:
        spark = session()
        with tempfile.TemporaryDirectory(prefix="agreementdsl-spark-") as work:
            rejected, width = _raw_parquet(reader, self.sheet, Path(work) / "raw.parquet")
            views: list[Any] = []
            try:
                return self._run(spark, Path(work), reader, rejected, width, views)
            except LedgerError:
                raise
            except Exception as exc:  # py4j and pyspark errors, whatever their type
                raise LedgerError(
                    "L106",
                    f"Spark could not run the ledger's SQL: {str(exc).strip().splitlines()[0]}",
                ) from None
            finally:
                for frame in views:
                    frame.unpersist()
                for name in ("raw_rows", "staged", "dates", "checked_rows", "good", "spends"):
                    spark.catalog.dropTempView(name)
                for name in ("decisions", "rule_limits", "spend_rows", "supplier_keys"):
                    spark.catalog.dropTempView(name)

    def _run(
        self,
        spark: Any,
        work: Path,
        reader: LedgerReader,
        rejected: list[Rejected],
        width: int,
        views: list[Any],
    ) -> Totals:
        sql = {name: tree.sql("spark") for name, tree in self.rules.statements().items()}

        def view(name: str, frame: Any) -> None:
            frame = frame.cache()
            views.append(frame)
            frame.createOrReplaceTempView(name)

        spark.read.parquet(str(work / "raw.parquet")).createOrReplaceTempView("raw_rows")
        view("staged", spark.sql(sql["staged"]))
        view("dates", spark.sql(sql["dates"]))
        read = len(rejected)
        doubtful = [tuple(r) for r in spark.sql(sql["doubtful"]).collect()]
        more, checked = shared.decide(reader, doubtful, width)
        rejected.extend(more)
        types = [t.replace("VARCHAR", "STRING") for t in shared.CHECKED_TYPES]
        schema = ", ".join(f"{n} {t}" for n, t in zip((*GOOD, *GOOD_TEXT), types, strict=True))
        view(
            "checked_rows",
            spark.createDataFrame([shared.checked_tuple(t) for t in checked], schema),
        )
        spark.sql(sql["good"]).createOrReplaceTempView("good")
        rejected.sort(key=lambda r: r.row)
        read += int(spark.sql("SELECT count(*) FROM staged").collect()[0][0])
        pools = self._pools(spark, sql)
        spool = self._spool(spark, work, sql, view)
        days = [r[0] for r in spark.sql(sql["days"]).collect()]
        totals = Totals(pools, spool, read, read - len(rejected), rejected, days)
        query = shared.unapproved_sql(self.authorities)
        if query is not None:
            found = [tuple(r) for r in spark.sql(query).collect()]
            totals.unapproved = shared.unapproved(found, spool.table)
        totals.split_orders = self._split_orders(spark)
        return totals

    def _split_orders(self, spark: Any) -> list[SplitOrder]:
        """The split orders (engine/orders.py), by the query every SQL executor runs."""
        limits = rule_limit_rows(self.authorities)
        if not limits:
            return []
        schema = "pool_index BIGINT, rule BIGINT, rank BIGINT, limit_pence BIGINT"
        spark.createDataFrame(limits, schema).createOrReplaceTempView("rule_limits")
        spark.sql(
            "SELECT line, pence, day, pool_index, rule, supplier FROM spends"
        ).createOrReplaceTempView("spend_rows")
        keys = supplier_keys([tuple(r) for r in spark.sql(SUPPLIERS).collect()])
        spark.createDataFrame(keys, "supplier STRING, skey STRING").createOrReplaceTempView(
            "supplier_keys"
        )
        keyed, rows = split_sql("spark")
        frame = spark.sql(keyed).cache()
        try:
            frame.createOrReplaceTempView("split_keyed")
            found = spark.sql(rows).toLocalIterator()  # a partition at a time
            batches = iter(lambda: [tuple(r) for r in islice(found, _BATCH)], [])
            return from_rows(batches, list(self.authorities), self.authorities)
        finally:
            spark.catalog.dropTempView("split_keyed")
            frame.unpersist()

    def _pools(self, spark: Any, sql: dict[str, str]) -> dict[str, PoolTotals]:
        pools = {pid: PoolTotals() for pid in self.authorities}
        for pool, element, day, net in spark.sql(sql["net"]).collect():
            pools[pool].element_net[(element, day)] += int(net)
        for pool, day, line, pence in spark.sql(sql["forecasts"]).collect():
            pools[pool].forecasts.append((day, int(line), int(pence)))
        for pool, partner, day, pence in spark.sql(sql["received"]).collect():
            pools[pool].received[(partner, day)] += int(pence)
        return pools

    def _spool(self, spark: Any, work: Path, sql: dict[str, str], view: Any) -> ApprovalSpool:
        """Every spend above zero, classified; written by Spark as Parquet and read back in
        line order by DuckDB, a chunk at a time, into the spool."""
        import duckdb

        spool = ApprovalSpool(list(self.authorities))
        view("spends", spark.sql(sql["spends"]))
        keys = spark.sql("SELECT DISTINCT pool_index, rule, approved_by, in_plan FROM spends")
        judged = shared.judge(self.authorities, spool, [tuple(k) for k in keys.collect()])
        schema = "pool_index BIGINT, rule BIGINT, approved_by STRING, in_plan BOOLEAN, ident BIGINT"
        spark.createDataFrame(judged, schema).createOrReplaceTempView("decisions")
        out = work / "spends"
        spark.sql(
            "SELECT s.line, s.pence, unix_date(s.day) AS day, s.pool_index, d.ident FROM spends s "
            "JOIN decisions d ON s.pool_index = d.pool_index AND s.rule = d.rule "
            "AND s.approved_by = d.approved_by AND s.in_plan = d.in_plan"
        ).write.parquet(str(out))
        con = duckdb.connect()
        try:
            files = sorted(out.glob("*.parquet"))
            if not files:
                return spool
            cursor = con.execute(
                "SELECT line, pence, day, pool_index, ident FROM read_parquet(?) ORDER BY line",
                [[str(f) for f in files]],
            )
            while chunk := cursor.fetchmany(_CHUNK):
                shared.fill_spool(spool, chunk)
        finally:
            con.close()
        return spool


def _raw_parquet(
    reader: LedgerReader, sheet: str | None, target: Path
) -> tuple[list[Rejected], int]:
    """The ledger's raw rows (line, broken, texts) as a Parquet file, read as the DuckDB
    executor reads them; the rows rejected on reading, and the header's width."""
    import duckdb

    texts = ", ".join(TEXTS)
    copy = f"COPY (SELECT line, broken, {texts} FROM raw_rows) TO '{target}' (FORMAT parquet)"
    con = duckdb.connect()
    try:
        loaded = sources.load(con, reader, sheet)
        try:
            con.execute(copy)
            written = f"SELECT count(*) FROM read_parquet('{target}')"
            if loaded.misread(con, int(con.execute(written).fetchall()[0][0])):
                # A row of the wrong width, or a blank line: read the file by lines so every
                # number is right.
                con.execute("DROP VIEW raw_rows")
                sources.by_lines(con, reader.path, sources.header(reader.path))
                con.execute(copy)
            rejected, width = loaded.rejected, loaded.width
        except duckdb.InterruptException:
            raise  # Ctrl-C: not a file DuckDB cannot read
        except duckdb.Error:
            # Not plain lines DuckDB can read (say, not UTF-8): the reference reader's raw pass.
            con.execute("DROP VIEW IF EXISTS raw_rows")
            con.execute("DROP TABLE IF EXISTS raw_table")
            rejected, width = sources.python_rows(con, reader), 0
            con.execute(copy)
    finally:
        con.close()
    return rejected, width
