"""Where a customer stands in the program (tier, progress, stamps, expiring points), and the
grants that follow from the program: welcome, tier changes, birthdays, expiry, donations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.program import (
    AutoOffer,
    AutoTrigger,
    Earned,
    Program,
    Tier,
    birthday_this_year,
    earning_for,
    local_midnight,
    lot_expiry,
    next_tier,
    tier_window_start,
)
from bot.shop import Shop
from storage import (
    Audience,
    Booking,
    Customer,
    EarningContext,
    ExpiringPoints,
    Offer,
    OfferKind,
    Segment,
)
from storage.sqlite import utcnow


@dataclass(frozen=True, slots=True)
class Standing:
    tier: Tier
    spend_minor: int
    next: tuple[Tier, int] | None  # the next tier and what is left to spend for it


def today_starts(shop: Shop, now: datetime) -> datetime:
    return local_midnight(now.astimezone(shop.settings.timezone).date(), shop.settings.timezone)


def current_tier(program: Program, customer: Customer) -> Tier:
    """The tier in force: raised at once on a purchase, lowered by the daily review."""
    return program.tiers[program.tier_index(customer.tier)]


async def standing(shop: Shop, customer: Customer) -> Standing:
    now = utcnow()
    context = await shop.storage.earning_context(
        customer.id, tier_window_start(shop.program, now), today_starts(shop, now)
    )
    spend = context.spend_minor
    return Standing(current_tier(shop.program, customer), spend, next_tier(shop.program, spend))


async def purchase_earning(shop: Shop, customer: Customer, bill_minor: int) -> Earned:
    now = utcnow()
    context = await shop.storage.earning_context(
        customer.id, tier_window_start(shop.program, now), today_starts(shop, now)
    )
    return earning_in(shop.program, customer, bill_minor, context, now)


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


def expiry_from_now(program: Program) -> datetime | None:
    return lot_expiry(program, utcnow())


async def review_upgrade(shop: Shop, customer_id: int) -> Tier | None:
    """After a purchase: raise the tier at once when spend reached a higher one."""
    customer = await shop.storage.customer(customer_id)
    if customer is None:
        return None
    reached = (await standing(shop, customer)).spend_minor
    tier = shop.program.tier_for(reached)
    if shop.program.tier_index(tier.name) > shop.program.tier_index(customer.tier):
        await shop.storage.set_tier(customer.id, tier.name)
        return tier
    return None


async def review_downgrades(shop: Shop) -> list[tuple[Customer, Tier]]:
    """The daily review: customers whose window spend fell below their tier move down
    to the tier it still reaches. Returns who moved and where."""
    lower: list[tuple[Customer, Tier]] = []
    for customer, spend in await shop.storage.spends(tier_window_start(shop.program, utcnow())):
        reached = shop.program.tier_for(spend)
        held = shop.program.tier_index(customer.tier)
        if customer.tier is None or shop.program.tier_index(reached.name) < held:
            lower.append((customer, reached))
    # One transaction for the whole review: one write per customer cost a disk flush each,
    # seconds for a shop whose customers have no tier recorded yet (an imported list).
    moved = await shop.storage.move_tiers([(c.id, c.tier, tier.name) for c, tier in lower])
    return [(c, tier) for c, tier in lower if c.id in moved and c.tier is not None]


async def grant_birthdays(shop: Shop, day: date) -> list[tuple[Customer, Booking]]:
    """Birthday bonuses for one local day; the operation id (customer, year) makes a second
    run, a restart or a caught-up day grant nothing twice, and a customer who deleted their
    card and joined again gets nothing the year they already had one."""
    if shop.program.birthday_bonus <= 0:
        return []
    granted = []
    for customer in await shop.storage.birthday_customers(day.month, day.day):
        if customer.birthday is None or birthday_this_year(customer.birthday, day.year) != day:
            continue
        booking = await shop.storage.grant_birthday(
            customer.id,
            shop.program.birthday_bonus,
            day.year,
            expires_at=expiry_from_now(shop.program),
        )
        if booking is not None and booking.created:
            granted.append((customer, booking))
    return granted


async def expiry_reminders(shop: Shop) -> list[ExpiringPoints]:
    """Points expiring within the reminder window that nobody has been told about yet."""
    # Lots earned under an earlier program keep their expiry, so reminders run whenever a
    # reminder window is set, even if expiry is now off.
    days = shop.program.expiry_reminder_days
    if days <= 0:
        return []
    now = utcnow()
    due = []
    for item in await shop.storage.expiring(now, now + timedelta(days=days)):
        period = item.expires_at.astimezone(shop.settings.timezone).date().isoformat()
        if await shop.storage.claim_mark(item.customer.id, "expiry_reminder", period):
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
    shop: Shop, auto: AutoOffer, today: date
) -> tuple[list[Customer], str]:
    """Who an automatic offer is due for today, and the period it is granted once in."""
    now = utcnow()
    month = f"{today.year}-{today.month:02d}"
    if auto.trigger is AutoTrigger.WELCOME:
        found = await shop.storage.audience_customers(Audience(Segment.NEW, "2"), now)
        return found, "once"
    if auto.trigger is AutoTrigger.BIRTHDAY:
        found = [
            c
            for c in await shop.storage.birthday_customers(today.month, today.day)
            if c.birthday and birthday_this_year(c.birthday, today.year) == today
        ]
        return [c for c in found if reachable(c)], str(today.year)
    if auto.trigger is AutoTrigger.WIN_BACK:
        audience = Audience(Segment.LAPSED, str(auto.days))
        return await shop.storage.audience_customers(audience, now), month
    if auto.trigger is AutoTrigger.EXPIRING:
        audience = Audience(Segment.EXPIRING, str(auto.days))
        return await shop.storage.audience_customers(audience, now), month
    close = []
    for customer, spend in await shop.storage.spends(tier_window_start(shop.program, now)):
        upcoming = next_tier(shop.program, spend)
        if upcoming is not None and upcoming[1] <= auto.amount_minor and reachable(customer):
            close.append(customer)
    return close, month


async def grant_auto_offers(shop: Shop, today: date) -> list[tuple[Customer, Offer]]:
    """Every automatic offer due today, each at most once per period per customer (marks)."""
    granted: list[tuple[Customer, Offer]] = []
    for auto in shop.program.auto_offers:
        candidates, period = await auto_offer_candidates(shop, auto, today)
        due = [
            c
            for c in candidates
            if await shop.storage.claim_mark(c.id, f"auto_offer:{auto.trigger.value}", period)
        ]
        if not due:
            continue
        start = local_midnight(today, shop.settings.timezone)
        offer = await shop.storage.create_offer_for(
            auto.title,
            OfferKind(auto.kind),
            auto.value,
            start,
            start + timedelta(days=auto.valid_days),
            [c.id for c in due],
        )
        granted += [(customer, offer) for customer in due]
    return granted
