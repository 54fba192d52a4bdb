"""Shared test fixtures: golden files, refreshed only when asked with `--update-golden`."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs every property on the same examples (a red build is then the change's, not the draw's);
# a developer's run draws new ones each time, which is how the differential tests find bugs.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the files under tests/golden/ from the current output instead of "
        "comparing with them (review the diff before committing)",
    )


@dataclass(frozen=True)
class Golden:
    """Compares output with a golden file, or rewrites the file under `--update-golden`."""

    update: bool

    def check(self, path: Path, actual: str) -> None:
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="\n")
            return
        if not path.is_file():
            pytest.fail(
                f"no golden file {path}: run `pytest --update-golden` to create it, then review it"
            )
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    fromfile=f"{path} (golden)",
                    tofile="actual output",
                )
            )
            pytest.fail(
                f"output differs from {path}; if the change is intended, rerun with "
                f"`--update-golden` and review the diff:\n{diff}",
                pytrace=False,
            )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(update=bool(request.config.getoption("--update-golden")))
