"""Helpers the engine tests share: compile an agreement, run rows through `run`, read the JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from agreementdsl.api import load, load_source
from agreementdsl.compile import compile_agreement
from agreementdsl.engine.output import write_json
from agreementdsl.engine.run import RunResult, run_ledger
from agreementdsl.source import SourceFile


def compile_file(path: Path) -> dict[str, Any]:
    loaded = load(path)
    assert loaded.errors == [], [str(d) for d in loaded.errors]
    assert loaded.agreement is not None and loaded.source is not None
    return compile_agreement(loaded.agreement, loaded.source.text)


def compile_text(text: str, name: str = "agreement.yaml") -> dict[str, Any]:
    loaded = load_source(SourceFile(name, text))
    assert loaded.errors == [], [f"{d.code} {d.message}" for d in loaded.errors]
    assert loaded.agreement is not None
    return compile_agreement(loaded.agreement, text)


def result_json(result: RunResult) -> dict[str, Any]:
    """The JSON contract of a run, as a dict (the run's spool is closed)."""
    out = io.StringIO()
    try:
        write_json(result, out)
    finally:
        result.close()
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def run_json(
    ir: dict[str, Any], tmp_path: Path, rows: list[list[str]], as_of: date, header: Sequence[str]
) -> dict[str, Any]:
    """Run `rows` (CSV rows under `header`) and return the JSON contract as a dict."""
    ledger = tmp_path / "ledger.csv"
    with ledger.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return result_json(run_ledger(ir, ledger, as_of=as_of))


def pool_of(data: dict[str, Any], pool: str) -> dict[str, Any]:
    return next(p for p in data["pools"] if p["pool"] == pool)
