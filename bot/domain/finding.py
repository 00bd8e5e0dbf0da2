"""Finding the customer at the desk from what a cashier types: a card number, a phone, or
an old plastic card's number."""

from __future__ import annotations

from bot.domain import claims
from bot.domain.context import Context
from bot.domain.parsing import parse_phone
from bot.domain.tokens import normalize_card_number
from storage import Customer


async def find_customers(context: Context, text: str) -> list[Customer] | None:
    """Customers matching a typed card number or phone; None when the text is neither."""
    number = normalize_card_number(text)
    if number is not None:
        found = await context.storage.customer_by_card_number(number)
        return [found] if found else []
    compact = text.strip()
    if compact.startswith("#"):  # '#' always means an old plastic number
        return await claims.find_by_legacy_number(context, compact)
    # In the shop's country ('070 123 456' in North Macedonia) or international (+...).
    # A phone that is someone's wins over an old number written the same way.
    phone = parse_phone(compact, context.phone_region)
    digits = sum(c.isdigit() for c in compact)
    is_phone = phone is not None and (compact.startswith("+") or digits >= 9)
    if phone is not None and is_phone:
        by_phone = await context.storage.customers_by_phone(phone)
        if by_phone:
            return by_phone
    old_card = await claims.find_by_legacy_number(context, compact)
    if old_card is not None:
        return old_card
    return [] if is_phone else None
