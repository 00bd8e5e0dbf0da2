"""The program's rules as pure functions of their inputs (no Telegram, no storage, no clock):
what a purchase earns, what a bill may take, refunds, tiers, expiry, birthdays, local days."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.program.model import Earning, Program, Tier, TierWindow


def base_earning(program: Program, bill_minor: int) -> int:
    """Points (or stamps) a bill earns before tiers, cooldown and caps; rounded down."""
    if bill_minor <= 0 or bill_minor < program.min_purchase_minor:
        return 0
    if program.earning is Earning.STAMPS:
        return 1
    if program.earning is Earning.CASHBACK:
        return bill_minor * program.cashback_hundredths // (10_000 * program.point_value_minor)
    return bill_minor * program.earn_rate_hundredths // 10_000


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
