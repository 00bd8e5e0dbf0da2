"""The program's rules as pure functions with a controllable clock: rounding, multipliers,
thresholds, cooldown, daily cap, stamps, tier review, 29 February and DST (the storage behind
them, expiry order among it, is in storage_contract/test_grants.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.program.loader import ProgramError, parse_program
from bot.domain.program.model import DEFAULT_PROGRAM, Earning, Program, Reward, Tier, TierWindow
from bot.domain.program.rules import (
    EarnNote,
    base_earning,
    birthday_this_year,
    earning_for,
    local_midnight,
    lot_expiry,
    max_redeemable,
    next_tier,
    stamp_rewards,
    tier_window_start,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TIERS = (
    Tier("Bronze", 0),
    Tier("Silver", 50_000, 150),
    Tier("Gold", 150_000, 200, max_redeem_share=100),
)
POINTS = Program(welcome_bonus=0, tiers=TIERS)
CASHBACK = Program(
    welcome_bonus=0,
    tiers=TIERS,
    earning=Earning.CASHBACK,
    cashback_hundredths=500,
    point_value_minor=1,
)
STAMPS = Program(
    welcome_bonus=0,
    tiers=(Tier("Bronze", 0),),
    earning=Earning.STAMPS,
    stamps_for_reward=10,
    stamp_reward="Coffee",
    min_purchase_minor=300,
    visit_cooldown=timedelta(hours=2),
    daily_cap=2,
)


# --- earning ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "bill", "expected"),
    [
        (POINTS, 1250, 12),  # 12.50 at 1 point per 1.00, rounded down
        (POINTS, 99, 0),
        (Program(welcome_bonus=0, tiers=TIERS, earn_rate_hundredths=150), 1099, 16),  # 16.485
        (CASHBACK, 1250, 62),  # 5% of 12.50 = 0.625 -> 62 points of 0.01
        (CASHBACK, 19, 0),
        (Program(0, TIERS, Earning.CASHBACK, point_value_minor=100), 19_999, 9),  # 9.99 -> 9
        (STAMPS, 300, 1),
        (STAMPS, 299, 0),  # below the qualifying minimum
        (STAMPS, 1_000_000, 1),  # one stamp per visit, whatever the bill
    ],
)
def test_base_earning_rounds_down(program: Program, bill: int, expected: int) -> None:
    assert base_earning(program, bill) == expected


def test_tier_multipliers_apply_to_points_not_stamps() -> None:
    silver = earning_for(POINTS, 10_00, 50_000, 0, None, NOW)
    assert (silver.points, silver.tier.name, silver.note) == (15, "Silver", EarnNote.FULL)
    gold = earning_for(POINTS, 10_01, 150_000, 0, None, NOW)
    assert gold.points == 20  # floor(10 x 2)
    just_below = earning_for(POINTS, 10_00, 49_999, 0, None, NOW)
    assert (just_below.points, just_below.tier.name) == (10, "Bronze")
    stamps = Program(0, TIERS, Earning.STAMPS, stamp_reward="Coffee")
    assert earning_for(stamps, 10_00, 150_000, 0, None, NOW).points == 1


def test_cooldown_between_visits_that_count() -> None:
    last = NOW - timedelta(minutes=30)
    early = earning_for(STAMPS, 500, 0, 1, last, NOW)
    assert (early.points, early.note) == (0, EarnNote.COOLDOWN)
    assert early.next_visit_at == last + timedelta(hours=2)
    on_time = earning_for(STAMPS, 500, 0, 1, NOW - timedelta(hours=2), NOW)
    assert (on_time.points, on_time.note) == (1, EarnNote.FULL)


def test_daily_cap_limits_what_one_day_earns() -> None:
    assert earning_for(STAMPS, 500, 0, 1, None, NOW).points == 1
    capped = earning_for(STAMPS, 500, 0, 2, None, NOW)
    assert (capped.points, capped.note) == (0, EarnNote.DAILY_CAP)
    program = Program(0, TIERS, daily_cap=100)
    partly = earning_for(program, 80_00, 0, 50, None, NOW)
    assert (partly.points, partly.note) == (50, EarnNote.DAILY_CAP)


def test_below_minimum_earns_nothing_and_says_why() -> None:
    result = earning_for(STAMPS, 299, 0, 0, None, NOW)
    assert (result.points, result.note) == (0, EarnNote.BELOW_MINIMUM)


def test_rules_are_recorded_with_each_earning() -> None:
    earned = earning_for(POINTS, 10_00, 60_000, 0, None, NOW)
    rules = earned.rules(POINTS)
    assert '"tier": "Silver"' in rules and '"multiplier": 150' in rules


# --- tiers, spending, stamps -------------------------------------------------------------


def test_thresholds_and_progress() -> None:
    assert POINTS.tier_for(0).name == "Bronze"
    assert POINTS.tier_for(149_999).name == "Silver"
    assert next_tier(POINTS, 46_000) == (TIERS[1], 4_000)  # "spend 40.00 more"
    assert next_tier(POINTS, 150_000) is None
    assert POINTS.tier_index("Renamed") == 0


def test_redeem_share_per_tier() -> None:
    program = Program(0, TIERS, point_value_minor=5, max_redeem_share=50)
    assert max_redeemable(program, 10_000, 40_00) == 400  # 50% of 40.00 at 0.05
    assert max_redeemable(program, 10_000, 40_00, TIERS[2]) == 800  # Gold pays it all
    assert max_redeemable(program, 300, 40_00, TIERS[2]) == 300  # never above the balance


def test_stamp_rewards_count_whole_cards() -> None:
    assert [stamp_rewards(STAMPS, n) for n in (0, 9, 10, 19, 20)] == [0, 0, 1, 1, 2]
    assert stamp_rewards(POINTS, 500) == 0


def test_tier_window() -> None:
    assert tier_window_start(POINTS, NOW) == NOW - timedelta(days=365)
    lifetime = Program(0, TIERS, tier_window=TierWindow.LIFETIME)
    assert tier_window_start(lifetime, NOW) is None


# --- dates: birthdays, expiry, DST ---------------------------------------------------------


def test_feb_29_birthdays_fall_on_feb_28_in_other_years() -> None:
    born = date(2000, 2, 29)
    assert birthday_this_year(born, 2027) == date(2027, 2, 28)
    assert birthday_this_year(born, 2028) == date(2028, 2, 29)
    assert birthday_this_year(date(1990, 7, 4), 2027) == date(2027, 7, 4)


def test_local_midnight_across_dst_changes() -> None:
    kyiv = ZoneInfo("Europe/Kyiv")
    # The night clocks go forward (29 March 2026) and back (25 October 2026).
    assert local_midnight(date(2026, 3, 29), kyiv) == datetime(2026, 3, 28, 22, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30), kyiv) == datetime(2026, 3, 29, 21, tzinfo=UTC)
    assert local_midnight(date(2026, 10, 26), kyiv) == datetime(2026, 10, 25, 22, tzinfo=UTC)
    day = local_midnight(date(2026, 3, 30), kyiv) - local_midnight(date(2026, 3, 29), kyiv)
    assert day == timedelta(hours=23)


def test_lot_expiry() -> None:
    assert lot_expiry(POINTS, NOW) is None
    assert lot_expiry(Program(0, TIERS, expiry_days=30), NOW) == NOW + timedelta(days=30)


# --- the program file ---------------------------------------------------------------------


def test_every_earning_type_parses() -> None:
    path = Path("p.toml")
    cashback = parse_program(
        {"earning": "cashback", "cashback_percent": 2.5, "point_value": 0.01}, path
    )
    assert (cashback.earning, cashback.cashback_hundredths) == (Earning.CASHBACK, 250)
    stamps = parse_program(
        {
            "earning": "stamps",
            "stamps_for_reward": 8,
            "stamp_reward": "Bagel",
            "visit_cooldown_minutes": 120,
            "daily_cap": 1,
        },
        path,
    )
    assert (stamps.stamps_for_reward, stamps.visit_cooldown) == (8, timedelta(hours=2))
    catalogue = parse_program({"rewards": [{"name": "Tea", "cost": 50}]}, path)
    assert catalogue.rewards == (Reward("Tea", 50),)
    tiers = parse_program(
        {"tiers": [{"name": "A", "spend": 0}, {"name": "B", "spend": 100, "multiplier": 1.5}]},
        path,
    )
    assert tiers.tiers[1].multiplier_hundredths == 150
    assert parse_program({}, path).earning is Earning.POINTS


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"earning": "miles"}, "earning"),
        ({"earning": "cashback", "point_value": 0.05}, "point_value"),
        ({"cashback_percent": 0}, "cashback_percent"),
        ({"earning": "stamps", "stamp_reward": ""}, "stamp_reward"),
        ({"stamps_for_reward": 0}, "stamps_for_reward"),
        ({"visit_cooldown_minutes": -5}, "visit_cooldown_minutes"),
        ({"daily_cap": 2.5}, "daily_cap"),
        ({"expiry_days": "30"}, "expiry_days"),
        ({"tier_window": "forever"}, "tier_window"),
        ({"rewards": [{"name": "Tea", "cost": 0}]}, "rewards[1].cost"),
        ({"rewards": [{"cost": 5}]}, "rewards[1].name"),
        ({"rewards": {"name": "Tea"}}, "rewards"),
        ({"tiers": [{"name": "A", "spend": 0, "multiplier": 0.5}]}, "tiers[1].multiplier"),
        ({"tiers": [{"name": "A", "spend": 0, "colour": "red"}]}, "tiers[1].colour"),
        (
            {"tiers": [{"name": "A", "spend": 0, "max_redeem_share": 101}]},
            "tiers[1].max_redeem_share",
        ),
        ({"cause": 5}, "cause"),
        ({"birthday_bonus": -1}, "birthday_bonus"),
        ({"referral_bonus": -5}, "referral_bonus"),
        (
            {"auto_offers": [{"when": "someday", "title": "x", "reward": "item"}]},
            "auto_offers[1].when",
        ),
        (
            {"auto_offers": [{"when": "welcome", "title": "x", "reward": "cash"}]},
            "auto_offers[1].reward",
        ),
        (
            {"auto_offers": [{"when": "welcome", "title": "", "reward": "item"}]},
            "auto_offers[1].title",
        ),
        (
            {"auto_offers": [{"when": "welcome", "title": "a", "reward": "item"}] * 2},
            "auto_offers[2].when",
        ),
        (
            {"auto_offers": [{"when": "win_back", "title": "a", "reward": "percent", "value": 0}]},
            "auto_offers[1].value",
        ),
        ({"referral_friend_bonus": "50"}, "referral_friend_bonus"),
        ({"referral_min_purchase": "ten"}, "referral_min_purchase"),
        ({"referral_monthly_cap": 2.5}, "referral_monthly_cap"),
    ],
)
def test_new_settings_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(ProgramError) as caught:
        parse_program(data, Path("p.toml"))
    assert caught.value.key == key


def test_referral_settings() -> None:
    off = parse_program({"referral_bonus": 0, "referral_friend_bonus": 0}, Path("p.toml"))
    assert not off.referrals
    on = parse_program({"referral_min_purchase": 25, "referral_monthly_cap": 3}, Path("p.toml"))
    assert on.referrals and on.referral_min_purchase_minor == 2500
    assert on.referral_monthly_cap == 3


def test_default_program_is_points() -> None:
    assert DEFAULT_PROGRAM.earning is Earning.POINTS and not DEFAULT_PROGRAM.stamps
