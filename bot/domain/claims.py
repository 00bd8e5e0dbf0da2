"""Claiming a card brought over from plastic (or opened at the till for a walk-in): the
customer proves the card is theirs by sharing their own phone number in Telegram.

The claimant's Telegram account moves onto the unclaimed card in one storage transaction,
which keeps its entries, tier and spend; the card they had just been given is retired into
it, its points (the welcome bonus, say) carried over by a pair of claim entries. So there is
one welcome bonus, balance == sum of entries on both rows, and a repeated claim finds the
card already claimed and books nothing. A typed card number alone never moves anything.
"""

from __future__ import annotations

import phonenumbers

from bot.domain import standing
from bot.domain.context import Context
from bot.domain.imports import normalize_legacy
from bot.domain.parsing import parse_phone
from bot.domain.tokens import new_card_identity, normalize_card_number
from storage import ClaimResult, Customer


async def claim_by_phone(context: Context, customer: Customer, phone: str) -> ClaimResult | None:
    """Claim the unclaimed card holding `phone` (already checked to be the sender's own);
    None when there is none, which changes nothing. Raises `BookedByClaimant` when the
    claimant booked on that card themselves (a cashier's own phone): an owner decides."""
    card = await context.storage.unclaimed_by_phone(phone)
    if card is None or card.id == customer.id:
        return None
    result = await context.storage.claim_card(customer.id, card.id, phone, context.now())
    if result is None:
        return None
    # The tier the card's spend now reaches (its own and what the claimant brought).
    program = context.program
    reached = program.tier_for((await standing.standing(context, result.customer)).spend_minor)
    if program.tier_index(reached.name) > program.tier_index(result.customer.tier):
        await context.storage.set_tier(result.customer.id, reached.name)
        fresh = await context.storage.customer(result.customer.id)
        if fresh is not None:
            result = ClaimResult(fresh, result.legacy_number, result.carried)
    return result


async def open_walk_in(context: Context, phone: str) -> tuple[Customer, bool]:
    """An unclaimed card for a phone nobody has yet, opened by a cashier at the till."""
    return await context.storage.create_walk_in(
        phone, new_card_identity, context.program.tiers[0].name, context.now()
    )


async def find_by_legacy_number(context: Context, text: str) -> list[Customer] | None:
    """The card with this old plastic number: '#004512' is always one (found or not);
    plain digits only when a card has them, else None (a phone, an amount)."""
    legacy = normalize_legacy(text)
    marked = text.startswith("#")
    if not legacy.isalnum():
        return [] if marked else None
    found = await context.storage.customer_by_legacy_number(legacy)
    if found is not None:
        return [found]
    return [] if marked else None


def walk_in_phone(context: Context, text: str) -> str | None:
    """The phone a cashier typed (as the desk reads one), for a new card; None otherwise."""
    compact = text.strip()
    if normalize_card_number(compact) is not None or compact.startswith("#"):
        return None
    phone = parse_phone(compact, context.phone_region)
    digits = sum(c.isdigit() for c in compact)
    return phone if phone is not None and (compact.startswith("+") or digits >= 9) else None


def international(phone: str) -> str:
    """'+380671234567' -> '+380 67 123 4567': international, as phonenumbers writes it."""
    number = phonenumbers.parse(phone, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
