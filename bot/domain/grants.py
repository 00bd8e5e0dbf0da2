"""The grants that follow from the program over time: tier changes, birthdays, expiry
reminders and automatic offers. Each is keyed (by operation id or by a mark), so a second
run, a restart or a caught-up day grants nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.context import Context
from bot.domain.program.model import AutoOffer, AutoTrigger, Tier
from bot.domain.program.rules import (
    birthday_this_year,
    local_midnight,
    next_tier,
    tier_window_start,
)
from bot.domain.standing import expiry_from_now, standing
from storage import (
    Audience,
    Booking,
    Customer,
    ExpiringPoints,
    Offer,
    OfferKind,
    Segment,
)


async def review_upgrade(context: Context, customer_id: int) -> Tier | None:
    """After a purchase: raise the tier at once when spend reached a higher one."""
    program, storage = context.program, context.storage
    customer = await storage.customer(customer_id)
    if customer is None:
        return None
    reached = (await standing(context, customer)).spend_minor
    tier = program.tier_for(reached)
    if program.tier_index(tier.name) > program.tier_index(customer.tier):
        await storage.set_tier(customer.id, tier.name)
        return tier
    return None


async def review_downgrades(context: Context) -> list[tuple[Customer, Tier]]:
    """The daily review: customers whose window spend fell below their tier move down
    to the tier it still reaches. Returns who moved and where."""
    program, storage = context.program, context.storage
    lower: list[tuple[Customer, Tier]] = []
    for customer, spend in await storage.spends(tier_window_start(program, context.now())):
        reached = program.tier_for(spend)
        held = program.tier_index(customer.tier)
        if customer.tier is None or program.tier_index(reached.name) < held:
            lower.append((customer, reached))
    # One transaction for the whole review: one write per customer cost a disk flush each,
    # seconds for a shop whose customers have no tier recorded yet (an imported list).
    moved = await storage.move_tiers([(c.id, c.tier, tier.name) for c, tier in lower])
    return [(c, tier) for c, tier in lower if c.id in moved and c.tier is not None]


async def grant_birthdays(context: Context, day: date) -> list[tuple[Customer, Booking]]:
    """Birthday bonuses for one local day; the operation id (customer, year) makes a second
    run, a restart or a caught-up day grant nothing twice, and a customer who deleted their
    card and joined again gets nothing the year they already had one."""
    program, storage = context.program, context.storage
    if program.birthday_bonus <= 0:
        return []
    granted = []
    for customer in await storage.birthday_customers(day.month, day.day):
        if customer.birthday is None or birthday_this_year(customer.birthday, day.year) != day:
            continue
        booking = await storage.grant_birthday(
            customer.id,
            program.birthday_bonus,
            day.year,
            expires_at=expiry_from_now(context),
        )
        if booking is not None and booking.created:
            granted.append((customer, booking))
    return granted


async def expiry_reminders(context: Context) -> list[ExpiringPoints]:
    """Points expiring within the reminder window that nobody has been told about yet."""
    # Lots earned under an earlier program keep their expiry, so reminders run whenever a
    # reminder window is set, even if expiry is now off.
    days = context.program.expiry_reminder_days
    if days <= 0:
        return []
    now = context.now()
    due = []
    for item in await context.storage.expiring(now, now + timedelta(days=days)):
        period = item.expires_at.astimezone(context.zone).date().isoformat()
        if await context.storage.claim_mark(item.customer.id, "expiry_reminder", period):
            due.append(item)
    return due


def reachable(customer: Customer) -> bool:
    return (
        customer.promotions
        and not customer.forgotten
        and customer.telegram_id is not None
        and customer.unreachable_at is None
    )


async def auto_offer_candidates(
    context: Context, auto: AutoOffer, today: date
) -> tuple[list[Customer], str]:
    """Who an automatic offer is due for today, and the period it is granted once in."""
    storage = context.storage
    now = context.now()
    month = f"{today.year}-{today.month:02d}"
    if auto.trigger is AutoTrigger.WELCOME:
        found = await storage.audience_customers(Audience(Segment.NEW, "2"), now)
        return found, "once"
    if auto.trigger is AutoTrigger.BIRTHDAY:
        found = [
            c
            for c in await storage.birthday_customers(today.month, today.day)
            if c.birthday and birthday_this_year(c.birthday, today.year) == today
        ]
        return [c for c in found if reachable(c)], str(today.year)
    if auto.trigger is AutoTrigger.WIN_BACK:
        audience = Audience(Segment.LAPSED, str(auto.days))
        return await storage.audience_customers(audience, now), month
    if auto.trigger is AutoTrigger.EXPIRING:
        audience = Audience(Segment.EXPIRING, str(auto.days))
        return await storage.audience_customers(audience, now), month
    close = []
    for customer, spend in await storage.spends(tier_window_start(context.program, now)):
        upcoming = next_tier(context.program, spend)
        if upcoming is not None and upcoming[1] <= auto.amount_minor and reachable(customer):
            close.append(customer)
    return close, month


async def grant_auto_offers(context: Context, today: date) -> list[tuple[Customer, Offer]]:
    """Every automatic offer due today, each at most once per period per customer (marks)."""
    storage = context.storage
    granted: list[tuple[Customer, Offer]] = []
    for auto in context.program.auto_offers:
        candidates, period = await auto_offer_candidates(context, auto, today)
        due = [
            c
            for c in candidates
            if await storage.claim_mark(c.id, f"auto_offer:{auto.trigger.value}", period)
        ]
        if not due:
            continue
        start = local_midnight(today, context.zone)
        offer = await storage.create_offer_for(
            auto.title,
            OfferKind(auto.kind),
            auto.value,
            start,
            start + timedelta(days=auto.valid_days),
            [c.id for c in due],
        )
        granted += [(customer, offer) for customer in due]
    return granted
