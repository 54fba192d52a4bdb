"""The executor: one pass over the ledger rows, folding them into per-pool totals.

It sits behind a small interface (`Executor.execute(rows) -> Totals`) so that a columnar
executor can replace this row-at-a-time one without touching the analysis that follows.
Everything the analysis needs is kept by day, so any year and as-of date can be answered after
the pass; spends are classified as they stream past and kept in a compact spool on disk.
"""

from __future__ import annotations

import struct
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Protocol

from .approvals import Authority, Decision
from .ledger import Rejected, Txn

_RECORD = struct.Struct("<qqiiI")  # row, amount (pence), day ordinal, pool index, decision id


@dataclass(frozen=True)
class Classified:
    row: int
    amount: int
    day: date
    pool: str
    decision: Decision
    fields: tuple[tuple[str, str], ...]
    in_plan: bool


class ApprovalSpool:
    """Every classified spend, kept as fixed-size records in a temporary file (flat memory)."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._buffer = bytearray()
        self._decisions: dict[tuple[object, ...], int] = {}
        self._table: list[tuple[Decision, tuple[tuple[str, str], ...], bool]] = []
        self.pools: list[str] = []
        self.count = 0

    def add(
        self, txn: Txn, pool_index: int, decision: Decision, fields: tuple[tuple[str, str], ...]
    ) -> None:
        key = (id(decision), fields, txn.in_plan)
        ident = self._decisions.get(key)
        if ident is None:
            ident = len(self._table)
            self._decisions[key] = ident
            self._table.append((decision, fields, txn.in_plan))
        self._buffer += _RECORD.pack(txn.row, txn.amount, txn.day.toordinal(), pool_index, ident)
        self.count += 1
        if len(self._buffer) >= 1 << 16:
            self._file.write(self._buffer)
            self._buffer.clear()

    def __iter__(self) -> Iterator[Classified]:
        self._file.write(self._buffer)
        self._buffer.clear()
        self._file.flush()
        self._file.seek(0)
        while chunk := self._file.read(_RECORD.size * 4096):
            for row, amount, ordinal, pool_index, ident in _RECORD.iter_unpack(chunk):
                decision, fields, in_plan = self._table[ident]
                yield Classified(
                    row,
                    amount,
                    date.fromordinal(ordinal),
                    self.pools[pool_index],
                    decision,
                    fields,
                    in_plan,
                )
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


@dataclass
class PoolTotals:
    """A pool's ledger, folded by day."""

    net: dict[date, int] = field(default_factory=lambda: defaultdict(int))  # spend - income
    element_net: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    forecasts: list[tuple[date, int, int]] = field(default_factory=list)  # day, row, pence
    received: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class Totals:
    """What one pass over the ledger leaves for the analysis."""

    pools: dict[str, PoolTotals]
    approvals: ApprovalSpool
    read: int = 0
    used: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    days: list[date] = field(default_factory=list)  # distinct dates of used rows


class Executor(Protocol):
    def execute(self, rows: Iterable[Txn | Rejected]) -> Totals: ...


class RowExecutor:
    """The reference executor: plain Python, one row at a time, constant memory per row."""

    def __init__(
        self, authorities: dict[str, Authority], element_partners: dict[str, dict[str, str]]
    ) -> None:
        self.authorities = authorities
        self.element_partners = element_partners

    def execute(self, rows: Iterable[Txn | Rejected], progress: object = None) -> Totals:
        pools = {pid: PoolTotals() for pid in self.authorities}
        spool = ApprovalSpool()
        spool.pools = list(self.authorities)
        pool_index = {pid: i for i, pid in enumerate(spool.pools)}
        totals = Totals(pools, spool)
        rejected = totals.rejected
        days: set[date] = set()
        read = 0
        tick = getattr(progress, "update", None)
        for item in rows:
            read += 1
            if tick is not None and read % 65536 == 0:
                tick(65536)
            if type(item) is Rejected:
                rejected.append(item)
                continue
            txn: Txn = item  # type: ignore[assignment]
            days.add(txn.day)
            pool = pools[txn.pool]
            kind = txn.kind
            if kind == "spend" or kind == "income":
                amount = txn.amount if kind == "spend" else -txn.amount
                pool.net[txn.day] += amount
                if txn.element:
                    pool.element_net[(txn.element, txn.day)] += amount
                if kind == "spend" and txn.amount > 0:
                    self._classify(txn, spool, pool_index[txn.pool])
            elif kind == "forecast":
                pool.forecasts.append((txn.day, txn.row, txn.amount))
            else:
                pool.received[(txn.partner, txn.day)] += txn.amount
        totals.read = read
        totals.used = read - len(rejected)
        totals.days = sorted(days)
        return totals

    def _classify(self, txn: Txn, spool: ApprovalSpool, pool_index: int) -> None:
        partner = txn.partner or self.element_partners[txn.pool].get(txn.element, "")
        fields = (
            ("category", txn.category),
            ("element", txn.element),
            ("kind", "spend"),
            ("partner", partner),
            ("supplier", txn.supplier),
        )
        authority = self.authorities[txn.pool]
        decision = authority.decide(txn.amount, txn.in_plan, fields, txn.approved_by)
        spool.add(txn, pool_index, decision, fields)
