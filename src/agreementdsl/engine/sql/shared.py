"""What every SQL executor does in Python around its SQL, whatever the engine.

- `decide`: a doubtful row (one the SQL declined) decided by the reference reader's own `check`,
  so the code, message and line number of a rejected row are the reference's on every engine;
- `judge`: each distinct (pool, rule, recorded approvers, within plan) judged once by the
  pool's `Authority`, the reference's own matching;
- `fill_spool`: classified spends fetched in ledger order, copied to the `ApprovalSpool`.

The DuckDB executor (duck.py) does the same inline; the PostgreSQL and Spark executors use
these, so the three agree with the reference by construction where the SQL declines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np

from ..approvals import Authority, Decision, FieldTuple
from ..executor import ApprovalSpool, bear
from ..ledger import LedgerReader, Rejected, Txn, wrong_width

EPOCH = date(1970, 1, 1).toordinal()
CHECKED_TYPES = (
    "BIGINT",
    "DATE",
    "VARCHAR",
    "VARCHAR",
    "BIGINT",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "BOOLEAN",
    "VARCHAR",
    "VARCHAR",
)


def decide(
    reader: LedgerReader, doubtful: Iterable[Sequence[Any]], width: int
) -> tuple[list[Rejected], list[Txn]]:
    """The doubtful rows (line, broken, the ten texts) as the reference reader decides them."""
    rejected: list[Rejected] = []
    checked: list[Txn] = []
    for line, broken, *texts in doubtful:
        if broken is not None:
            rejected.append(Rejected(int(line), "L010", wrong_width(int(broken), width)))
            continue
        result = reader.check(int(line), *texts)
        if isinstance(result, Rejected):
            rejected.append(result)
        else:
            checked.append(result)
    return rejected, checked


def checked_tuple(t: Txn) -> tuple[Any, ...]:
    """A row the reference reader accepted, in the column order of `checked_rows`."""
    return (
        t.row,
        t.day,
        t.pool,
        t.kind,
        t.amount,
        t.element,
        t.partner,
        ";".join(t.approved_by),
        t.in_plan,
        t.supplier,
        t.category,
    )


def judge(
    authorities: dict[str, Authority],
    spool: ApprovalSpool,
    keys: Iterable[Sequence[Any]],
) -> list[tuple[int, int, str, bool, int]]:
    """Each distinct (pool index, rule, approved_by, in_plan) judged once; the keys with the
    decision's id in the spool's table."""
    names = list(authorities)
    out = []
    for pool_index, rule_number, approved_by, in_plan in keys:
        authority = authorities[names[int(pool_index)]]
        rule = authority.rules[int(rule_number) - 1] if rule_number else None
        recorded = tuple(a.strip() for a in approved_by.split(";") if a.strip())
        decision: Decision = authority.judge(rule, recorded)
        fields: FieldTuple = ()
        out.append(
            (int(pool_index), int(rule_number), approved_by, bool(in_plan), len(spool.table))
        )
        spool.table.append((decision, fields, bool(in_plan)))
    return out


def fill_spool(spool: ApprovalSpool, chunk: Sequence[Sequence[Any]]) -> None:
    """Rows (line, pence, day ordinal since 1970-01-01, pool index, decision id), in line
    order, appended to the spool."""
    if not chunk:
        return
    columns = np.array(chunk, dtype=np.int64).T
    spool.rows.frombytes(columns[0].tobytes())
    spool.amounts.frombytes(columns[1].tobytes())
    spool.days.frombytes((columns[2] + EPOCH).tobytes())
    spool.pool_ids.frombytes(columns[3].astype(np.uint16).tobytes())
    spool.decisions.frombytes(columns[4].astype(np.uint64).tobytes())
    spool.flush()


def unapproved_sql(authorities: dict[str, Authority]) -> str | None:
    """The spends of the pools whose unapproved spend their partners bear, totalled by pool,
    day, element, partner and decision, over `spends` and `decisions` (None: no such pool)."""
    bearing = [str(i) for i, a in enumerate(authorities.values()) if a.bears_unapproved]
    if not bearing:
        return None
    return (
        "SELECT s.pool_index, s.day, s.element, s.who, d.ident, "
        "SUM(CAST(s.pence AS DECIMAL(38, 0))), COUNT(*) "
        "FROM spends s JOIN decisions d ON s.pool_index = d.pool_index AND s.rule = d.rule "
        "AND s.approved_by = d.approved_by AND s.in_plan = d.in_plan "
        f"WHERE s.pool_index IN ({', '.join(bearing)}) "
        "GROUP BY s.pool_index, s.day, s.element, s.who, d.ident"
    )


def unapproved(
    rows: Iterable[Sequence[Any]], table: list[tuple[Decision, FieldTuple, bool]]
) -> dict[tuple[int, int, str, str], list[int]]:
    """`Totals.unapproved` from the rows of `unapproved_sql`: the spends not compliant."""
    out: dict[tuple[int, int, str, str], list[int]] = {}
    for pool_index, day, element, who, ident, pence, spends in rows:
        if not table[int(ident)][0].compliant:
            key = (int(pool_index), day.toordinal(), element, who)
            bear(out, key, int(pence), int(spends))
    return out
