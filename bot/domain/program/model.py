"""The loyalty program as a frozen value: tiers, rewards, earning, automatic offers.

Read from the program file by `loader`; the rules that follow from it live in `rules`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain.marks import N_

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
