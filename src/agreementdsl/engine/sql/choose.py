"""Which executor runs a ledger: `--engine auto|reference|duckdb|postgres|spark`."""

from __future__ import annotations

from pathlib import Path

from ..ledger import SPREADSHEETS

ENGINES = ("auto", "reference", "duckdb", "postgres", "spark")
AUTO_BYTES = 64 << 20  # from this size a plain CSV ledger runs on DuckDB under `auto`
ONLY_DUCKDB = (".parquet", *SPREADSHEETS)
DATABASE_SCHEMES = ("postgresql", "postgres")


class EngineError(ValueError):
    """The engine asked for cannot run this ledger (a usage error)."""


def is_database(ledger: object) -> bool:
    """Whether a ledger (or --database value) is a `postgresql://` URL rather than a file."""
    return (
        isinstance(ledger, str)
        and "://" in ledger
        and ledger.split("://", 1)[0].lower() in DATABASE_SCHEMES
    )


def choose_engine(
    engine: str, ledger: Path | str, sheet: str | None = None, database: str | None = None
) -> str:
    """The executor for this ledger; `auto` picks DuckDB for columnar files and for a large CSV
    its parser reads itself, and PostgreSQL for a ledger in a database (or a file loaded into
    one with `--database`)."""
    if engine not in ENGINES:
        raise EngineError(f"--engine {engine} is not one of {', '.join(ENGINES)}")
    if isinstance(ledger, str):
        if engine not in ("auto", "postgres"):
            raise EngineError(f"a postgresql:// ledger runs on PostgreSQL, not --engine {engine}")
        if database is not None:
            raise EngineError("give --database with a ledger file, not with a postgresql:// ledger")
        if sheet is not None:
            raise EngineError("--sheet is for a workbook ledger, not a postgresql:// one")
        return "postgres"
    if sheet is not None and ledger.suffix.lower() not in SPREADSHEETS:
        raise EngineError(
            f"--sheet names a sheet of a workbook ledger ({', '.join(SPREADSHEETS)}), "
            f"not of {ledger.name}"
        )
    if database is not None:
        if engine not in ("auto", "postgres"):
            raise EngineError(f"--database loads the ledger into PostgreSQL: not --engine {engine}")
        return "postgres"
    if engine == "postgres":
        raise EngineError(
            "--engine postgres reads a postgresql://…?table=… ledger, or a ledger file loaded "
            "into the database given by --database URL"
        )
    columnar = ledger.suffix.lower() in ONLY_DUCKDB
    if engine == "reference" and (columnar or sheet is not None):
        raise EngineError(
            f"the reference executor reads CSV and JSON Lines only, not {ledger.name}"
            + (" (nor --sheet)" if sheet is not None else "")
        )
    if engine != "auto":
        return engine
    if columnar or sheet is not None:
        return "duckdb"
    try:
        large = ledger.stat().st_size >= AUTO_BYTES
    except OSError:
        large = False  # the reader reports an unreadable ledger in its own words
    if not large or ledger.suffix.lower() in (".jsonl", ".ndjson"):
        return "reference"
    # DuckDB is faster only on a CSV its own parser reads: any other (a quoted field, say) goes
    # through the reference reader's raw pass in one process, then SQL, and the reference's
    # two processes are quicker (1M rows with one quoted field: 12 s against 5 s; JSON Lines:
    # 20 s against 16 s); and only when the SQL reads most amounts itself (`mostly_doubtful`).
    # The scan is remembered for the executor (sources.scan).
    from . import sources

    if sources.scan(ledger, sources.default_parts()).mode == "python":
        return "reference"
    return "reference" if sources.mostly_doubtful(ledger) else "duckdb"
