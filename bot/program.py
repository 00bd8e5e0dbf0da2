"""The loyalty program file (TOML): loaded once, validated with errors that name the key,
and the rules that follow from it as pure functions (no Telegram, no storage, no clock)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.i18n import N_

BUILTIN_TIER_NAMES = (N_("Bronze"), N_("Silver"), N_("Gold"))
MAX_POINTS = 1_000_000
MAX_MONEY_MINOR = 10**12
MAX_DAYS = 3650


class Earning(StrEnum):
    POINTS = "points"
    CASHBACK = "cashback"
    STAMPS = "stamps"


class TierWindow(StrEnum):
    ROLLING = "12 months"
    LIFETIME = "lifetime"


class ProgramError(Exception):
    """`problem` is an untranslated message; `params` fill its placeholders."""

    def __init__(self, path: Path, key: str, problem: str, /, **params: Any) -> None:
        super().__init__(f"{path}: {key}: {problem.format(**params)}")
        self.path = path
        self.key = key
        self.problem = problem
        self.params = params


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    spend_minor: int
    multiplier_hundredths: int = 100  # 1.5 -> 150
    max_redeem_share: int | None = None  # percent; None -> the program's


@dataclass(frozen=True, slots=True)
class Reward:
    name: str
    cost: int


class AutoTrigger(StrEnum):
    WELCOME = "welcome"  # once, after joining
    BIRTHDAY = "birthday"  # on the birthday, once a year
    WIN_BACK = "win_back"  # no purchase for `days`, once a month
    NEAR_TIER = "near_tier"  # within `amount` of the next tier, once a month
    EXPIRING = "expiring"  # points expire within `days`, once a month


@dataclass(frozen=True, slots=True)
class AutoOffer:
    trigger: AutoTrigger
    title: str
    kind: str  # an OfferKind value
    value: int
    valid_days: int
    days: int = 30  # win_back and expiring
    amount_minor: int = 50_00  # near_tier


@dataclass(frozen=True, slots=True)
class Program:
    welcome_bonus: int
    tiers: tuple[Tier, ...]
    earning: Earning = Earning.POINTS
    earn_rate_hundredths: int = 100  # points per 1.00 of purchase, x100 (1.5 -> 150)
    cashback_hundredths: int = 500  # percent of a purchase returned, x100 (2.5% -> 250)
    stamps_for_reward: int = 10
    stamp_reward: str = ""  # the free item; empty when the reward is a discount
    stamp_reward_discount_minor: int = 0
    min_purchase_minor: int = 0
    max_purchase_minor: int = 100_000_00
    visit_cooldown: timedelta = timedelta(0)
    daily_cap: int = 0  # most points (stamps) one customer earns in a day; 0 = no cap
    point_value_minor: int = 5  # what one point takes off a bill when spent
    max_redeem_share: int = 50  # percent of a bill payable with points
    rewards: tuple[Reward, ...] = ()
    birthday_bonus: int = 0
    expiry_days: int = 0  # 0 = points never expire
    expiry_reminder_days: int = 14
    tier_window: TierWindow = TierWindow.ROLLING
    cause: str = ""
    referral_bonus: int = 50  # for the customer who invited, once the friend qualifies
    referral_friend_bonus: int = 50  # for the invited friend, on the same purchase
    referral_min_purchase_minor: int = 10_00  # the friend's first purchase must reach this
    referral_monthly_cap: int = 10  # paid referrals per referrer per calendar month
    auto_offers: tuple[AutoOffer, ...] = ()
    weekly_digest: bool = True
    alert_customer_operations: int = 10  # a day, per customer; 0 = no alert
    alert_cashier_operations: int = 300  # a day, per cashier; 0 = no alert

    @property
    def referrals(self) -> bool:
        return self.referral_bonus > 0 or self.referral_friend_bonus > 0

    def tier_for(self, spend_minor: int) -> Tier:
        reached = self.tiers[0]
        for tier in self.tiers:
            if spend_minor >= tier.spend_minor:
                reached = tier
        return reached

    def tier_index(self, name: str | None) -> int:
        """Position of a tier by name; an unknown (renamed) tier counts as the lowest."""
        for index, tier in enumerate(self.tiers):
            if tier.name == name:
                return index
        return 0

    @property
    def stamps(self) -> bool:
        return self.earning is Earning.STAMPS


DEFAULT_PROGRAM = Program(welcome_bonus=0, tiers=(Tier("Bronze", 0),))


# --- rules: pure functions of the program -------------------------------------------------


def base_earning(program: Program, bill_minor: int) -> int:
    """Points (or stamps) a bill earns before tiers, cooldown and caps; rounded down."""
    if bill_minor <= 0 or bill_minor < program.min_purchase_minor:
        return 0
    if program.earning is Earning.STAMPS:
        return 1
    if program.earning is Earning.CASHBACK:
        return bill_minor * program.cashback_hundredths // (10_000 * program.point_value_minor)
    return bill_minor * program.earn_rate_hundredths // 10_000


def points_for_purchase(program: Program, bill_minor: int) -> int:
    return base_earning(program, bill_minor)


class EarnNote(StrEnum):
    """Why a purchase earns less than its bill would: shown to the cashier."""

    FULL = "full"
    BELOW_MINIMUM = "below_minimum"
    COOLDOWN = "cooldown"
    DAILY_CAP = "daily_cap"


@dataclass(frozen=True, slots=True)
class Earned:
    points: int
    note: EarnNote
    tier: Tier
    multiplier_hundredths: int
    next_visit_at: datetime | None = None  # when the cooldown ends

    def rules(self, program: Program) -> str:
        """The rules this earning was made under, recorded with the ledger entry."""
        return json.dumps(
            {
                "earning": program.earning.value,
                "rate": program.earn_rate_hundredths,
                "cashback": program.cashback_hundredths,
                "point_value": program.point_value_minor,
                "tier": self.tier.name,
                "multiplier": self.multiplier_hundredths,
                "expiry_days": program.expiry_days,
                "note": self.note.value,
            },
            sort_keys=True,
        )


def earning_for(
    program: Program,
    bill_minor: int,
    spend_minor: int,
    earned_today: int,
    last_visit_at: datetime | None,
    now: datetime,
) -> Earned:
    """What a purchase earns for this customer now: tier multiplier, cooldown, daily cap.

    `spend_minor` is the customer's spend in the tier window before this purchase,
    `earned_today` what purchases earned them since the shop's midnight, and
    `last_visit_at` the time of their last purchase that earned anything.
    """
    tier = program.tier_for(spend_minor)
    multiplier = 100 if program.stamps else tier.multiplier_hundredths
    base = base_earning(program, bill_minor)
    if base == 0:
        return Earned(0, EarnNote.BELOW_MINIMUM, tier, multiplier)
    if last_visit_at is not None and program.visit_cooldown:
        ends = last_visit_at + program.visit_cooldown
        if now < ends:
            return Earned(0, EarnNote.COOLDOWN, tier, multiplier, ends)
    points = base * multiplier // 100
    if program.daily_cap and earned_today + points > program.daily_cap:
        return Earned(
            max(0, program.daily_cap - earned_today), EarnNote.DAILY_CAP, tier, multiplier
        )
    return Earned(points, EarnNote.FULL, tier, multiplier)


def redeem_share(program: Program, tier: Tier) -> int:
    return tier.max_redeem_share if tier.max_redeem_share is not None else program.max_redeem_share


def max_redeemable(
    program: Program, balance: int, bill_minor: int, tier: Tier | None = None
) -> int:
    """The most points that may pay part of this bill: the balance and the share cap."""
    share = redeem_share(program, tier or program.tiers[0])
    cap = bill_minor * share // 100 // program.point_value_minor
    return max(0, min(balance, cap))


def points_value_minor(program: Program, points: int) -> int:
    return points * program.point_value_minor


def reversal_points(
    earned: int, bill_minor: int, refunded_before_minor: int, refund_minor: int
) -> int:
    """Points to take back for refunding `refund_minor` of a purchase, pro rata.

    Computed on the cumulative refunded amount, so partial refunds that add up to the whole
    bill take back exactly what was earned, never more.
    """
    if bill_minor <= 0:
        return 0
    total_after = min(bill_minor, refunded_before_minor + refund_minor)
    return earned * total_after // bill_minor - earned * refunded_before_minor // bill_minor


def next_tier(program: Program, spend_minor: int) -> tuple[Tier, int] | None:
    """The next tier up and how much more must be spent to reach it; None at the top."""
    for tier in program.tiers:
        if tier.spend_minor > spend_minor:
            return tier, tier.spend_minor - spend_minor
    return None


def tier_window_start(program: Program, now: datetime) -> datetime | None:
    """Spend since this moment counts for tiers; None means since the customer joined."""
    if program.tier_window is TierWindow.LIFETIME:
        return None
    return now - timedelta(days=365)


def stamp_rewards(program: Program, stamps: int) -> int:
    """Whole rewards a stamp count pays for."""
    return stamps // program.stamps_for_reward if program.stamps else 0


def lot_expiry(program: Program, earned_at: datetime) -> datetime | None:
    if program.expiry_days <= 0:
        return None
    return earned_at + timedelta(days=program.expiry_days)


def birthday_this_year(born: date, year: int) -> date:
    """The day a birthday is celebrated in `year`: Feb 29 falls on Feb 28 in other years."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def local_midnight(day: date, zone: Any) -> datetime:
    """The first moment of a local day, as an aware UTC time (correct across DST changes)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


# --- the program file ---------------------------------------------------------------------

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
    except InvalidOperation:
        raise ValueError(value) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(value)
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
            options = ", ".join(f'"{c.value}"' for c in choices)  # type: ignore[attr-defined]
            raise self.fail(key, N_("must be one of {options}"), options=options) from None

    def tables(self, key: str, default: list[Any]) -> list[dict[str, Any]]:
        value = self.data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(key, N_("must be a list of [[{key}]] tables"), key=key)
        return value


def _tiers(reader: _Reader) -> tuple[Tier, ...]:
    raw_tiers = reader.tables("tiers", [{"name": "Bronze", "spend": 0}])
    if not raw_tiers:
        raise reader.fail("tiers", N_("must be a list of [[{key}]] tables"), key="tiers")
    tiers: list[Tier] = []
    for index, raw in enumerate(raw_tiers, start=1):
        item = _Reader(raw, reader.path, f"tiers[{index}].")
        name = item.text("name", "", limit=32, required=True)
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
    rewards = []
    for index, raw in enumerate(reader.tables("rewards", []), start=1):
        item = _Reader(raw, reader.path, f"rewards[{index}].")
        name = item.text("name", "", limit=32, required=True)
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
