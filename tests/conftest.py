"""Shared test fixtures: golden files, refreshed only when asked with `--update-golden`."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
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


# ---------------------------------------------------------------- a throwaway PostgreSQL
# Debian keeps the server tools under /usr/lib/postgresql/<version>/bin, off the PATH.
_PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/nonexistent"))


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server tools as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """A PostgreSQL cluster on 127.0.0.1 for the whole session (initdb, pg_ctl), stopped and
    removed after it; its URL (user postgres, database postgres, trust authentication)."""
    import shutil
    import socket
    import subprocess
    import tempfile

    initdb = shutil.which("initdb") or str(_PG_BIN / "initdb")
    pg_ctl = shutil.which("pg_ctl") or str(_PG_BIN / "pg_ctl")
    if not Path(initdb).exists():
        pytest.skip("PostgreSQL's initdb is not installed (Debian package postgresql)")
    # Under /tmp itself: pytest's own temporary folders are closed to other users.
    base = Path(tempfile.mkdtemp(prefix="agreementdsl-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    data = base / "data"
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-h 127.0.0.1 -p {port} -k {base}"
    subprocess.run(
        _as_postgres(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "stop"]), capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)
