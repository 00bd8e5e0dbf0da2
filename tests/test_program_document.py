"""The program as a document: `program_to_document` is the inverse of `parse_program`, also
through the exported TOML, for any valid program."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.program.document import document_toml, program_to_document
from bot.domain.program.loader import load_program, parse_program
from bot.domain.program.model import (
    MAX_DAYS,
    MAX_MONEY_MINOR,
    MAX_POINTS,
    AutoOffer,
    AutoTrigger,
    Earning,
    Program,
    Reward,
    Tier,
    TierWindow,
)

HERE = Path("test.toml")
ROOT = Path(__file__).resolve().parent.parent


def texts(limit: int, required: bool = False) -> st.SearchStrategy[str]:
    letters = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
    return (
        st.text(letters, max_size=limit)
        .map(str.strip)
        .filter(lambda text: bool(text) or not required)
    )


money = st.integers(0, MAX_MONEY_MINOR)
shares = st.integers(0, 100)


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    steps = draw(st.lists(st.integers(1, 10**7), max_size=4))
    spends = [0]
    for step in steps:
        spends.append(spends[-1] + step)
    names = draw(
        st.lists(texts(32, required=True), min_size=len(spends), max_size=len(spends), unique=True)
    )
    return tuple(
        Tier(name, spend, draw(st.integers(100, 1000)), draw(st.none() | shares))
        for name, spend in zip(names, spends, strict=True)
    )


@st.composite
def offers(draw: st.DrawFn) -> tuple[AutoOffer, ...]:
    triggers = draw(st.lists(st.sampled_from(list(AutoTrigger)), unique=True, max_size=3))
    made = []
    for trigger in triggers:
        kind = draw(st.sampled_from(["percent", "discount", "points", "multiplier", "item"]))
        value = {
            "percent": st.integers(1, 100),
            "discount": money,
            "points": st.integers(1, MAX_POINTS),
            "multiplier": st.integers(110, 1000),
            "item": st.just(0),
        }[kind]
        made.append(
            AutoOffer(
                trigger,
                draw(texts(60, required=True)),
                kind,
                draw(value),
                draw(st.integers(1, 365)),
                draw(st.integers(1, MAX_DAYS)),
                draw(money),
            )
        )
    return tuple(made)


@st.composite
def programs(draw: st.DrawFn) -> Program:
    earning = draw(st.sampled_from(list(Earning)))
    maximum = draw(st.integers(1, MAX_MONEY_MINOR))
    point_value = draw(
        st.sampled_from([1, 100]) if earning is Earning.CASHBACK else st.integers(1, 10**6)
    )
    stamp_reward = draw(texts(64))
    discount = draw(money)
    if earning is Earning.STAMPS and not stamp_reward and not discount:
        discount = 100
    return Program(
        welcome_bonus=draw(st.integers(0, MAX_POINTS)),
        tiers=draw(tier_lists()),
        earning=earning,
        earn_rate_hundredths=draw(money),
        cashback_hundredths=draw(st.integers(1, 100_00)),
        stamps_for_reward=draw(st.integers(1, 1000)),
        stamp_reward=stamp_reward,
        stamp_reward_discount_minor=discount,
        min_purchase_minor=draw(st.integers(0, maximum)),
        max_purchase_minor=maximum,
        visit_cooldown=timedelta(minutes=draw(st.integers(0, 7 * 24 * 60))),
        daily_cap=draw(st.integers(0, MAX_POINTS)),
        point_value_minor=point_value,
        max_redeem_share=draw(shares),
        rewards=tuple(
            Reward(name, draw(st.integers(1, MAX_POINTS)))
            for name in draw(st.lists(texts(32, required=True), max_size=3, unique=True))
        ),
        birthday_bonus=draw(st.integers(0, MAX_POINTS)),
        expiry_days=draw(st.integers(0, MAX_DAYS)),
        expiry_reminder_days=draw(st.integers(0, MAX_DAYS)),
        tier_window=draw(st.sampled_from(list(TierWindow))),
        cause=draw(texts(64)),
        referral_bonus=draw(st.integers(0, MAX_POINTS)),
        referral_friend_bonus=draw(st.integers(0, MAX_POINTS)),
        referral_min_purchase_minor=draw(money),
        referral_monthly_cap=draw(st.integers(0, 10_000)),
        auto_offers=draw(offers()),
        weekly_digest=draw(st.booleans()),
        alert_customer_operations=draw(st.integers(0, 100_000)),
        alert_cashier_operations=draw(st.integers(0, 100_000)),
    )


@settings(max_examples=300, deadline=None)
@given(programs())
def test_the_document_parses_back_to_the_same_program(program: Program) -> None:
    assert parse_program(program_to_document(program), HERE) == program


@settings(max_examples=150, deadline=None)
@given(programs())
def test_the_exported_toml_reads_back_to_the_same_program(program: Program) -> None:
    text = document_toml(program_to_document(program))
    assert parse_program(tomllib.loads(text), HERE) == program


def test_the_shipped_program_file_round_trips() -> None:
    program = load_program(ROOT / "program.toml")
    assert parse_program(program_to_document(program), HERE) == program
    assert program_to_document(parse_program(program_to_document(program), HERE)) == (
        program_to_document(program)
    )
