"""Money in whole pence: parsing, formatting, percentages and exact splitting.

Money is an `int` of pence everywhere in agreementdsl; nothing passes through binary floating
point. This module is the one place that turns text into pence and pence into text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from fractions import Fraction

_MONEY = re.compile(
    r"^£\s*(?P<digits>[0-9][0-9,]*)(?:\.(?P<decimals>[0-9]+))?\s*(?P<suffix>[kKmM])?$"
)
_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})*$")
_MULTIPLIER = {None: 1, "k": 1_000, "m": 1_000_000}


class MoneyError(ValueError):
    """Text that is not an amount of money in whole pence; `code`, where the reason has a
    ledger code of its own (L016: £1 trillion or more)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def parse_money(text: str) -> int:
    """Pence from agreement money such as `£280,000`, `£1.5m`, `£50k`, `£0.50`.

    Raises MoneyError with a reason a commissioner can act on.
    """
    m = _MONEY.match(text.strip())
    if not m:
        raise MoneyError(f"`{text}` is not an amount of money; write it like `£280,000`")
    digits = m["digits"]
    if "," in digits and not _GROUPED.match(digits):
        raise MoneyError(f"`{text}` has thousands commas in the wrong places")
    suffix = (m["suffix"] or "").lower() or None
    value = Decimal(digits.replace(",", "") + "." + (m["decimals"] or "0"))
    pence = value * _MULTIPLIER[suffix] * 100
    if pence != pence.to_integral_value():
        raise MoneyError(f"`{text}` is not a whole number of pence")
    return int(pence)


_AMOUNT = re.compile(r"^(?P<sign>-)?£?(?P<digits>[0-9][0-9,]*)(?:\.(?P<decimals>[0-9]*))?$")


_EXPONENT = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]{1,4}$")


def parse_amount(text: str) -> int:
    """Pence from a ledger amount: `12500.00`, `-12,500.5`, `£300`; at most 2 decimals."""
    raw = text.strip()
    m = _AMOUNT.match(raw)
    if not m:
        if _EXPONENT.match(raw):  # as JSON may write a number (`1e3`): exact, but not accepted
            said = f"amount '{text}' is written with an exponent, which a ledger amount may not be"
            value = Decimal(raw)
            if abs(value) >= 10**12:
                raise MoneyError(f"{said}, and is £1 trillion or more", "L016")
            if value != value.quantize(Decimal("0.01"), rounding=ROUND_DOWN):
                raise MoneyError(f"{said}, and has more than 2 decimals")
            raise MoneyError(f"{said}: write it as `{value if value else Decimal(0):.2f}`")
        raise MoneyError(f"amount '{text}' is not a number")
    digits, decimals = m["digits"], m["decimals"] or ""
    if "," in digits and not _GROUPED.match(digits):
        raise MoneyError(f"amount '{text}' has thousands commas in the wrong places")
    if len(decimals) > 2:
        raise MoneyError(f"amount '{text}' has more than 2 decimals")
    pence = int(digits.replace(",", "")) * 100 + int(decimals.ljust(2, "0"))
    return -pence if m["sign"] else pence


def parse_percent(text: str) -> Decimal:
    """A Decimal percentage from `2.5%` (returns Decimal('2.5'))."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation as exc:
        raise MoneyError(f"`{text}` is not a percentage") from exc
    if not value.is_finite():
        raise MoneyError(f"`{text}` is not a percentage")
    return value


def percent_of(pence: int, percent: Decimal) -> int:
    """`percent`% of an amount, rounded half up to the penny (exact for any size)."""
    exact = Fraction(pence) * Fraction(percent) / 100
    whole = exact.numerator // exact.denominator
    if exact - whole >= Fraction(1, 2):
        whole += 1
    return whole


def round_half_away(value: Fraction) -> int:
    """The nearest integer, halves away from zero."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = int(magnitude)
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return sign * whole


def format_pounds(pence: int) -> str:
    """Machine form with two decimals: 74000000 -> '740000.00'."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def format_money(pence: int, *, always_pence: bool = True) -> str:
    """People's form: '£740,000.00' (or '£740,000' when always_pence is False and exact)."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    if part == 0 and not always_pence:
        return f"{sign}£{whole:,}"
    return f"{sign}£{whole:,}.{part:02d}"


def format_percent(value: Decimal) -> str:
    """'2.5%' from Decimal('2.5'); no trailing zeros."""
    text = format(value.normalize(), "f")
    return f"{text}%"


def split_largest_remainder(total: int, weights: Sequence[Fraction | int | Decimal]) -> list[int]:
    """Split `total` pence in proportion to `weights`, shares summing exactly to `total`.

    Each share is first rounded down; the pennies left over go one each to the largest
    remainders, ties to the earlier weight (the partner first in `partners:`). Weights must be
    non-negative with a positive sum; `total` must not be negative.
    """
    if total < 0:
        raise ValueError("cannot split a negative amount")
    fractions = [Fraction(w) for w in weights]
    whole = sum(fractions)
    if whole <= 0 or any(f < 0 for f in fractions):
        raise ValueError("weights must be non-negative with a positive total")
    exact = [total * f / whole for f in fractions]
    shares = [int(e) for e in exact]
    left = total - sum(shares)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares
