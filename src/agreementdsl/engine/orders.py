"""Split orders: spends to one supplier on one day that together pass a limit each stays under.

A spending limit applies to the whole commitment. Several spends of one pool to one supplier on
one day, each within a limited rule (`up to £X`), whose total is more than the highest limit
among the rules they fell under, look like one order split to stay within an officer's authority
(docs/running.md, R020). Suppliers are matched as written, ignoring the case of the letters A to
Z and spaces at the ends or repeated inside; a spend with no supplier is never grouped. A ledger
has no order reference that `run` reads, so the grouping is by supplier and day only.

The reference executor leaves each spooled spend's supplier beside the spool
(`Totals.suppliers`) and `split_orders` groups them here; PostgreSQL and Spark run
`SPLIT_KEYED` and `SPLIT_ROWS`, which group by the same key, and `from_rows` builds the same
groups from their rows; DuckDB counts them in its pass (engine/sql/duck.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from itertools import repeat
from typing import Any, overload

from ..money import format_money, format_pounds
from .approvals import Authority, Rule
from .executor import Totals

CODE = "R020"


@dataclass(frozen=True, slots=True)
class SplitOrder:
    """One group of spends that together pass the limit each stays under."""

    pool: str
    supplier: str  # as first written in the ledger
    day: date
    rows: array[int]  # in ledger order
    amounts: array[int]  # pence, in row order
    limit: int  # pence: the highest limit of the rules the spends fell under
    rule: int  # that rule's number in the pool's spending clause
    source: str  # where that rule is written, file:line
    # How many spends, their total and the first row: from `rows` and `amounts` when those are
    # given; an executor that found the group by counting (DuckDB) gives them instead and
    # leaves `rows` and `amounts` empty until `with_rows` reads them (`loaded` is false).
    spends: int = 0
    pence: int = 0
    first_row: int = 0
    key: str = field(default="", compare=False)  # the supplier key (for reading the rows)

    def __post_init__(self) -> None:
        if len(self.rows):
            object.__setattr__(self, "spends", len(self.rows))
            object.__setattr__(self, "pence", sum(self.amounts))
            object.__setattr__(self, "first_row", self.rows[0])

    @classmethod
    def counted(
        cls,
        pool: str,
        supplier: str,
        day: date,
        limit: int,
        rule: int,
        source: str,
        spends: int,
        pence: int,
        first_row: int,
        key: str,
    ) -> SplitOrder:
        """A group found by counting, its rows not read yet. Its fields are set through their
        slots' own setters, not the frozen dataclass's `__init__` (each field through
        `object.__setattr__`): a ledger may hold a great many split orders (134,400 in the
        10M-row bench: 0.50 s through `__init__`, 0.32 s so)."""
        order = object.__new__(cls)
        values = (pool, supplier, day, _NONE, _NONE, limit, rule, source, spends, pence,
                  first_row, key)  # fmt: skip
        for setter, value in zip(_SETTERS, values, strict=True):
            setter(order, value)
        return order

    @property
    def loaded(self) -> bool:
        return len(self.rows) == self.spends

    @property
    def total(self) -> int:
        return self.pence

    def line(self) -> str:
        """The group in one line of text."""
        assert self.loaded, "read the rows first (with_rows)"
        rows = ", ".join(str(r) for r in self.rows)
        return (
            f"{self.day} {self.supplier}: rows {rows} total {format_money(self.total)}, more "
            f"than the {format_money(self.limit)} limit of rule {self.rule} ({self.source})"
        )

    def to_json(self) -> dict[str, Any]:
        assert self.loaded, "read the rows first (with_rows)"
        return {
            "code": CODE,
            "supplier": self.supplier,
            "date": self.day.isoformat(),
            "rows": list(self.rows),
            # spends above zero (format_pounds's text; its call per amount was half the time
            # of the JSON's split orders with 100,000s of rows)
            "amounts": [f"{w}.{p:02d}" for w, p in map(divmod, self.amounts, repeat(100))],
            "total": format_pounds(self.total),
            "limit": format_pounds(self.limit),
            "rule": self.rule,
            "source": self.source,
        }


class Counted(Sequence[SplitOrder]):
    """Split orders found by counting (DuckDB's pass), held as columns in their order (by
    pool, day and first row) and each made a SplitOrder only when asked for: a ledger may
    hold a great many (the 10M-row bench has 134,400; made all at once, half a second of its
    run, while the text shows the first 20). `make(i)` makes the one in row `i` of the
    columns; `pools` and `days` (numpy arrays: pool index, day ordinal) pick a pool's year."""

    def __init__(
        self,
        make: Callable[[int], SplitOrder],
        pools: Any,
        days: Any,
        names: list[str],
        at: Any = None,
        first: Sequence[SplitOrder] = (),
    ) -> None:
        import numpy as np  # here: numpy would slow every command's start-up

        self._make, self._pools, self._days, self._names = make, pools, days, names
        self._at = np.arange(len(pools)) if at is None else at
        self._first = list(first)  # the first few, as read with their rows (`with_first`)

    def __len__(self) -> int:
        return len(self._at)

    @overload
    def __getitem__(self, i: int) -> SplitOrder: ...

    @overload
    def __getitem__(self, i: slice) -> list[SplitOrder]: ...

    def __getitem__(self, i: int | slice) -> SplitOrder | list[SplitOrder]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < len(self._first):
            return self._first[i]
        return self._make(int(self._at[i]))

    def __iter__(self) -> Iterator[SplitOrder]:
        yield from self._first
        for row in self._at[len(self._first) :].tolist():
            yield self._make(row)

    def select(self, pool: str, first: date, last: date) -> Counted:
        """The pool's split orders dated `first` to `last`, in the same order (those of the
        first few given by `with_first` that are among them, as given)."""
        at = self._at
        if pool not in self._names:
            return Counted(self._make, self._pools, self._days, self._names, at[:0])
        p = self._pools[at]
        day = self._days[at]
        keep = (
            (p == self._names.index(pool)) & (day >= first.toordinal()) & (day <= last.toordinal())
        )
        # the given ones kept come before every other kept one: still the first
        given = [
            o for o, k in zip(self._first, keep[: len(self._first)].tolist(), strict=True) if k
        ]
        return Counted(self._make, self._pools, self._days, self._names, at[keep], given)

    def with_first(self, orders: Sequence[SplitOrder]) -> Counted:
        """The same, its first `len(orders)` given as these (their rows read)."""
        if len(orders) > len(self):
            raise ValueError(f"{len(orders)} orders given for the first of {len(self)}")
        return Counted(self._make, self._pools, self._days, self._names, self._at, orders)


def select(found: Sequence[SplitOrder], pool: str, first: date, last: date) -> Sequence[SplitOrder]:
    """The pool's split orders dated `first` to `last`."""
    if isinstance(found, Counted):
        return found.select(pool, first, last)
    return [o for o in found if o.pool == pool and first <= o.day <= last]


def with_first(found: Sequence[SplitOrder], orders: Sequence[SplitOrder]) -> Sequence[SplitOrder]:
    """`found` with its first `len(orders)` given as `orders` (the same, their rows read)."""
    if isinstance(found, Counted):
        return found.with_first(orders)
    return [*orders, *found[len(orders) :]]


_NONE: array[int] = array("q")  # the rows of a counted split order (never written to)
_SETTERS = [getattr(SplitOrder, f.name).__set__ for f in fields(SplitOrder)]  # in field order


def warning(pool: str, found: Sequence[SplitOrder]) -> str:
    """The pool's one warning for its split orders of the year (each is listed apart)."""
    first = found[0]
    more = f", the first on {first.day}" if len(found) > 1 else f" on {first.day}"
    return (
        f"{CODE} pool `{pool}`: {len(found):,} possible split order{'s' if len(found) > 1 else ''}"
        f"{more}: spends to one supplier on one day that together pass the limit each stays "
        "within (a limit applies to the whole commitment; see split orders)"
    )


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FOLD = str.maketrans(_UPPER, _UPPER.lower())


def supplier_name(text: str) -> str:
    """A supplier as written, without spaces at the ends or repeated inside."""
    return " ".join(part for part in text.split(" ") if part)


def supplier_key(text: str) -> str:
    """What suppliers are matched by: the name without spaces at the ends or repeated inside,
    and the letters A to Z in lower case (only those, as every SQL engine would fold them alike;
    PostgreSQL and Spark are given the keys this makes, `supplier_keys`)."""
    return supplier_name(text).translate(_FOLD)


def limited_rules(authorities: dict[str, Authority]) -> dict[tuple[int, int], tuple[int, Rule]]:
    """(pool index, rule number) -> (rank, rule) of every rule with a limit: ranked within its
    pool by (limit, number) from 1, so the highest rank in a group is the rule whose limit the
    group is measured against (the higher limit, then the later rule)."""
    out: dict[tuple[int, int], tuple[int, Rule]] = {}
    for index, authority in enumerate(authorities.values()):
        limited = sorted((r for r in authority.rules if r.limit is not None), key=_rank)
        for rank, rule in enumerate(limited, start=1):
            out[(index, rule.number)] = (rank, rule)
    return out


def from_rows(
    batches: Iterable[Sequence[Sequence[Any]]], pools: list[str], authorities: dict[str, Authority]
) -> list[SplitOrder]:
    """The split orders from the spends a SQL executor found in them (`SPLIT_ROWS`): batches of
    rows (pool_index, skey, day, line, pence, rank, supplier; the supplier given on each group's
    first row), ordered by the first four. Each batch is made into integer columns as it comes
    (the supplier key and the day as numbers, the supplier only where given): the rows of every
    split order can be many (493,113 in the 1M-row bench ledger: 200 MB as one list of tuples,
    and still 130 MB with a Python object for each row's key and day)."""
    import numpy as np  # here, not at the top: numpy would slow every command's start-up

    key_ids: dict[str, int] = {}
    day_of: dict[date, int] = {}
    parts: list[list[Any]] = [[] for _ in range(6)]
    named: dict[int, str] = {}  # row number -> the supplier given there
    size = 0
    for batch in batches:
        if not batch:
            continue
        pool_v, key_v, day_v, line_v, pence_v, rank_v, supplier_v = zip(*batch, strict=True)
        count = len(batch)
        keys = [key_ids.setdefault(k, len(key_ids)) for k in key_v]
        days = [day_of.get(d) or day_of.setdefault(d, d.toordinal()) for d in day_v]
        for column, values in zip(
            parts, (pool_v, keys, days, line_v, pence_v, rank_v), strict=True
        ):
            column.append(np.fromiter(values, dtype=np.int64, count=count))
        named.update((size + i, v) for i, v in enumerate(supplier_v) if v is not None)
        size += count
    if not size:
        return []
    pool_c, key_c, day_c, line_c, pence_c, rank_c = (np.concatenate(c) for c in parts)
    ranked = {(i, rank): rule for (i, _), (rank, rule) in limited_rules(authorities).items()}
    change = np.ones(size, dtype=bool)
    change[1:] = (pool_c[1:] != pool_c[:-1]) | (key_c[1:] != key_c[:-1]) | (day_c[1:] != day_c[:-1])
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, size))
    tops = np.maximum.reduceat(rank_c, starts)
    out = []
    names: dict[str, str] = {}
    line_bytes, pence_bytes = line_c.tobytes(), pence_c.tobytes()
    for first, count, top in zip(starts.tolist(), counts.tolist(), tops.tolist(), strict=True):
        pool = int(pool_c[first])
        rule = ranked[(pool, top)]
        assert rule.limit is not None
        part = slice(first * 8, (first + count) * 8)
        supplier = named[first]
        out.append(
            SplitOrder(
                pools[pool],
                names.get(supplier) or names.setdefault(supplier, supplier_name(str(supplier))),
                date.fromordinal(int(day_c[first])),
                array("q", line_bytes[part]),
                array("q", pence_bytes[part]),
                rule.limit,
                rule.number,
                f"{rule.file}:{rule.line}",
            )
        )
    return sorted(out, key=lambda o: (pools.index(o.pool), o.day, o.rows[0]))


# The split orders, the same on PostgreSQL and Spark, in two statements over a relation
# `spend_rows` (line, pence, day, pool_index, rule, supplier: every spend above zero, with the
# number of the spending rule it fell under), a table `rule_limits` (pool_index, rule, rank,
# limit_pence: see `limited_rules`) and a table `supplier_keys` (supplier, skey: each distinct
# supplier of a spend under a limited rule (SUPPLIERS) whose `supplier_key` is not empty, made
# in Python by `supplier_keys`, so every engine matches suppliers exactly as the reference
# does; a regular expression per spend in SQL was a third of PostgreSQL's run at 1M rows).
# SPLIT_KEYED, which each engine keeps as a table (so the ledger is read once for it), is the
# spends under a limited rule that name a supplier, with their supplier key; SPLIT_ROWS, over
# it, the spends of each pool, supplier key and day where there are two or more and their
# total passes the highest limit among them.
SUPPLIERS = """
SELECT DISTINCT s.supplier
FROM spend_rows AS s
JOIN rule_limits AS r ON s.pool_index = r.pool_index AND s.rule = r.rule
WHERE s.supplier <> ''
"""
SPLIT_KEYED = """
SELECT s.line, s.pence, s.day, s.pool_index, s.supplier, k.skey, r.rank, r.limit_pence
FROM spend_rows AS s
JOIN rule_limits AS r ON s.pool_index = r.pool_index AND s.rule = r.rule
JOIN supplier_keys AS k ON s.supplier = k.supplier
"""
SPLIT_ROWS = """
WITH flagged AS (
  SELECT pool_index, skey, day, MIN(line) AS first_line FROM split_keyed
  GROUP BY pool_index, skey, day
  HAVING COUNT(*) >= 2 AND SUM(CAST(pence AS DECIMAL(38, 0))) > MAX(limit_pence)
)
SELECT k.pool_index, k.skey, k.day, k.line, k.pence, k.rank,
       CASE WHEN k.line = f.first_line THEN k.supplier END AS supplier
FROM split_keyed AS k
JOIN flagged AS f ON k.pool_index = f.pool_index AND k.skey = f.skey AND k.day = f.day
ORDER BY k.pool_index, k.skey, k.day, k.line
"""


def supplier_keys(suppliers: Sequence[Sequence[Any]]) -> list[tuple[str, str]]:
    """The rows of `supplier_keys` from the rows of SUPPLIERS (never NULL: `<> ''`)."""
    keyed = ((supplier, supplier_key(supplier)) for (supplier,) in suppliers)
    return [(supplier, key) for supplier, key in keyed if key]


def split_sql(dialect: str) -> tuple[str, str]:
    """(SPLIT_KEYED, SPLIT_ROWS) for one engine, each generated from one sqlglot tree."""
    import sqlglot

    return tuple(  # type: ignore[return-value]
        sqlglot.parse_one(text, read="postgres").sql(dialect) for text in (SPLIT_KEYED, SPLIT_ROWS)
    )


def rule_limit_rows(authorities: dict[str, Authority]) -> list[tuple[int, int, int, int]]:
    """The rows of `rule_limits`: (pool index, rule number, rank, limit in pence)."""
    return [
        (index, number, rank, rule.limit or 0)
        for (index, number), (rank, rule) in limited_rules(authorities).items()
    ]


def with_rows(totals: Totals, orders: Sequence[SplitOrder]) -> list[SplitOrder]:
    """`orders` with their rows and amounts read (one read of the ledger for all that lack
    them, by the executor that found them)."""
    orders = list(orders)  # each made once (orders.Counted makes them when asked for)
    wanted = [o for o in orders if not o.loaded]
    if not wanted:
        return orders
    if totals.split_rows is None:
        raise AssertionError("the executor left split orders without a way to read their rows")
    found = {(o.pool, o.day, o.first_row): o for o in totals.split_rows(wanted)}
    return [o if o.loaded else found[(o.pool, o.day, o.first_row)] for o in orders]


def iter_with_rows(totals: Totals, orders: Sequence[SplitOrder]) -> Iterator[SplitOrder]:
    """`orders` with their rows, one at a time (the JSON writes each as it comes, so a ledger
    with very many split orders is never held whole)."""
    if all(o.loaded for o in orders):
        yield from orders
        return
    if totals.split_rows is None:
        raise AssertionError("the executor left split orders without a way to read their rows")
    yield from totals.split_rows(orders)


def split_orders(totals: Totals, rows: bool = True) -> Sequence[SplitOrder]:
    """Every split order in the ledger, whatever its date, by pool, day and first row; with
    `rows` false, as the executor found them (perhaps counted only: see `with_rows`).

    PostgreSQL and Spark find them with `SPLIT_KEYED` and `SPLIT_ROWS`, DuckDB by counting; for
    the reference executor they are found here from the supplier it leaves beside each spooled
    spend, in bounded memory (numpy): the spends
    under a limited rule that name a supplier are keyed by (pool, supplier key, day) packed in
    one integer; a first pass over the spool keeps only those keys, sorted in place, to find
    the keys shared by two or more spends; a second keeps just the spends with those keys.
    """
    if totals.split_orders is not None:
        if not rows:
            return totals.split_orders  # the executor's own list (not a copy), or Counted
        return with_rows(totals, list(totals.split_orders))
    spool = totals.approvals
    if not spool.count:
        return []
    if len(totals.suppliers) != spool.count:
        raise AssertionError("the executor left no supplier beside each spend")
    import numpy as np  # here, not at the top: numpy would slow every command's start-up

    key_ids: dict[str, int] = {"": 0}
    supplier_key_of = np.array(
        [key_ids.setdefault(supplier_key(t), len(key_ids)) for t in totals.supplier_names],
        dtype=np.int64,
    )
    limited = sorted(
        {
            (d.rule.limit, d.rule.number, d.rule.pool): d.rule
            for d, _, _ in spool.table
            if d.rule is not None and d.rule.limit is not None
        }.items(),
        key=lambda item: item[0][:2],
    )
    rank_of = {k: i for i, (k, _) in enumerate(limited, start=1)}
    ident_rank = np.array(
        [
            rank_of[(d.rule.limit, d.rule.number, d.rule.pool)]
            if d.rule is not None and d.rule.limit is not None
            else 0
            for d, _, _ in spool.table
        ]
        or [0],
        dtype=np.int64,
    )
    rank_limit = np.array([0, *(k[0] for k, _ in limited)], dtype=np.int64)
    first_day = min(totals.days).toordinal() if totals.days else 0
    last_day = max(totals.days).toordinal() if totals.days else 0
    width = (len(key_ids), last_day - first_day + 1)
    if len(spool.pools) * width[0] * width[1] >= 1 << 62:
        raise AssertionError("too many suppliers and days to key split orders")
    every_supplier = np.frombuffer(
        totals.suppliers, dtype=np.dtype(f"u{totals.suppliers.itemsize}")
    )

    def keyed() -> Any:
        """Per chunk of the spool: (wanted mask, packed keys of all its spends, its columns)."""
        position = 0
        for columns in spool.columns():
            size = len(columns[0])
            sids = every_supplier[position : position + size].astype(np.int64)
            position += size
            idents = np.frombuffer(columns[4], dtype=np.dtype(f"u{columns[4].itemsize}"))
            ranks = ident_rank[idents.astype(np.int64)]
            keys = supplier_key_of[sids]
            pools = np.frombuffer(columns[3], dtype=np.uint16).astype(np.int64)
            days = np.frombuffer(columns[2], dtype=np.int64) - first_day
            packed = (pools * width[0] + keys) * width[1] + days
            yield (ranks > 0) & (keys > 0), packed, ranks, sids, columns

    # One pass: each chunk's wanted spends totalled by packed key (count, pence, top rank, first
    # row and its supplier), then the chunks' totals merged: memory is of the keys, not the rows.
    # Pence are summed in 64-bit integers while no sum can pass 2**63 (`bound`: the most any
    # could come to); past that, in Python's integers (a hostile ledger's sums must not wrap).
    parts: list[list[Any]] = [[], [], [], [], [], []]
    bound = 0
    for wanted, packed, ranks, sids, columns in keyed():
        if not wanted.any():
            continue
        keys_w = packed[wanted]
        rows_w = np.frombuffer(columns[0], dtype=np.int64)[wanted]
        unique, first, inverse = np.unique(keys_w, return_index=True, return_inverse=True)[:3]
        count = np.bincount(inverse, minlength=len(unique)).astype(np.int64)
        amounts = np.frombuffer(columns[1], dtype=np.int64)[wanted]
        bound += int(amounts.max()) * len(amounts)
        exact = np.int64 if bound < 1 << 63 else object
        pence = np.zeros(len(unique), dtype=exact)
        np.add.at(pence, inverse, amounts.astype(exact))
        top = np.zeros(len(unique), dtype=np.int64)
        np.maximum.at(top, inverse, ranks[wanted])
        for part, values in zip(
            parts, (unique, count, pence, top, rows_w[first], sids[wanted][first]), strict=True
        ):
            part.append(values)
    if not parts[0]:
        return []
    key_c, count_c, pence_c, top_c, first_c, sid_c = (np.concatenate(p) for p in parts)
    del parts
    order = np.lexsort((first_c, key_c))  # by key, then the earliest first row
    key_c, count_c, pence_c, top_c, first_c, sid_c = (
        c[order] for c in (key_c, count_c, pence_c, top_c, first_c, sid_c)
    )
    starts = np.flatnonzero(np.diff(key_c, prepend=-1))
    count_g = np.add.reduceat(count_c, starts)
    pence_g = np.add.reduceat(pence_c, starts)
    top_g = np.maximum.reduceat(top_c, starts)
    flagged = np.flatnonzero((count_g >= 2) & (pence_g > rank_limit[top_g]))
    out = []
    names = {i: supplier_name(t) for i, t in enumerate(totals.supplier_names)}
    for g in flagged.tolist():
        at = int(starts[g])
        packed = int(key_c[at])
        rule = limited[int(top_g[g]) - 1][1]
        out.append(
            SplitOrder.counted(
                spool.pools[packed // (width[0] * width[1])],
                names[int(sid_c[at])],
                date.fromordinal(packed % width[1] + first_day),
                _rank(rule)[0],
                rule.number,
                f"{rule.file}:{rule.line}",
                spends=int(count_g[g]),
                pence=int(pence_g[g]),
                first_row=int(first_c[at]),
                key=str(packed),
            )
        )
    out.sort(key=lambda o: (spool.pools.index(o.pool), o.day, o.first_row))

    def rows_of(orders: list[SplitOrder]) -> Iterator[SplitOrder]:
        """These orders with their rows, in this order: a pass over the spool for each batch
        of orders holding up to _BATCH rows (memory of a batch, not of every order)."""
        batch: list[SplitOrder] = []
        held = 0
        for order in orders:
            batch.append(order)
            held += order.spends
            if held >= _BATCH:
                yield from _read(batch)
                batch, held = [], 0
        if batch:
            yield from _read(batch)

    def _read(batch: list[SplitOrder]) -> Iterator[SplitOrder]:
        want = np.array(sorted({int(o.key) for o in batch}), dtype=np.int64)
        found: list[list[Any]] = [[], [], []]
        for wanted, packed, _, _, columns in keyed():
            take = wanted & np.isin(packed, want)
            if take.any():
                found[0].append(packed[take])
                found[1].append(np.frombuffer(columns[0], dtype=np.int64)[take])
                found[2].append(np.frombuffer(columns[1], dtype=np.int64)[take])
        keys_f, rows_f, pence_f = (
            np.concatenate(f) if f else np.zeros(0, dtype=np.int64) for f in found
        )
        order = np.argsort(keys_f, kind="stable")  # the spool is in row order: rows stay so
        keys_f, rows_f, pence_f = keys_f[order], rows_f[order], pence_f[order]
        at = {int(k): i for i, k in zip(*np.unique(keys_f, return_index=True)[::-1], strict=True)}
        for o in batch:
            first = at[int(o.key)]
            part = slice(first, first + o.spends)
            filled = replace(
                o,
                rows=array("q", rows_f[part].tobytes()),
                amounts=array("q", pence_f[part].tobytes()),
            )
            assert (filled.spends, filled.pence) == (o.spends, o.pence), o
            yield filled

    totals.split_orders, totals.split_rows = out, rows_of
    return with_rows(totals, list(out)) if rows else list(out)


_BATCH = 1 << 21  # split-order rows read back in one pass over the spool


def _rank(rule: Rule) -> tuple[int, int]:
    """A limited rule's (limit, number): the higher limit wins, then the later rule."""
    assert rule.limit is not None
    return rule.limit, rule.number
