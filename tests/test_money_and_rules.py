"""The amount parser (fuzzed) and the program's earning, spending and refund rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parsing import DEFAULT_MAX_MINOR, AmountError, parse_amount
from bot.domain.program.model import DEFAULT_PROGRAM
from bot.domain.program.rules import (
    base_earning,
    max_redeemable,
    points_value_minor,
    reversal_points,
)


def format_amount(minor: int) -> str:
    """The plain, locale-free form a cashier may type: 1250 -> '12.50'."""
    return f"{minor // 100}.{minor % 100:02d}"


@given(st.integers(1, DEFAULT_MAX_MINOR))
def test_parse_reads_back_what_format_writes(minor: int) -> None:
    assert parse_amount(format_amount(minor)) == minor
    assert parse_amount(format_amount(minor).replace(".", ",")) == minor


@given(st.integers(1, 99_999), st.integers(0, 99))
def test_grouped_thousands(whole: int, cents: int) -> None:
    grouped = f"{whole:,}".replace(",", " ")
    assert parse_amount(f"{grouped}.{cents:02d}") == whole * 100 + cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-12.50", "format"),
        ("+12", "format"),
        ("0", "zero"),
        ("0,00", "zero"),
        ("NaN", "format"),
        ("inf", "format"),
        ("Infinity", "format"),
        ("1e3", "format"),
        ("1E3", "format"),
        ("12.345", "decimals"),
        ("12.3.4", "format"),
        ("12,50,1", "format"),
        ("١٢٫٥٠", "format"),
        ("１２", "format"),
        ("12 50", "format"),
        ("0x10", "format"),
        ("", "format"),
        ("   ", "format"),
        ("100000.01", "too_large"),
        ("9" * 40, "format"),
        ("9" * 20, "too_large"),
    ],
)
def test_bad_amounts_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.reason == reason


@given(st.text(max_size=40))
def test_parser_never_crashes_and_never_returns_nonsense(text: str) -> None:
    try:
        minor = parse_amount(text)
    except AmountError:
        return
    assert 0 < minor <= DEFAULT_MAX_MINOR


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_spellings_never_become_money_silently(value: float) -> None:
    text = repr(value)
    try:
        minor = parse_amount(text)
    except AmountError:
        return
    # Only plain decimals with at most two places pass, and then exactly.
    assert format_amount(minor) == f"{value:.2f}"


def test_default_earning_is_one_point_per_unit_rounded_down() -> None:
    assert base_earning(DEFAULT_PROGRAM, 1250) == 12
    assert base_earning(DEFAULT_PROGRAM, 99) == 0
    assert base_earning(DEFAULT_PROGRAM, 100) == 1


def test_minimum_purchase_and_rate() -> None:
    from dataclasses import replace

    program = replace(DEFAULT_PROGRAM, min_purchase_minor=500, earn_rate_hundredths=150)
    assert base_earning(program, 499) == 0
    assert base_earning(program, 1000) == 15


def test_redeem_limits_balance_and_share() -> None:
    # 100 points = 5.00 off; at most 50% of a 40.00 bill = 20.00 = 400 points.
    assert points_value_minor(DEFAULT_PROGRAM, 100) == 500
    assert max_redeemable(DEFAULT_PROGRAM, 1000, 4000) == 400
    assert max_redeemable(DEFAULT_PROGRAM, 300, 4000) == 300
    assert max_redeemable(DEFAULT_PROGRAM, 0, 4000) == 0


@given(
    st.integers(0, 10_000),
    st.integers(1, 10**7),
    st.lists(st.integers(1, 10**7), min_size=1, max_size=6),
)
def test_partial_refunds_never_take_back_more_than_earned(
    earned: int, bill: int, parts: list[int]
) -> None:
    refunded = 0
    taken = 0
    for part in parts:
        part = min(part, bill - refunded)
        if part <= 0:
            break
        step = reversal_points(earned, bill, refunded, part)
        assert step >= 0
        refunded += part
        taken += step
    assert taken <= earned
    if refunded == bill:
        assert taken == earned  # refunding the whole bill takes back exactly what it earned
