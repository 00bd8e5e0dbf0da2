"""The sender's card, made on their first contact (whatever they first sent)."""

from __future__ import annotations

from aiogram.types import User

from bot.domain import standing as loyalty
from bot.domain.tokens import new_card_identity
from bot.shop import Shop
from bot.telegram.middlewares import display_name
from storage import Customer


async def ensure_customer(
    shop: Shop,
    user: User,
    customer: Customer | None,
    referrer: Customer | None = None,
    source: str = "link",
    join_source: str | None = None,
) -> Customer:
    """`join_source`: a poster's source tag, recorded only for a card made now."""
    if customer is not None:
        return customer
    invited = referrer is not None and shop.program.referrals and referrer.telegram_id != user.id
    registered, created = await shop.storage.register_customer(
        telegram_id=user.id,
        name=display_name(user),
        language=shop.i18n.current_locale,
        welcome_points=shop.program.welcome_bonus,
        new_card=new_card_identity,
        welcome_expires_at=loyalty.expiry_from_now(shop.context),
        tier=shop.program.tiers[0].name,
        referrer_id=referrer.id if invited and referrer else None,
        referral_source=source,
    )
    if created and join_source is not None:
        # A second, separate write: registration stays one concern of its own, and should
        # the bot stop in between, the customer is only counted as "direct" in /stats.
        await shop.storage.record_join_source(registered.id, join_source)
    return registered
