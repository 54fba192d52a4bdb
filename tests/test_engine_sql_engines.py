"""`--engine spark` when Spark cannot run: a clear L106 and exit 1, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main
from agreementdsl.engine.sql import spark
from test_engine_sql_duck import HEREFORDSHIRE, LEDGER


def run_spark() -> object:
    return CliRunner().invoke(
        main, ["run", str(HEREFORDSHIRE), "--ledger", str(LEDGER), "--engine", "spark"]
    )


def test_spark_without_pyspark_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark, "_SESSION", None)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = run_spark()
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "error[L106]: --engine spark needs pyspark, which is not installed" in output
    assert "pip install 'agreementdsl[spark]'" in output and "Traceback" not in output


def test_spark_without_java_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setattr(spark, "_SESSION", None)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java there
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_spark()
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    assert "error[L106]: Spark cannot start (local[2])" in output, output
    assert "Java 17" in output and "Traceback" not in output
