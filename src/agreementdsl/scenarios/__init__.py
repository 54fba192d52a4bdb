"""Scenario tests: `NAME.test.yaml` beside an agreement, run by `agreementdsl test` (LANGUAGE.md §10)."""

from __future__ import annotations

from .runner import ScenarioResult, SuiteResult, run_paths
from .spec import Scenario, TestFile, find_test_files

__all__ = ["Scenario", "ScenarioResult", "SuiteResult", "TestFile", "find_test_files", "run_paths"]
