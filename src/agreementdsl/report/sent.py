"""Reports sent: the record that turns a due date into done, done late or overdue.

A CSV with columns `pool`, `report`, `period_end`, `sent_on` (one row per report sent), read
and checked like the disputes file: a bad row is listed with its row number and a code, never
dropped in silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..engine.ledger import LedgerReader, Rejected, side_rows

COLUMNS = ("pool", "report", "period_end", "sent_on")


@dataclass(frozen=True)
class Sent:
    pool: str
    report: str
    period_end: date
    sent_on: date
    row: int


def read_sent(
    path: Path, reports: dict[str, set[str]]
) -> tuple[dict[tuple[str, str, date], Sent], list[Rejected]]:
    """Reports sent, keyed by (pool, report, period end); `reports`: pool id -> report names."""
    name = str(path)
    found: dict[tuple[str, str, date], Sent] = {}
    rejected: list[Rejected] = []
    for row, get in side_rows(path, "reports sent", COLUMNS, COLUMNS):
        period_end = LedgerReader.parse_date(get["period_end"])
        sent_on = LedgerReader.parse_date(get["sent_on"])
        problem = None
        if get["pool"] not in reports:
            problem = f"pool '{get['pool']}' is not a pool of the agreement"
        elif get["report"] not in reports[get["pool"]]:
            known = ", ".join(sorted(reports[get["pool"]])) or "none"
            problem = f"pool '{get['pool']}' has no report '{get['report']}' (its reports: {known})"
        elif period_end is None:
            problem = f"period_end '{get['period_end']}' is not a date (YYYY-MM-DD)"
        elif sent_on is None:
            problem = f"sent_on '{get['sent_on']}' is not a date (YYYY-MM-DD)"
        if problem is not None:
            rejected.append(Rejected(row, "R005", problem, name))
            continue
        assert period_end is not None and sent_on is not None
        key = (get["pool"], get["report"], period_end)
        earlier = found.get(key)
        if earlier is None or sent_on < earlier.sent_on:
            found[key] = Sent(get["pool"], get["report"], period_end, sent_on, row)
    return found, rejected
