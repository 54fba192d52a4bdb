"""Which executor runs a ledger: `--engine auto|reference|duckdb`."""

from __future__ import annotations

from pathlib import Path

ENGINES = ("auto", "reference", "duckdb")
AUTO_BYTES = 64 << 20  # above this a CSV or JSON Lines ledger runs on DuckDB under `auto`
ONLY_DUCKDB = (".parquet", ".xlsx", ".xlsm", ".xls", ".ods")


class EngineError(ValueError):
    """The engine asked for cannot run this ledger (a usage error)."""


def choose_engine(engine: str, ledger: Path, sheet: str | None = None) -> str:
    """ "reference" or "duckdb" for this ledger; `auto` picks DuckDB for large or columnar files."""
    if engine not in ENGINES:
        raise EngineError(f"--engine {engine} is not one of {', '.join(ENGINES)}")
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
