"""Money: whole pence in, whole pence out, nothing lost to rounding."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agreementdsl.money import (
    MoneyError,
    format_money,
    format_pounds,
    parse_amount,
    parse_money,
    percent_of,
    round_half_away,
    split_largest_remainder,
)


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("£280,000", 28_000_000),
        ("£1.5m", 150_000_000),
        ("£50k", 5_000_000),
        ("£0.50", 50),
        ("£13,300,000", 1_330_000_000),
        ("£1,234.56", 123_456),
        ("£2.125k", 212_500),
    ],
)
def test_parse_money_reads_the_forms_of_the_language(text: str, pence: int) -> None:
    assert parse_money(text) == pence


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("£0.005", "whole number of pence"),
        ("£1,00", "commas"),
        ("280000", "not an amount"),
        ("£1.234567k", "whole number of pence"),
    ],
)
def test_parse_money_explains_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "pence"),
    [("12500.00", 1_250_000), ("-12,500.5", -1_250_050), ("£300", 30_000), ("0", 0), ("7.", 700)],
)
def test_parse_amount_reads_ledger_amounts(text: str, pence: int) -> None:
    assert parse_amount(text) == pence


@pytest.mark.parametrize("text", ["twelve", "1.234", "1e5", "", "--5", "1,2345"])
def test_parse_amount_rejects_non_amounts(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text)


def test_percent_of_rounds_half_up_to_the_penny() -> None:
    assert percent_of(1_330_000_000, Decimal("2.5")) == 33_250_000
    assert percent_of(1, Decimal("50")) == 1  # half a penny rounds up
    assert percent_of(3, Decimal("50")) == 2  # 1.5p -> 2p


def test_round_half_away_from_zero() -> None:
    assert round_half_away(Fraction(5, 2)) == 3
    assert round_half_away(Fraction(-5, 2)) == -3
    assert round_half_away(Fraction(7, 3)) == 2


def test_formatting() -> None:
    assert format_pounds(74_000_000) == "740000.00"
    assert format_pounds(-5) == "-0.05"
    assert format_money(63_160_920) == "£631,609.20"
    assert format_money(28_000_000, always_pence=False) == "£280,000"


def test_split_matches_the_seed_herefordshire_case() -> None:
    # £460,000 left after the host's first £280,000, shared 13.3m : 4.1m.
    assert split_largest_remainder(46_000_000, [1_330_000_000, 410_000_000]) == [
        35_160_920,
        10_839_080,
    ]


def test_split_ties_go_to_the_first_partner() -> None:
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(2, [1, 1, 1]) == [1, 1, 0]


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=8).filter(
        lambda w: sum(w) > 0
    ),
)
def test_split_always_sums_exactly_and_never_goes_negative(total: int, weights: list[int]) -> None:
    shares = split_largest_remainder(total, weights)
    assert sum(shares) == total
    assert all(s >= 0 for s in shares)
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(Fraction(share) - Fraction(total * weight, whole)) < 1
