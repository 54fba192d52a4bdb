"""The two-process path reads every row where one process does: same physical line numbers for
rejected rows and approvals whatever the line endings, read = used + rejected, and every value in
the column it was written under."""

from __future__ import annotations

import os
import re
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.engine import parallel
from agreementdsl.engine.approvals import Authority
from agreementdsl.engine.executor import RowExecutor
from agreementdsl.engine.ledger import LedgerReader, PoolShape, Rejected, Txn
from agreementdsl.engine.parallel import ParallelExecutor
from engine_support import compile_file

ROOT = Path(__file__).resolve().parents[1]
IR = compile_file(ROOT / "agreements" / "herefordshire.yaml")
SHAPES = {p["id"]: PoolShape({e["id"]: e["partner"] for e in p["elements"]}) for p in IR["pools"]}
PARTNERS = frozenset(p["id"] for p in IR["partners"])
ROLES = frozenset(r["id"] for r in IR["roles"])
BREAK = re.compile(r"\r\n|\r|\n")
COLUMNS = ["date", "pool", "element", "kind", "amount", "approved_by", "supplier", "category"]


def reader(path: Path) -> LedgerReader:
    return LedgerReader(path, SHAPES, PARTNERS)


def executor() -> RowExecutor:
    element_partners = {
        p["id"]: {e["id"]: e["partner"] for e in p["elements"]} for p in IR["pools"]
    }
    return RowExecutor({p["id"]: Authority(p, ROLES) for p in IR["pools"]}, element_partners)


def outcome(path: Path, processes: int) -> dict[str, Any]:
    """What a run keeps of every row: counts, rejected rows and approvals by physical line."""
    one = executor()
    run = ParallelExecutor(one, min_bytes=0) if processes == 2 else one
    totals = run.execute(reader(path))
    try:
        return {
            "read": totals.read,
            "used": totals.used,
            "rejected": [(r.row, r.code) for r in totals.rejected],
            "approvals": [(c.row, c.amount, c.decision.recorded) for c in totals.approvals],
        }
    finally:
        totals.approvals.close()


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two-process path only forks on a machine with two cores; say there are two."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def ledger_text(rows: list[list[str]], endings: list[str], header: list[str] = COLUMNS) -> str:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return "".join(line + endings[i % len(endings)] for i, line in enumerate(lines))


def spend(n: int, amount: str = "100.00", approver: str = "board") -> list[str]:
    return [f"2005-05-{1 + n % 28:02d}", "mental-health", "council", "spend", amount, approver,
            f"supplier {n}", f"cat {n}"]  # fmt: skip


# ---------------------------------------------------------------- the bug, reproduced
def test_a_bare_cr_in_the_first_half_does_not_shift_the_second_half(tmp_path: Path) -> None:
    rows = [spend(n) for n in range(200)]
    rows[150][4] = "1.234"  # L004 in the second half
    rows[180][4] = "300000.00"  # an approval that needs executives, in the second half
    path = tmp_path / "ledger.csv"
    text = ledger_text(rows, ["\n"])
    text = text.replace("supplier 3,cat 3\n", "supplier 3,cat 3\r", 1)  # one bare CR, first half
    path.write_bytes(text.encode())
    assert parallel.slices(reader(path)) is not None  # the file is cut in two
    one, two = outcome(path, 1), outcome(path, 2)
    assert two == one
    assert (152, "L004") in one["rejected"]  # header is line 1, rows[150] is line 152
    assert any(row == 182 and amount == 30_000_000 for row, amount, _ in one["approvals"])


def test_a_header_ended_by_a_bare_cr_keeps_every_row(tmp_path: Path) -> None:
    rows = [spend(n) for n in range(100)]
    path = tmp_path / "ledger.csv"
    path.write_bytes(ledger_text(rows, ["\r", "\r", "\n"]).encode())
    assert parallel.slices(reader(path)) is not None
    one, two = outcome(path, 1), outcome(path, 2)
    assert one["read"] == 100
    assert two == one


# ---------------------------------------------------------------- properties over random ledgers
ENDINGS = st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=6)
ROW = st.tuples(
    st.integers(0, 27),
    st.sampled_from(["mental-health", "learning-disabilities", "mental-heath"]),
    st.sampled_from(["council", "respite", "pct-provider", "nowhere", ""]),
    st.sampled_from(["spend", "spend", "income", "forecast", "spent"]),
    st.sampled_from(["100.00", "250000.00", "300000", "1.234", "12", "ten"]),
    st.sampled_from(["board", "executives", "mh-manager;board", "", "nobody"]),
    st.text("abcxyz ", max_size=6),
    st.text("pqr-", max_size=4),
)


def generated(
    draw_rows: list[tuple[Any, ...]], order: list[int]
) -> tuple[list[str], list[list[str]]]:
    """A header in the given column order and each row's values under the same order."""
    header = [COLUMNS[i] for i in order]
    rows = []
    for day, *rest in draw_rows:
        values = [f"2005-06-{1 + day:02d}", *rest]
        rows.append([values[i] for i in order])
    return header, rows


def physical_lines(path: Path) -> list[str]:
    return BREAK.split(path.read_bytes().decode())


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, min_size=2, max_size=60),
    endings=ENDINGS,
    order=st.permutations(range(len(COLUMNS))),
    blanks=st.sets(st.integers(1, 60), max_size=4),
)
def test_two_halves_read_exactly_the_rows_of_the_whole(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[Any, ...]],
    endings: list[str],
    order: list[int],
    blanks: set[int],
) -> None:
    header, table = generated(rows, order)
    lines = [",".join(header), *(",".join(r) for r in table)]
    for at in sorted(blanks, reverse=True):
        lines.insert(min(at, len(lines)), "")
    text = "".join(line + endings[i % len(endings)] for i, line in enumerate(lines))
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    path.write_bytes(text.encode())
    whole = list(reader(path).transactions())
    parts = parallel.slices(reader(path))
    if parts is not None:
        halves = [
            item for part in parts for item in replace(reader(path), part=part).transactions()
        ]
        assert halves == whole
    # Every row is read once, at its physical line, with each value under its own column.
    physical = physical_lines(path)
    data_lines = [n for n, line in enumerate(physical, start=1) if n > 1 and line]
    assert [item.row for item in whole] == data_lines
    for item in whole:
        written = dict(zip(header, physical[item.row - 1].split(","), strict=True))
        if isinstance(item, Txn):
            assert item.day.isoformat() == written["date"]
            assert (item.pool, item.element, item.kind) == (
                written["pool"], written["element"], written["kind"]
            )  # fmt: skip
            assert item.approved_by == tuple(a for a in written["approved_by"].split(";") if a)
            # as written: a condition compares them exactly, on every path
            assert (item.supplier, item.category) == (written["supplier"], written["category"])
        else:
            assert isinstance(item, Rejected)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROW, min_size=4, max_size=80), endings=ENDINGS)
def test_one_and_two_processes_give_the_same_rows(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[Any, ...]], endings: list[str]
) -> None:
    header, table = generated(rows, list(range(len(COLUMNS))))
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    path.write_bytes(ledger_text(table, endings, header).encode())
    one = outcome(path, 1)
    assert one["read"] == one["used"] + len(one["rejected"]) == len(table)
    assert outcome(path, 2) == one


def test_a_spool_closed_while_it_is_being_read_finishes_quietly() -> None:
    """Ctrl-C while the JSON lists the approvals closes the spool before the generator reading
    it is finished: finishing it then must not seek the closed file ("Exception ignored in
    ApprovalSpool.columns ... seek of closed file" was printed before "Aborted!")."""
    from agreementdsl.engine.executor import ApprovalSpool

    spool = ApprovalSpool(["p"])
    for row in range(3):
        spool.rows.append(row)
        spool.amounts.append(100)
        spool.days.append(732000)
        spool.pool_ids.append(0)
        spool.decisions.append(0)
        spool.flush()
    reading = spool.columns()
    assert list(next(reading)[0]) == [0]
    spool.close()
    reading.close()  # raised ValueError: seek of closed file


def _sigterm_is_default() -> bool:
    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL and (
        signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    )


def test_workers_are_forked_with_sigterm_at_its_default() -> None:
    """The command line turns SIGTERM into Ctrl-C; a worker forked with that handler could
    lose a SIGTERM sent as it started, and Pool.terminate then waited for ever (a whole test
    suite hung). Workers get the default, and ignore Ctrl-C (each printed a traceback: this
    process stops them); this process keeps its handlers."""
    from agreementdsl.cli import _terminated

    handler = _terminated(os.getpid())
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with parallel.forked_pool(1) as pool:
            assert pool.apply(_sigterm_is_default)
        assert signal.getsignal(signal.SIGTERM) is handler
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
