"""Contributions paid against those due: each partner's instalments, what it has paid, and when.

A partner's contribution for a year is due in equal instalments (in whole pence, by the
largest-remainder method) on the first day of each month, quarter or the year itself, as the
agreement's `payments:` says (quarterly by default), and is paid on time when the partner's
`contribution` rows in the year have reached the instalments due so far within the days allowed
(`within`, 30 days by default). Only a pool whose ledger records contributions is checked.

Where the agreement covers only part of the year (engine/term.py), the contribution stated for
that year is for that part, and it falls due over the part only: one instalment for each month,
quarter or year that the part touches, due on the first day of it within the part (the first on
the commencement), each in proportion to the months of the part it holds. Durham's first
period, 1 September 2003 to 31 March 2004, paid quarterly, has instalments on 1 September (one
month: 1/7), 1 October and 1 January (three months each: 3/7). Contribution rows dated in the
financial year before commencement are payments in advance and count towards the instalments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from ..calendar import FinancialYear, add_duration, parse_duration
from ..lists import counted
from ..money import format_money, format_pounds, split_largest_remainder
from .term import Term, as_term


@dataclass(frozen=True)
class Paid:
    partner: str
    due: int  # the year's contribution
    due_to_date: int
    received: int
    late: list[dict[str, Any]]  # instalments paid late or not paid: due_on, amount, paid_on, days

    @property
    def shortfall(self) -> int:
        return max(0, self.due_to_date - self.received)

    def to_json(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "due": format_pounds(self.due),
            "due_to_date": format_pounds(self.due_to_date),
            "received": format_pounds(self.received),
            "shortfall": format_pounds(self.shortfall),
            "late": [
                {k: v for k, v in item.items() if not k.endswith("pence") and k[0] != "_"}
                for item in self.late
            ],
        }


def instalment_days(year: FinancialYear | Term, cadence: str) -> list[date]:
    """The first day of each period of the year (or of the term within it): the days
    instalments fall due."""
    return [first for first, _, _ in as_term(year).periods(cadence)]


def instalment_weights(year: FinancialYear | Term, cadence: str) -> list[Fraction]:
    """The months of the term each instalment's period holds: the instalments' proportions
    (equal in a whole year)."""
    return [months for _, _, months in as_term(year).periods(cadence)]


def contributions_paid(
    terms: dict[str, Any],
    contributions: dict[str, int],
    received: dict[tuple[str, date], int],
    year: FinancialYear | Term,
    as_of: date,
) -> list[Paid]:
    """Each contributing partner's position on `as_of` (received counts rows dated in the
    financial year, before commencement included)."""
    term = as_term(year)
    year = term.year
    days = instalment_days(term, terms["cadence"])
    weights = instalment_weights(term, terms["cadence"])
    allowance = parse_duration(terms["within"])
    last = min(as_of, year.last_day)
    out = []
    for partner, amount in contributions.items():
        if amount <= 0:
            continue
        parts = split_largest_remainder(amount, weights)
        paid = sorted(
            (day, pence)
            for (who, day), pence in received.items()
            if who == partner and year.first_day <= day <= last
        )
        due_so_far = 0
        total_paid = sum(p for _, p in paid)
        late = []
        for due_on, part in zip(days, parts, strict=True):
            if due_on > as_of:
                break
            due_so_far += part
            deadline = add_duration(due_on, allowance) if allowance else due_on
            settled = _day_reaching(paid, due_so_far)
            unpaid_too_long = settled is None and deadline < as_of
            if unpaid_too_long or (settled is not None and settled > deadline):
                # What reached this instalment, once the earlier ones were met: all of it when
                # settled, else part (the payments so far less the earlier instalments) or none.
                towards = part if settled else max(0, min(part, total_paid - due_so_far + part))
                # and what had reached it by its deadline: paid in time, though the rest was not
                by_deadline = sum(pence for day, pence in paid if day <= deadline)
                in_time = max(0, min(part, by_deadline - due_so_far + part))
                late.append(
                    {
                        "due_on": due_on.isoformat(),
                        "amount": format_pounds(part),
                        "pence": part,
                        "paid_on": settled.isoformat() if settled else None,
                        "days_late": ((settled or as_of) - deadline).days,
                        "paid": format_pounds(towards),
                        "paid_in_time": format_pounds(in_time),
                        "outstanding": format_pounds(part - towards),
                        "last_paid_on": _last_day(paid) if towards and not settled else None,
                        "towards_pence": towards,
                        "in_time_pence": in_time,
                        "_deadline": deadline.isoformat(),
                    }
                )
        out.append(Paid(partner, amount, due_so_far, total_paid, late))
    return out


def _last_day(paid: list[tuple[date, int]]) -> str:
    """The day of the latest payment (the list is in date order)."""
    return paid[-1][0].isoformat()


def _day_reaching(paid: list[tuple[date, int]], total: int) -> date | None:
    """The day the running total of payments first reaches `total`."""
    running = 0
    for day, pence in paid:
        running += pence
        if running >= total:
            return day
    return None


def warnings_for(pool_id: str, found: list[Paid], as_of: date) -> list[str]:
    """A warning for each partner short of what is due by `as_of`, or that paid late."""
    out = []
    for p in found:
        if p.shortfall:
            out.append(
                f"pool `{pool_id}`: {p.partner} has paid {format_money(p.received)} of the "
                f"{format_money(p.due_to_date)} due by {as_of}, {format_money(p.shortfall)} short"
            )
        for item in p.late:
            head = (
                f"pool `{pool_id}`: {p.partner}'s instalment of {format_money(item['pence'])} due "
                f"on {item['due_on']}"
            )
            if item["paid_on"]:
                state = f"was paid on {item['paid_on']}"
            elif item["last_paid_on"]:
                state = (
                    f"is paid in part: {format_money(item['towards_pence'])} of it by "
                    f"{item['last_paid_on']}, "
                    f"{format_money(item['pence'] - item['towards_pence'])} outstanding"
                )
            else:
                state = "is not yet paid"
            days = item["days_late"]
            said = f"{head} {state}, {counted(days, 'day')} after the time allowed"
            if item["in_time_pence"] and item["in_time_pence"] < item["pence"]:
                said += (
                    f"; {format_money(item['in_time_pence'])} of it was paid in time (by "
                    f"{item['_deadline']})"
                )
            out.append(said)
    return out
