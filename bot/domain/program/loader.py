"""The program file (TOML): loaded once at start-up, validated with errors that name the key."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.domain.marks import N_
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


class ProgramError(Exception):
    """`problem` is an untranslated message; `params` fill its placeholders."""

    def __init__(self, path: Path, key: str, problem: str, /, **params: Any) -> None:
        super().__init__(f"{path}: {key}: {problem.format(**params)}")
        self.path = path
        self.key = key
        self.problem = problem
        self.params = params


KNOWN_KEYS = frozenset(
    {
        "welcome_bonus",
        "birthday_bonus",
        "tiers",
        "tier_window",
        "earning",
        "earn_rate",
        "cashback_percent",
        "stamps_for_reward",
        "stamp_reward",
        "stamp_reward_discount",
        "min_purchase",
        "max_purchase",
        "visit_cooldown_minutes",
        "daily_cap",
        "point_value",
        "max_redeem_share",
        "rewards",
        "expiry_days",
        "expiry_reminder_days",
        "cause",
        "referral_bonus",
        "referral_friend_bonus",
        "referral_min_purchase",
        "referral_monthly_cap",
        "auto_offers",
        "weekly_digest",
        "alert_customer_operations",
        "alert_cashier_operations",
    }
)
AMOUNT_HINT = N_("must be an amount like 500 or 499.99")


def money_to_minor(value: Any) -> int:
    """12 -> 1200, 12.5 or "12.50" -> 1250; anything else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(value)
    if isinstance(value, str) and not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", value):
        raise ValueError(value)
    try:
        amount = Decimal(str(value))
        # quantize itself fails on a number too large for the context (a TOML 1e30)
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError(value)
    except InvalidOperation:
        raise ValueError(value) from None
    minor = int(amount * 100)
    if minor > MAX_MONEY_MINOR:
        raise ValueError(value)
    return minor


class _Reader:
    """Typed access to one TOML table; every failure names the full key."""

    def __init__(self, data: dict[str, Any], path: Path, prefix: str = "") -> None:
        self.data = data
        self.path = path
        self.prefix = prefix

    def fail(self, field: str, problem: str, /, **params: Any) -> ProgramError:
        return ProgramError(self.path, self.prefix + field, problem, **params)

    def whole(self, key: str, default: int, low: int = 0, high: int = MAX_POINTS) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(
                key, N_("must be a whole number from {min} to {max}"), min=low, max=high
            )
        return value

    def money(self, key: str, default: Any) -> int:
        try:
            return money_to_minor(self.data.get(key, default))
        except ValueError:
            raise self.fail(key, AMOUNT_HINT) from None

    def text(self, key: str, default: str, limit: int = 64, required: bool = False) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
            raise self.fail(key, N_("must be a text of 1 to {max} characters"), max=limit)
        return value.strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, N_("must be true or false"))
        return value

    def choice(self, key: str, default: str, choices: type[StrEnum]) -> Any:
        value = self.data.get(key, default)
        try:
            return choices(value)
        except ValueError:
            options = ", ".join(f'"{c.value}"' for c in choices)
            raise self.fail(key, N_("must be one of {options}"), options=options) from None

    def tables(self, key: str, default: list[Any]) -> list[dict[str, Any]]:
        value = self.data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(key, N_("must be a list of [[{key}]] tables"), key=key)
        return value


MAX_TIERS = 10  # tiers and rewards are listed in one message and as buttons
MAX_REWARDS = 30


def _tiers(reader: _Reader) -> tuple[Tier, ...]:
    raw_tiers = reader.tables("tiers", [{"name": "Bronze", "spend": 0}])
    if not raw_tiers:
        raise reader.fail("tiers", N_("must be a list of [[{key}]] tables"), key="tiers")
    if len(raw_tiers) > MAX_TIERS:
        raise reader.fail("tiers", N_("must have at most {max} tiers"), max=MAX_TIERS)
    tiers: list[Tier] = []
    for index, raw in enumerate(raw_tiers, start=1):
        item = _Reader(raw, reader.path, f"tiers[{index}].")
        name = item.text("name", "", limit=32, required=True)
        if any(tier.name == name for tier in tiers):  # customers hold their tier by name
            raise item.fail("name", N_("is used by another tier"))
        spend = item.money("spend", 0)
        if tiers and spend <= tiers[-1].spend_minor:
            raise item.fail("spend", N_("must be higher than the tier before"))
        if not tiers and spend != 0:
            raise item.fail("spend", N_("the first tier must start at 0"))
        multiplier = item.money("multiplier", 1)
        if not 100 <= multiplier <= 1000:
            raise item.fail("multiplier", N_("must be a number from 1 to 10, like 1.5"))
        share = raw.get("max_redeem_share")
        if share is not None:
            share = item.whole("max_redeem_share", 0, 0, 100)
        unknown = set(raw) - {"name", "spend", "multiplier", "max_redeem_share"}
        if unknown:
            raise item.fail(sorted(unknown)[0], N_("is not a known setting"))
        tiers.append(Tier(name, spend, multiplier, share))
    return tuple(tiers)


def _rewards(reader: _Reader) -> tuple[Reward, ...]:
    rewards: list[Reward] = []
    raw_rewards = reader.tables("rewards", [])
    if len(raw_rewards) > MAX_REWARDS:
        raise reader.fail("rewards", N_("must have at most {max} rewards"), max=MAX_REWARDS)
    for index, raw in enumerate(raw_rewards, start=1):
        item = _Reader(raw, reader.path, f"rewards[{index}].")
        name = item.text("name", "", limit=32, required=True)
        if any(reward.name == name for reward in rewards):
            raise item.fail("name", N_("is used by another reward"))
        cost = item.whole("cost", 0, 1)
        unknown = set(raw) - {"name", "cost"}
        if unknown:
            raise item.fail(sorted(unknown)[0], N_("is not a known setting"))
        rewards.append(Reward(name, cost))
    return tuple(rewards)


OFFER_KINDS = ("percent", "discount", "points", "multiplier", "item")


def _auto_offers(reader: _Reader) -> tuple[AutoOffer, ...]:
    offers = []
    seen: set[AutoTrigger] = set()
    for index, raw in enumerate(reader.tables("auto_offers", []), start=1):
        item = _Reader(raw, reader.path, f"auto_offers[{index}].")
        trigger = item.choice("when", "", AutoTrigger)
        if trigger in seen:
            raise item.fail("when", N_("is used by another automatic offer"))
        seen.add(trigger)
        kind = raw.get("reward")
        if kind not in OFFER_KINDS:
            options = ", ".join(f'"{k}"' for k in OFFER_KINDS)
            raise item.fail("reward", N_("must be one of {options}"), options=options)
        if kind == "discount":
            value = item.money("value", 0)
        elif kind == "multiplier":
            value = item.money("value", 2)
            if not 110 <= value <= 1000:
                raise item.fail("value", N_("must be a number from 1 to 10, like 1.5"))
        elif kind == "item":
            value = 0
        else:
            value = item.whole("value", 0, 1, 100 if kind == "percent" else MAX_POINTS)
        unknown = set(raw) - {"when", "title", "reward", "value", "valid_days", "days", "amount"}
        if unknown:
            raise item.fail(sorted(unknown)[0], N_("is not a known setting"))
        offers.append(
            AutoOffer(
                trigger=trigger,
                title=item.text("title", "", limit=60, required=True),
                kind=kind,
                value=value,
                valid_days=item.whole("valid_days", 7, 1, 365),
                days=item.whole("days", 30, 1, MAX_DAYS),
                amount_minor=item.money("amount", 50),
            )
        )
    return tuple(offers)


def parse_program(data: dict[str, Any], path: Path) -> Program:
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise ProgramError(path, sorted(unknown)[0], N_("is not a known setting"))
    read = _Reader(data, path)
    earning = read.choice("earning", "points", Earning)
    rate = read.money("earn_rate", 1)
    cashback = read.money("cashback_percent", 5)
    if not 1 <= cashback <= 100_00:
        raise read.fail("cashback_percent", N_("must be a percentage from 0.01 to 100"))
    minimum = read.money("min_purchase", 0)
    maximum = read.money("max_purchase", 100_000)
    point_value = read.money("point_value", "0.05")
    if not 1 <= maximum <= MAX_MONEY_MINOR:
        raise read.fail("max_purchase", N_("must be more than 0"))
    if point_value < 1:
        raise read.fail("point_value", N_("must be at least 0.01"))
    if earning is Earning.CASHBACK and point_value not in (1, 100):
        raise read.fail("point_value", N_("must be 0.01 or 1.00 with cashback earning"))
    if minimum > maximum:
        raise read.fail("min_purchase", N_("must not be above max_purchase"))
    stamp_reward = read.text("stamp_reward", "")
    discount = read.money("stamp_reward_discount", 0)
    if earning is Earning.STAMPS and not stamp_reward and not discount:
        raise read.fail(
            "stamp_reward", N_("name the free item, or set stamp_reward_discount, for stamps")
        )
    reminder = read.whole("expiry_reminder_days", 14, 0, MAX_DAYS)
    return Program(
        welcome_bonus=read.whole("welcome_bonus", 0),
        birthday_bonus=read.whole("birthday_bonus", 0),
        tiers=_tiers(read),
        tier_window=read.choice("tier_window", TierWindow.ROLLING.value, TierWindow),
        earning=earning,
        earn_rate_hundredths=rate,
        cashback_hundredths=cashback,
        stamps_for_reward=read.whole("stamps_for_reward", 10, 1, 1000),
        stamp_reward=stamp_reward,
        stamp_reward_discount_minor=discount,
        min_purchase_minor=minimum,
        max_purchase_minor=maximum,
        visit_cooldown=timedelta(minutes=read.whole("visit_cooldown_minutes", 0, 0, 7 * 24 * 60)),
        daily_cap=read.whole("daily_cap", 0),
        point_value_minor=point_value,
        max_redeem_share=read.whole("max_redeem_share", 50, 0, 100),
        rewards=_rewards(read),
        expiry_days=read.whole("expiry_days", 0, 0, MAX_DAYS),
        expiry_reminder_days=reminder,
        cause=read.text("cause", ""),
        referral_bonus=read.whole("referral_bonus", 50),
        referral_friend_bonus=read.whole("referral_friend_bonus", 50),
        referral_min_purchase_minor=read.money("referral_min_purchase", 10),
        referral_monthly_cap=read.whole("referral_monthly_cap", 10, 0, 10_000),
        auto_offers=_auto_offers(read),
        weekly_digest=read.flag("weekly_digest", True),
        alert_customer_operations=read.whole("alert_customer_operations", 10, 0, 100_000),
        alert_cashier_operations=read.whole("alert_cashier_operations", 300, 0, 100_000),
    )


def load_program(path: Path) -> Program:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProgramError(path, "PROGRAM_FILE", N_("the file does not exist")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(path, "TOML", N_("is not valid TOML: {error}"), error=str(exc)) from None
    return parse_program(data, path)
