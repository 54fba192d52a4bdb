"""`run` at scale: --approvals all|breaches, and the progress bar (a terminal only, never piped
and never with --format json)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
LEDGER = ROOT / "agreements" / "herefordshire-2005-06.csv"
# The example ledger's breaches of delegated authority (its text summary lists them all: four
# in mental health, one in learning disabilities), and its spends in each pool.
BREACHES = {
    "mental-health": [(71, "300000.00"), (137, "40000.00"), (151, "2500.00"), (280, "10000.00")],
    "learning-disabilities": [(204, "400000.00")],
}
SPENDS = {"mental-health": 243, "learning-disabilities": 160}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", str(HEREFORDSHIRE), "--ledger", str(LEDGER), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_json_lists_every_spend_unless_asked_for_breaches(engine: str) -> None:
    code, out = run("--format", "json", "--engine", engine)
    assert code == 0
    every = {p["pool"]: p for p in json.loads(out)["pools"]}
    assert {k: len(p["approvals"]) for k, p in every.items()} == SPENDS
    assert all("approvals_listed" not in p for p in every.values())  # the contract as it was
    code, out = run("--format", "json", "--engine", engine, "--approvals", "breaches")
    assert code == 0
    only = {p["pool"]: p for p in json.loads(out)["pools"]}
    for pool, breaches in BREACHES.items():
        assert only[pool]["approvals_listed"] == "breaches"
        assert [(a["row"], a["amount"]) for a in only[pool]["approvals"]] == breaches
        # the same entries, byte for byte, as in the full list
        assert only[pool]["approvals"] == [
            a for a in every[pool]["approvals"] if not a["compliant"]
        ]
        # everything else in the pool is unchanged
        rest = {k: v for k, v in only[pool].items() if k not in ("approvals", "approvals_listed")}
        assert rest == {k: v for k, v in every[pool].items() if k != "approvals"}


def test_text_lists_breaches_by_default_and_every_spend_when_asked() -> None:
    code, default = run()
    assert code == 0
    assert "243 spends, 4 breaching" in default and "every spend" not in default
    code, every = run("--approvals", "all")
    assert code == 0
    assert every.count("\n    ok     row ") == sum(SPENDS.values()) - 5
    breach_lines = [line for line in every.splitlines() if line.startswith("    BREACH row ")]
    assert [line.split()[2] for line in breach_lines] == ["71", "137", "151", "280", "204"]
    assert (
        "    BREACH row 71      2005-06-01      £300,000.00  needs executives, approved by board"
        in every
    )
    # the default text's lines are all there, in the same order
    lines = iter(every.splitlines())
    assert all(line in lines for line in default.splitlines())


def test_approvals_goes_with_one_year_only() -> None:
    code, out = run("--years", "2005/06..2006/07", "--approvals", "all")
    assert code == 2
    assert "--approvals goes with a run of one year" in out


# ---------------------------------------------------------------- progress bar
def _run_with_stderr(stderr: str, *args: str, ledger: Path = LEDGER, delay: str = "0") -> str:
    """Run the command in a child process with stderr a pty or a pipe; what stderr received."""
    env = {**os.environ, "AGREEMENTDSL_PROGRESS_DELAY": delay}
    command = [sys.executable, "-m", "agreementdsl.cli", "run", str(HEREFORDSHIRE), "--ledger"]
    command += [str(ledger), *args]
    if stderr == "pipe":
        done = subprocess.run(command, capture_output=True, env=env, timeout=120, check=True)
        return done.stderr.decode()
    leader, follower = pty.openpty()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    # Standard output is drained beside the terminal: a JSON of more than the pipe holds
    # (64 KiB) otherwise kept the child writing, the terminal open, and the loop below waiting
    # out its 120 s on every run of the suite.
    assert child.stdout is not None
    drained = threading.Thread(target=child.stdout.read, daemon=True)
    drained.start()
    received = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    drained.join(timeout=120)
    assert child.wait(timeout=120) == 0
    os.close(leader)
    return received.decode(errors="replace")


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_terminal_gets_a_progress_bar(engine: str) -> None:
    assert "reading ledger" in _run_with_stderr("pty", "--engine", engine)


def test_the_bar_counts_the_rows_when_it_can(tmp_path: Path) -> None:
    """The bar's total is a guess from the file's size and four samples of it, but DuckDB's
    scan of a plain CSV counts the rows, and a small file is counted whole: the bar then
    ends at the number of rows, not near it (this file's samples are all short lines)."""
    path = tmp_path / "ledger.csv"
    rows, size = [], 0
    header = "date,pool,element,kind,amount,approved_by,supplier\n"
    size = len(header)
    for i in range(6000):
        near_sample = size % (1_200_000 // 4) < 70_000
        supplier = "Oak" if near_sample else "Oak House Residential Care " * 4
        line = f"2005-05-{1 + i % 28:02d},mental-health,council,spend,10.00,board,{supplier}\n"
        rows.append(line)
        size += len(line)
    path.write_text(header + "".join(rows))
    out = _run_with_stderr("pty", "--engine", "duckdb", ledger=path)
    totals = re.findall(r"/([0-9.]+k) ", out)
    # drawn first with the guess (delay 0), then with the count once the scan has made it
    counted = totals.index("6.00k")
    assert totals[0] != "6.00k" and set(totals[counted:]) == {"6.00k"}, out
    # (whether the last update, 6.00k/6.00k, is drawn before the bar is cleared depends on
    # tqdm's minimum interval: not asserted)
    guessed = _run_with_stderr("pty", "--engine", "reference", ledger=path)
    # the reference keeps the guess, from this file's samples too high
    assert "6.00k" not in re.findall(r"/([0-9.]+k) ", guessed)
    small = tmp_path / "small.csv"
    small.write_text(header + "".join(rows[:250]))
    assert "/250 [" in _run_with_stderr("pty", "--engine", "reference", ledger=small)


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_run_shorter_than_the_delay_shows_no_bar_and_a_longer_one_leaves_none(
    tmp_path: Path, engine: str
) -> None:
    """Found by a user: DuckDB's row count redrew the bar at once, before its delay, and the
    bar was then left on the terminal (tqdm clears only a bar it drew itself on an update;
    the reference's long silent stretches, redrawn every half second, were left the same)."""
    line = "2005-05-01,mental-health,council,spend,10.00,board\n"
    small = tmp_path / "small.csv"  # plain: DuckDB's scan counts its rows
    small.write_text("date,pool,element,kind,amount,approved_by\n" + line * 500)
    assert _run_with_stderr("pty", "--engine", engine, ledger=small, delay="30") == ""
    path = tmp_path / "ledger.csv"
    path.write_text("date,pool,element,kind,amount,approved_by\n" + line * 200_000)
    out = _run_with_stderr("pty", "--engine", engine, ledger=path, delay="0.2")
    assert "reading ledger" in out  # the run outlasted the delay
    # the last thing written clears the line: blanks over the bar, then back to its start
    assert re.search(r"\r *\r$", out.split("reading ledger")[-1]), repr(out[-200:])


def test_duckdb_counts_the_rows_its_sql_leaves_to_the_reference_reader(tmp_path: Path) -> None:
    """Amounts written `£10.00` are read by the reference reader's own check after DuckDB's pass
    (found by a user: the bar sat at 100% for the 20 s that took at 1M rows); the bar says so
    and counts them."""
    path = tmp_path / "ledger.csv"
    line = "2005-05-01,mental-health,council,spend,£10.00,board\n"
    path.write_text("date,pool,element,kind,amount,approved_by\n" + line * 40_000)
    out = _run_with_stderr("pty", "--engine", "duckdb", ledger=path)
    assert "checking rows" in out, out[-400:]
    assert "/40.0k" in out.split("checking rows", 1)[1], out[-400:]  # its own total


def test_the_reference_in_two_processes_reports_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference's two processes report the rows they read (found by a user: the bar sat
    at 0% until the end); it ends with every row counted."""
    monkeypatch.setenv("AGREEMENTDSL_PROCESSES", "2")
    path = tmp_path / "ledger.csv"
    line = "2005-05-01,mental-health,council,spend,10.00,board\n"
    path.write_text("date,pool,element,kind,amount,approved_by\n" + line * 300_000)
    out = _run_with_stderr("pty", "--engine", "reference", ledger=path)
    counts = re.findall(r"\| *([0-9.]+)k/", out)
    assert any(float(c) > 0 for c in counts), out[-400:]


def test_a_delay_past_reason_is_taken_within_reason() -> None:
    """AGREEMENTDSL_PROGRESS_DELAY=inf stopped the bar's thread with an OverflowError printed
    on the terminal (found by a user); nan drew the bar at once. Both are now quiet."""
    for delay in ("inf", "1e10", "nan", "-3"):
        out = _run_with_stderr("pty", delay=delay)
        assert "Traceback" not in out and "Error" not in out, (delay, out)
    assert _run_with_stderr("pty", delay="nan") == ""  # taken as the default, 2 s


def test_no_progress_bar_when_piped_or_for_json() -> None:
    assert _run_with_stderr("pipe") == ""
    assert "reading ledger" not in _run_with_stderr("pty", "--format", "json")
