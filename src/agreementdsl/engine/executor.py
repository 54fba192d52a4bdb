"""The executor: one pass over the ledger rows, folding them into per-pool totals.

It sits behind a small interface (`Executor.execute(reader) -> Totals`) so that a columnar
executor can replace this row-at-a-time one without touching the analysis that follows.
Everything the analysis needs is kept by day, so any year and as-of date can be answered after
the pass; spends are classified as they stream past and kept in a spool on disk (flat memory).

The loop takes a fast path for rows in the plain forms a finance system exports; any row it is
not sure of goes through `LedgerReader.check`, which gives the same result or the reason for
rejecting the row, so both paths agree by construction.
"""

from __future__ import annotations

import tempfile
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any, Protocol

import numpy as np

from .approvals import Authority, Decision, FieldTuple
from .ledger import LedgerReader, Rejected, Txn

_CHUNK = 1 << 16
_TYPES = (("q", "rows"), ("q", "amounts"), ("l", "days"), ("H", "pools"), ("L", "decisions"))


@dataclass(frozen=True)
class Classified:
    row: int
    amount: int
    day: date
    pool: str
    decision: Decision
    fields: FieldTuple
    in_plan: bool


class ApprovalSpool:
    """Every classified spend as columns of machine integers, flushed to a temporary file."""

    def __init__(self, pools: list[str]) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._chunks: list[int] = []
        # Spools written by other processes, appended in ledger order: (file, chunks, id offset).
        self._segments: list[tuple[IO[bytes], list[int], int]] = []
        self.pools = pools
        self.table: list[tuple[Decision, FieldTuple, bool]] = []
        self.rows, self.amounts, self.days, self.pool_ids, self.decisions = (
            array(t) for t, _ in _TYPES
        )
        self.count = 0

    def flush(self) -> None:
        """Write the buffered columns out and empty them (in place: the executor holds them)."""
        if len(self.rows):
            size = len(self.rows)
            for buffer in (self.rows, self.amounts, self.days, self.pool_ids, self.decisions):
                buffer.tofile(self._file)
                del buffer[:]
            self._chunks.append(size)
            self.count += size

    def adopt(
        self, file: IO[bytes], chunks: list[int], table: list[tuple[Decision, FieldTuple, bool]]
    ) -> None:
        """Append a spool another process wrote (its rows follow this one's in the ledger)."""
        self._segments.append((file, chunks, len(self.table)))
        self.table.extend(table)
        self.count += sum(chunks)

    @property
    def path_and_chunks(self) -> tuple[IO[bytes], list[int]]:
        self.flush()
        return self._file, self._chunks

    def columns(self, pool: int | None = None) -> Iterator[list[array[int]]]:
        """The spool a chunk at a time: [rows, pence, day ordinals, pool indexes, decision ids];
        of one pool (its index) or of all."""
        self.flush()
        try:
            for file, chunks, offset in [(self._file, self._chunks, 0), *self._segments]:
                file.seek(0)
                for size in chunks:
                    columns = []
                    for typecode, _ in _TYPES:
                        column = array(typecode)
                        column.fromfile(file, size)
                        columns.append(column)
                    if offset:
                        columns[4] = array("L", (i + offset for i in columns[4]))
                    yield columns if pool is None else _of_pool(columns, pool)
        finally:
            # Back to the end for more writes; not when the spool was closed first (the run
            # stopped, Ctrl-C, while this generator was suspended: it is finished later).
            if not self._file.closed:
                self._file.seek(0, 2)

    def records(self, pool: int | None = None) -> Iterator[tuple[int, int, int, int, int]]:
        """(row, pence, day ordinal, pool index, decision id) in ledger order; of one pool (its
        index) or of all."""
        for columns in self.columns(pool):
            yield from zip(*columns, strict=True)

    def records_for(
        self, idents: set[int], pool: int | None = None
    ) -> Iterator[tuple[int, int, int, int, int]]:
        """`records` of the spends whose decision is one of `idents` (say, the breaches), of
        one pool (its index) or of all."""
        for record in self.records(pool):
            if record[4] in idents:
                yield record

    def __iter__(self) -> Iterator[Classified]:
        for row, amount, ordinal, pool, ident in self.records():
            decision, fields, in_plan = self.table[ident]
            yield Classified(
                row, amount, date.fromordinal(ordinal), self.pools[pool], decision, fields, in_plan
            )

    def close(self) -> None:
        self._file.close()
        for file, _, _ in self._segments:
            file.close()


def _of_pool(columns: list[array[int]], pool: int) -> list[array[int]]:
    """A chunk of spool columns (`ApprovalSpool.columns`) cut to one pool's spends."""
    keep = np.frombuffer(columns[3], dtype=np.uint16) == pool
    if keep.all():
        return columns
    out = []
    for (typecode, _), column in zip(_TYPES, columns, strict=True):
        kept = array(typecode)
        kept.frombytes(np.frombuffer(column, dtype=np.dtype(typecode))[keep].tobytes())
        out.append(kept)
    return out


@dataclass
class PoolTotals:
    """A pool's ledger, folded by element and day (element "" for rows without one)."""

    element_net: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    forecasts: list[tuple[date, int, int]] = field(default_factory=list)  # day, row, pence
    received: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))

    @property
    def net(self) -> dict[date, int]:
        """Spend less income by day, for the whole pool."""
        out: dict[date, int] = defaultdict(int)
        for (_, day), pence in self.element_net.items():
            out[day] += pence
        return out

    def element(self, element: str) -> dict[date, int]:
        return {day: v for (e, day), v in self.element_net.items() if e == element}


@dataclass
class Totals:
    """What one pass over the ledger leaves for the analysis."""

    pools: dict[str, PoolTotals]
    approvals: ApprovalSpool
    read: int = 0
    used: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    days: list[date] = field(default_factory=list)  # distinct dates of used rows
    # Each spooled spend's supplier, in the spool's order: an index into supplier_names (the
    # texts as written, each once); what the split-order check (engine/orders.py) groups by.
    suppliers: array[int] = field(default_factory=lambda: array("L"))
    supplier_names: list[str] = field(default_factory=list)
    supplier_index: dict[str, int] = field(default_factory=dict, repr=False)
    # A pool with `unapproved spend: borne by the partner`: its spends not compliant with
    # delegated authority, totalled by (pool index, day ordinal, element, partner) as
    # [pence, spends]; the partner is the row's, else its element's ("" for none). Every
    # executor fills it the same way; engine/unapproved.py charges them.
    unapproved: dict[tuple[int, int, str, str], list[int]] = field(default_factory=dict)
    # The split orders (engine/orders.py), where the executor found them itself (the SQL
    # executors, by a query); None: found from `suppliers` beside the spool.
    split_orders: Sequence[Any] | None = None  # a list, or orders.Counted
    # Where those were found by counting: reads the rows of some of them (orders.with_rows).
    split_rows: Any = None

    def supplier_id(self, text: str) -> int:
        """The index of a supplier's text in supplier_names (added when new)."""
        found = self.supplier_index.get(text)
        if found is None:
            found = self.supplier_index[text] = len(self.supplier_names)
            self.supplier_names.append(text)
        return found


class Executor(Protocol):
    def execute(self, reader: LedgerReader, progress: object = None) -> Totals: ...


@dataclass(frozen=True)
class _PoolPlan:
    """What the hot loop needs of a pool, looked up once per row."""

    index: int
    totals: PoolTotals
    elements: dict[str, str]  # element -> its partner
    requires_element: bool
    limits: list[int]
    authority: Authority
    uses: tuple[bool, bool, bool, bool]  # category, element, partner, supplier in conditions
    bears: bool  # `unapproved spend: borne by the partner`


_PLAN = {"true": True, "false": False, "": False, "yes": True, "no": False, "1": True, "0": False}
_KINDS = frozenset({"spend", "income", "contribution", "forecast"})


class RowExecutor:
    """The reference executor: plain Python, one row at a time, constant memory per row."""

    def __init__(
        self, authorities: dict[str, Authority], element_partners: dict[str, dict[str, str]]
    ) -> None:
        self.authorities = authorities
        self.element_partners = element_partners

    def _plans(self, pools: dict[str, PoolTotals]) -> dict[str, _PoolPlan]:
        plans = {}
        for i, (pid, authority) in enumerate(self.authorities.items()):
            used = authority.fields_used()
            uses = ("category" in used, "element" in used, "partner" in used, "supplier" in used)
            elements = self.element_partners[pid]
            plans[pid] = _PoolPlan(
                i,
                pools[pid],
                elements,
                bool(elements),
                authority.limits,
                authority,
                uses,
                authority.bears_unapproved,
            )
        return plans

    def execute(self, reader: LedgerReader, progress: object = None) -> Totals:
        pools = {pid: PoolTotals() for pid in self.authorities}
        spool = ApprovalSpool(list(self.authorities))
        totals = Totals(pools, spool)
        plans = self._plans(pools)
        dates: dict[str, date | None] = {}
        ordinals: dict[date, int] = {}
        decisions: dict[tuple[object, ...], int] = {}
        partners = reader.partners
        rejected = totals.rejected
        tick = getattr(progress, "update", None)
        read = 0
        rows_out, amounts_out, days_out = spool.rows, spool.amounts, spool.days
        pools_out, decisions_out = spool.pool_ids, spool.decisions
        suppliers_out, supplier_ids = totals.suppliers, totals.supplier_index
        unapproved = totals.unapproved
        table = spool.table
        for item in reader:
            read += 1
            if tick is not None and not read & 0xFFFF:
                tick(0x10000)
            if type(item) is Rejected:
                rejected.append(item)
                continue
            row, values = item  # type: ignore[misc]
            (
                day_s,
                pool_s,
                kind,
                amount_s,
                element,
                partner,
                approvers,
                plan_s,
                supplier,
                category,
            ) = values
            day = dates.get(day_s)
            if day is None:
                day = dates[day_s] = reader.parse_date(day_s)
            plan = plans.get(pool_s)
            in_plan = _PLAN.get(plan_s)
            whole, dot, frac = amount_s.partition(".")
            if (
                day is None
                or plan is None
                or kind not in _KINDS
                or in_plan is None
                or not (
                    whole.isdigit()
                    and whole.isascii()
                    and len(whole) < 13  # under £1 trillion (L016)
                    and (not dot or (len(frac) == 2 and frac.isdigit() and frac.isascii()))
                )
                or (element and element not in plan.elements)
                or (not element and kind == "spend" and plan.requires_element)
                or (partner and partner not in partners)
            ):
                checked = reader.check(row, *values)
                if isinstance(checked, Rejected):
                    rejected.append(checked)
                    continue
                self._fold_checked(checked, plans[checked.pool], spool, ordinals, totals)
                continue
            amount = int(whole) * 100 + (int(frac) if dot else 0)
            if kind == "spend":
                plan.totals.element_net[(element, day)] += amount
                if amount > 0:
                    uses = plan.uses
                    key = (
                        plan.index,
                        bisect_left(plan.limits, amount),
                        in_plan,
                        category if uses[0] else None,
                        element if uses[1] else None,
                        (partner or plan.elements.get(element, "")) if uses[2] else None,
                        supplier if uses[3] else None,
                        approvers,  # the raw text: parsed only when the decision is new
                    )
                    ident = decisions.get(key)
                    if ident is None:
                        approved = tuple(a.strip() for a in approvers.split(";") if a.strip())
                        ident = decisions[key] = self._decide(
                            plan,
                            amount,
                            element,
                            partner,
                            approved,
                            in_plan,
                            supplier,
                            category,
                            spool,
                        )
                    ordinal = ordinals.get(day)
                    if ordinal is None:
                        ordinal = ordinals[day] = day.toordinal()
                    rows_out.append(row)
                    amounts_out.append(amount)
                    days_out.append(ordinal)
                    pools_out.append(plan.index)
                    decisions_out.append(ident)
                    sid = supplier_ids.get(supplier)
                    if sid is None:
                        sid = totals.supplier_id(supplier)
                    suppliers_out.append(sid)
                    if plan.bears and not table[ident][0].compliant:
                        who = partner or plan.elements.get(element, "")
                        bear(unapproved, (plan.index, ordinal, element, who), amount)
                    if len(rows_out) >= _CHUNK:
                        spool.flush()
            elif kind == "income":
                plan.totals.element_net[(element, day)] -= amount
            elif kind == "forecast":
                plan.totals.forecasts.append((day, row, amount))
            else:
                plan.totals.received[(partner, day)] += amount
        spool.flush()
        totals.read = read
        totals.used = read - len(rejected)
        totals.days = sorted(self._used_days(pools, ordinals))
        return totals

    @staticmethod
    def _used_days(pools: dict[str, PoolTotals], ordinals: dict[date, int]) -> set[date]:
        days: set[date] = set(ordinals)
        for totals in pools.values():
            days.update(day for _, day in totals.element_net)
            days.update(f[0] for f in totals.forecasts)
            days.update(day for _, day in totals.received)
        return days

    def _fold_checked(
        self,
        txn: Txn,
        plan: _PoolPlan,
        spool: ApprovalSpool,
        ordinals: dict[date, int],
        totals: Totals,
    ) -> None:
        """A row that took the careful path, now known good (rare: no decision caching)."""
        if txn.kind in ("spend", "income"):
            signed = txn.amount if txn.kind == "spend" else -txn.amount
            plan.totals.element_net[(txn.element, txn.day)] += signed
            if txn.kind == "spend" and txn.amount > 0:
                ident = self._decide(
                    plan,
                    txn.amount,
                    txn.element,
                    txn.partner,
                    txn.approved_by,
                    txn.in_plan,
                    txn.supplier,
                    txn.category,
                    spool,
                )
                ordinal = ordinals.setdefault(txn.day, txn.day.toordinal())
                spool.rows.append(txn.row)
                spool.amounts.append(txn.amount)
                spool.days.append(ordinal)
                spool.pool_ids.append(plan.index)
                spool.decisions.append(ident)
                totals.suppliers.append(totals.supplier_id(txn.supplier))
                if plan.bears and not spool.table[ident][0].compliant:
                    who = txn.partner or plan.elements.get(txn.element, "")
                    bear(totals.unapproved, (plan.index, ordinal, txn.element, who), txn.amount)
        elif txn.kind == "forecast":
            plan.totals.forecasts.append((txn.day, txn.row, txn.amount))
        else:
            plan.totals.received[(txn.partner, txn.day)] += txn.amount

    @staticmethod
    def _decide(
        plan: _PoolPlan,
        amount: int,
        element: str,
        partner: str,
        approved: tuple[str, ...],
        in_plan: bool,
        supplier: str,
        category: str,
        spool: ApprovalSpool,
    ) -> int:
        """Classify a spend not seen before; its decision's id in the spool's table."""
        who = partner or plan.elements.get(element, "")
        fields: FieldTuple = (
            ("category", category),
            ("element", element),
            ("kind", "spend"),
            ("partner", who),
            ("supplier", supplier),
        )
        decision = plan.authority.decide(amount, in_plan, fields, approved)
        spool.table.append((decision, fields, in_plan))
        return len(spool.table) - 1


def bear(
    unapproved: dict[tuple[int, int, str, str], list[int]],
    key: tuple[int, int, str, str],
    pence: int,
    spends: int = 1,
) -> None:
    """Add unapproved spend to `Totals.unapproved` (pool index, day ordinal, element, partner)."""
    found = unapproved.get(key)
    if found is None:
        unapproved[key] = [pence, spends]
    else:
        found[0] += pence
        found[1] += spends
