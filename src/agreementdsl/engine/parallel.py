"""Two-process execution of large CSV ledgers: each worker folds half the file.

The ledger is cut at a line break near its middle; each half is read by a worker forked from
this process (so the compiled rules need no pickling) with the same RowExecutor, and the
halves' totals are merged in ledger order. Only files whose rows cannot contain line breaks
(no `"` anywhere) are cut; any other ledger is read by one process, as is any small one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
from array import array
from collections import defaultdict
from dataclasses import replace
from typing import Any

from .approvals import Decision
from .executor import ApprovalSpool, PoolTotals, RowExecutor, Totals, bear
from .ledger import LedgerReader, Rejected

MIN_BYTES = 64 << 20  # below this a second process costs more than it saves (measured)
_BLOCK = 1 << 22
PROCESSES = "AGREEMENTDSL_PROCESSES"  # "1" or "2" overrides the choice (docs/performance.md)

_STATE: dict[str, Any] = {}  # set before forking; read by the workers


def free_cores() -> float:
    """The cores this process may run on less the one-minute load average (which counts this
    user's recent runs too); none when it may run on only one core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(0.0, cores - load) if cores >= 2 else 0.0


def worth_two(size: int, min_bytes: int) -> bool:
    """Whether a second process pays, for a ledger of `size` bytes.

    Measured (docs/performance.md): below about 64 MB the fork, the spool copy and the merge
    cost more than the second process saves. Above it, a second process is taken only when a
    core is free (the one-minute load average leaves one of the cores this process may use
    idle): on a busy machine it would only take a share of CPU from others. The environment
    variable AGREEMENTDSL_PROCESSES=1 or 2 overrides the choice.
    """
    forced = os.environ.get(PROCESSES, "").strip()
    if forced in ("1", "2"):
        return forced == "2"
    if (os.cpu_count() or 1) < 2 or size < min_bytes:
        return False
    return free_cores() >= 1.0


def _plain_csv_cut(reader: LedgerReader) -> tuple[int, int, list[str], int] | None:
    """(header end, cut, header, lines before the cut), or None when the file must not be cut.

    Lines are counted as the CSV reader counts them: `\\r\\n`, a bare `\\r` and `\\n` each end
    one line, so the second half's row numbers are physical lines whatever the line endings.
    """
    path = reader.path
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return None
    size = path.stat().st_size
    with path.open("rb") as f:
        first = f.read(_BLOCK)
        head_end = _line_end(first)
        head = first[:head_end]
        head_text = head.removeprefix(b"\xef\xbb\xbf")
        if head_end is None or head_text.lstrip().startswith(b"{") or b'"' in head:
            return None
        f.seek(0)
        while block := f.read(_BLOCK):
            if b'"' in block:
                return None
        f.seek(max(size // 2, head_end))
        f.readline()
        cut = f.tell()
        if cut >= size:
            return None
        f.seek(head_end)
        lines, left, after_cr = 0, cut - head_end, False
        while left > 0:
            block = f.read(min(_BLOCK, left))
            lines += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            lines -= after_cr and block.startswith(b"\n")  # a CRLF split between two blocks
            after_cr = block.endswith(b"\r")
            left -= len(block)
    try:
        header = head_text.decode("utf-8").rstrip("\r\n").split(",")
    except UnicodeDecodeError:
        return None
    return head_end, cut, header, lines


def _line_end(data: bytes) -> int | None:
    """Where the first line of `data` ends, its line break included (None: no break in it)."""
    ends = [i for i in (data.find(b"\r"), data.find(b"\n")) if i >= 0]
    if not ends:
        return None
    end = min(ends)
    return end + 2 if data[end : end + 2] == b"\r\n" else end + 1


def slices(reader: LedgerReader) -> list[tuple[int, int, list[str], int]] | None:
    """The two halves of a plain CSV ledger as `LedgerReader.part`s, or None (read it whole)."""
    cut = _plain_csv_cut(reader)
    if cut is None:
        return None
    head_end, middle, header, lines_before = cut
    return [
        (head_end, middle, header, 2),
        (middle, reader.path.stat().st_size, header, 2 + lines_before),
    ]


def _work(part: tuple[int, int, list[str], int]) -> dict[str, Any]:
    """In a worker: fold one slice, leave the approvals in a file, return the rest."""
    executor: RowExecutor = _STATE["executor"]
    base: LedgerReader = _STATE["reader"]
    reader = replace(base, part=part, warnings=[], _dates={})
    counter = _STATE.get("counter")
    totals = executor.execute(reader, _Counter(counter) if counter is not None else None)
    file, chunks = totals.approvals.path_and_chunks
    file.flush()
    with tempfile.NamedTemporaryFile(delete=False, prefix="agreementdsl-spool-") as keep:
        file.seek(0)
        while block := file.read(_BLOCK):
            keep.write(block)
    index = {pid: i for i, pid in enumerate(totals.approvals.pools)}
    table = [
        (
            index[d.rule.pool] if d.rule else None,
            d.rule.number if d.rule else None,
            d.required,
            d.recorded,
            d.compliant,
            d.unknown,
            f,
            p,
        )
        for d, f, p in totals.approvals.table
    ]
    totals.approvals.close()
    return {
        "pools": {
            pid: (dict(t.element_net), t.forecasts, dict(t.received))
            for pid, t in totals.pools.items()
        },
        "read": totals.read,
        "rejected": totals.rejected,
        "days": totals.days,
        "spool": keep.name,
        "chunks": chunks,
        "table": table,
        "suppliers": totals.suppliers.tobytes(),
        "supplier_names": totals.supplier_names,
        "unapproved": totals.unapproved,
    }


class _Counter:
    """A worker's progress: the rows it has read, added to a counter in shared memory that the
    parent process reports to the progress bar."""

    def __init__(self, shared: Any) -> None:
        self.shared = shared

    def update(self, rows: int) -> None:
        with self.shared.get_lock():
            self.shared.value += rows


def _decision(executor: RowExecutor, pools: list[str], entry: tuple[Any, ...]) -> Decision:
    pool_index, number, required, recorded, compliant, unknown, _, _ = entry
    rule = None
    if pool_index is not None and number is not None:
        rule = executor.authorities[pools[pool_index]].rules[number - 1]
    return Decision(rule, required, recorded, compliant, unknown)


def forked_pool(workers: int) -> Any:
    """A pool of forked workers that end on SIGTERM and ignore Ctrl-C.

    The command line turns SIGTERM into Ctrl-C (cli.py), and a fork inherits that Python
    handler: a SIGTERM reaching a worker as it starts up is then lost (Python clears signals
    it has not yet handled after a fork), and `Pool.terminate` waited for that worker for ever
    (seen once in the test suite). Ctrl-C reaches every process of the terminal's group: each
    worker printed its own KeyboardInterrupt traceback before this process said "Aborted!".
    So the workers are forked with SIGTERM at its default and SIGINT ignored (this process
    stops them), and this process's handlers are then put back."""
    context = multiprocessing.get_context("fork")
    try:
        previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except ValueError:  # not the main thread, where no handler can have been set either
        return context.Pool(workers)
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return context.Pool(workers)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, interrupt)


class ParallelExecutor:
    """Folds a large plain CSV ledger in two processes; anything else in one (RowExecutor)."""

    def __init__(
        self, executor: RowExecutor, workers: int = 2, min_bytes: int | None = None
    ) -> None:
        self.executor = executor
        self.workers = workers
        self.min_bytes = MIN_BYTES if min_bytes is None else min_bytes

    def execute(self, reader: LedgerReader, progress: object = None) -> Totals:
        reader.sniff()  # not text (L018) stops the run before any work; the encoding is shared
        if (
            reader.part is not None
            or not reader.path.is_file()
            or not worth_two(reader.path.stat().st_size, self.min_bytes)
        ):
            return self.executor.execute(reader, progress)
        parts = slices(reader)
        if parts is None or "fork" not in multiprocessing.get_all_start_methods():
            return self.executor.execute(reader, progress)
        reader._columns(parts[0][2])  # a bad header stops the run before any work is forked
        tick = getattr(progress, "update", None)
        # the workers' rows read, for the progress bar (it stayed at 0% till the end)
        counter = multiprocessing.get_context("fork").Value("q", 0) if tick else None
        _STATE.update(executor=self.executor, reader=reader, counter=counter)
        try:
            with forked_pool(self.workers) as pool:
                pending = pool.map_async(_work, parts)
                reported = 0
                while not pending.ready():
                    pending.wait(0.25)
                    if tick is not None and counter is not None:
                        done = counter.value
                        if done > reported:
                            tick(done - reported)
                            reported = done
                halves = pending.get()
                if tick is not None:  # the rows read since each worker's last 65,536
                    tick(max(0, sum(h["read"] for h in halves) - reported))
        finally:
            _STATE.clear()
        return self._merge(halves)

    def _merge(self, halves: list[dict[str, Any]]) -> Totals:
        import numpy as np  # here, not at the top: numpy would slow every command's start-up

        names = list(self.executor.authorities)
        pools = {pid: PoolTotals() for pid in names}
        spool = ApprovalSpool(names)
        rejected: list[Rejected] = []
        days: set[Any] = set()
        suppliers: array[int] = array("L")
        supplier_names: list[str] = []  # each half's names in turn (a name may repeat)
        unapproved: dict[tuple[int, int, str, str], list[int]] = {}
        read = 0
        for half in halves:
            for pid, (net, forecasts, received) in half["pools"].items():
                target = pools[pid]
                for key, pence in net.items():
                    target.element_net[key] += pence
                target.forecasts.extend(forecasts)
                for key, pence in received.items():
                    target.received[key] += pence
            read += half["read"]
            rejected.extend(half["rejected"])
            days.update(half["days"])
            table = [(_decision(self.executor, names, e), e[6], e[7]) for e in half["table"]]
            file = open(half["spool"], "rb")  # noqa: SIM115 (the spool closes it)
            os.unlink(half["spool"])  # the open file lives on until the spool closes it
            spool.adopt(file, half["chunks"], table)
            kind = np.dtype(f"u{suppliers.itemsize}")
            ids = np.frombuffer(half["suppliers"], dtype=kind) + len(supplier_names)
            suppliers.frombytes(ids.astype(kind).tobytes())
            supplier_names.extend(half["supplier_names"])
            for key, (pence, spends) in half["unapproved"].items():
                bear(unapproved, key, pence, spends)
        totals = Totals(pools, spool, read, read - len(rejected), rejected, sorted(days))
        totals.suppliers, totals.supplier_names = suppliers, supplier_names
        totals.unapproved = unapproved
        for t in pools.values():
            t.element_net = defaultdict(int, t.element_net)
        return totals
