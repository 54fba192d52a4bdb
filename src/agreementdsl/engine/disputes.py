"""Disputes: where each open dispute stands on the as-of date (LANGUAGE.md §7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..calendar import Duration, add_duration
from .ledger import LedgerReader, Rejected, side_rows

# `raised_by` (optional): the partner that served the dispute notice, and so refers the dispute
# to each stage (docs/language.md, section 9).
COLUMNS = ("id", "pool", "raised_on", "resolved_on", "subject", "raised_by")


@dataclass(frozen=True)
class Dispute:
    id: str
    pool: str
    raised_on: date
    resolved_on: date | None
    subject: str
    row: int
    raised_by: str = ""  # the partner that served the notice ("" when the file does not say)


@dataclass(frozen=True)
class Standing:
    dispute: Dispute
    stage: int
    holder: str
    deadline: date | None
    overdue: bool
    history: list[str]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.dispute.id,
            "stage": self.stage,
            "holder": self.holder,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "overdue": self.overdue,
            "raised_on": self.dispute.raised_on.isoformat(),
            "subject": self.dispute.subject,
            "raised_by": self.dispute.raised_by or None,
        }


def read_disputes(
    path: Path, pools: dict[str, bool], partners: frozenset[str] | None = None
) -> tuple[list[Dispute], list[Rejected]]:
    """Disputes from CSV, each row checked like a ledger row (`pools`: id -> has a ladder;
    `partners`: the agreement's partners, any of which may serve a dispute notice)."""
    name = str(path)
    disputes, rejected = [], []
    for row, get in side_rows(path, "disputes", ("id", "pool", "raised_on"), COLUMNS):
        if get["pool"] not in pools and get["pool"].lower() in pools:
            get["pool"] = get["pool"].lower()  # ids are lower case: `Mental-Health` is that pool
        raised = LedgerReader.parse_date(get["raised_on"])
        resolved = LedgerReader.parse_date(get["resolved_on"]) if get["resolved_on"] else None
        by = get.get("raised_by") or ""
        if partners is not None and by not in partners and by.lower() in partners:
            by = by.lower()
        problem = None
        if not get["id"]:
            problem = ("D001", "the dispute has no id")
        elif get["pool"] not in pools:
            problem = ("D002", f"pool '{get['pool']}' is not a pool of the agreement")
        elif not pools[get["pool"]]:
            problem = (
                "D005",
                f"pool '{get['pool']}' has no disputes clause to escalate the dispute through",
            )
        elif raised is None:
            problem = ("D003", f"raised_on '{get['raised_on']}' is not a date (YYYY-MM-DD)")
        elif get["resolved_on"] and resolved is None:
            problem = ("D003", f"resolved_on '{get['resolved_on']}' is not a date (YYYY-MM-DD)")
        elif resolved is not None and resolved < raised:
            problem = (
                "D004",
                f"the dispute is resolved ({resolved}) before it is raised ({raised})",
            )
        elif by and partners is not None and by not in partners:
            problem = (
                "D006",
                f"raised_by '{by}' is not a partner of the agreement: only a partner serves a "
                "dispute notice",
            )
        if problem is not None:
            rejected.append(Rejected(row, problem[0], problem[1], name))
        else:
            assert raised is not None
            disputes.append(
                Dispute(get["id"], get["pool"], raised, resolved, get["subject"], row, by)
            )
    return disputes, rejected


def standing(dispute: Dispute, stages: list[dict[str, Any]], as_of: date) -> Standing | None:
    """The stage an open dispute has reached on the as-of date (None when not open then)."""
    if dispute.raised_on > as_of or (
        dispute.resolved_on is not None and dispute.resolved_on <= as_of
    ):
        return None
    if not stages:
        return Standing(dispute, 0, "", None, False, ["the pool has no dispute ladder"])
    reached = dispute.raised_on
    history = [f"raised on {reached}: stage 1, {stages[0]['holder']}"]
    for i, stage in enumerate(stages):
        limit = stage["limit"]
        deadline = add_duration(reached, Duration(limit["count"], limit["unit"])) if limit else None
        last = i == len(stages) - 1
        if deadline is None or as_of <= deadline or last:
            overdue = deadline is not None and as_of > deadline
            if deadline is not None:
                history.append(
                    f"stage {stage['stage']} deadline {deadline} ({limit['text']} from {reached})"
                )
            return Standing(dispute, stage["stage"], stage["holder"], deadline, overdue, history)
        reached = deadline + timedelta(days=1)
        history.append(
            f"not resolved by {deadline}: stage {stages[i + 1]['stage']}, {stages[i + 1]['holder']}, from {reached}"
        )
    raise AssertionError("unreachable: the last stage always returns")
