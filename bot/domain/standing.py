"""Where a customer stands in the program: the tier in force, spend in the tier window, the
next tier, and what a purchase earns them now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.domain.context import Context
from bot.domain.program.model import Program, Tier
from bot.domain.program.rules import (
    Earned,
    earning_for,
    local_midnight,
    lot_expiry,
    next_tier,
    tier_window_start,
)
from storage import Customer, EarningContext


@dataclass(frozen=True, slots=True)
class Standing:
    tier: Tier
    spend_minor: int
    next: tuple[Tier, int] | None  # the next tier and what is left to spend for it


def today_starts(zone: tzinfo, now: datetime) -> datetime:
    """The shop's last local midnight before `now`, in UTC."""
    return local_midnight(now.astimezone(zone).date(), zone)


def current_tier(program: Program, customer: Customer) -> Tier:
    """The tier in force: raised at once on a purchase, lowered by the daily review."""
    return program.tiers[program.tier_index(customer.tier)]


async def _earning_context(context: Context, customer: Customer, now: datetime) -> EarningContext:
    return await context.storage.earning_context(
        customer.id, tier_window_start(context.program, now), today_starts(context.zone, now)
    )


async def standing(context: Context, customer: Customer) -> Standing:
    program = context.program
    spend = (await _earning_context(context, customer, context.now())).spend_minor
    return Standing(current_tier(program, customer), spend, next_tier(program, spend))


async def purchase_earning(context: Context, customer: Customer, bill_minor: int) -> Earned:
    now = context.now()
    earning = await _earning_context(context, customer, now)
    return earning_in(context.program, customer, bill_minor, earning, now)


def earning_in(
    program: Program, customer: Customer, bill_minor: int, context: EarningContext, now: datetime
) -> Earned:
    """What a purchase earns given the customer's earning context (a pure rule: it also runs
    inside the booking transaction, against the context as it stands there)."""
    earned = earning_for(
        program, bill_minor, context.spend_minor, context.earned_today, context.last_earned_at, now
    )
    # The multiplier follows the tier in force (which can be above what recent spend
    # reached until the daily review lowers it).
    tier = current_tier(program, customer)
    if program.tier_index(tier.name) > program.tier_index(earned.tier.name):
        earned = earning_for(
            program, bill_minor, tier.spend_minor, context.earned_today, context.last_earned_at, now
        )
    return earned


def expiry_from_now(context: Context) -> datetime | None:
    """When points earned now expire; None when they never do."""
    return lot_expiry(context.program, context.now())
