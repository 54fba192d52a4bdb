"""Amounts, percentages, durations and dates in the words of a legal document (British English)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

_UNITS = {
    "working_days": ("Working Day", "Working Days"),
    "days": ("day", "days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}


def number_words(n: int | Decimal) -> str:
    """`280000` → `two hundred and eighty thousand`; `2.5` → `two point five`."""
    from num2words import num2words

    words: str = num2words(n, lang="en_GB")
    return words


def money_words(pence: int) -> str:
    """`28000000` → `two hundred and eighty thousand pounds`; pence spelt out when present."""
    pounds, rest = divmod(abs(pence), 100)
    parts = []
    if pounds or not rest:
        parts.append(f"{number_words(pounds)} {'pound' if pounds == 1 else 'pounds'}")
    if rest:
        parts.append(f"{number_words(rest)} {'penny' if rest == 1 else 'pence'}")
    return " and ".join(parts)


def percent_words(value: Decimal) -> str:
    """`2.5` → `2.5 per cent (two point five per cent)`."""
    text = format(value.normalize(), "f")
    return f"{text} per cent ({number_words(Decimal(text))} per cent)"


def count_words(count: int, unit: str) -> str:
    """`10 working_days` → `10 (ten) Working Days`."""
    one, many = _UNITS[unit]
    return f"{count} ({number_words(count)}) {one if count == 1 else many}"


def date_words(iso: str | None) -> str:
    """`2005-04-01` → `1 April 2005`."""
    if not iso:
        return "[not stated]"
    day = date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def month_day_words(mmdd: str) -> str:
    """`04-01` → `1 April`."""
    month, day = (int(x) for x in mmdd.split("-"))
    return f"{day} {date(2000, month, day).strftime('%B')}"
