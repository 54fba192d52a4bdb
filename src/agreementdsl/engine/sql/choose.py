"""Which executor runs a ledger: `--engine auto|reference|duckdb|postgres|spark`."""

from __future__ import annotations

from pathlib import Path

ENGINES = ("auto", "reference", "duckdb", "postgres", "spark")
AUTO_BYTES = 64 << 20  # above this a CSV or JSON Lines ledger runs on DuckDB under `auto`
ONLY_DUCKDB = (".parquet", ".xlsx", ".xlsm", ".xls", ".ods")
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
    """The executor for this ledger; `auto` picks DuckDB for large or columnar files and
    PostgreSQL for a ledger in a database (or a file loaded into one with `--database`)."""
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
    return "duckdb" if large else "reference"
