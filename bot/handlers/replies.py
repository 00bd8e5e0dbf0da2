"""Small shapes every role's handlers share: stale buttons, the pressed message, notices."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot
from aiogram.types import CallbackQuery, Message

from bot.notify import tell, tell_customer
from bot.shop import Shop
from bot.texts.common import stale_button
from storage import Customer


async def stale(query: CallbackQuery) -> None:
    """Answer a press on a button that no longer means anything; nothing changes."""
    await query.answer(stale_button(), show_alert=True)


def pressed(query: CallbackQuery) -> Message | None:
    """The message the pressed button sits under, when the bot can still edit or reply to
    it (Telegram sends an inaccessible stub for messages older than 48 hours)."""
    return query.message if isinstance(query.message, Message) else None


async def tell_text(
    bot: Bot, shop: Shop, customer: Customer, text: Callable[[], str]
) -> Message | None:
    """Send `text()`, rendered in the customer's language, without a keyboard."""
    return await tell_customer(bot, shop, customer, lambda: (text(), None))


async def tell_chat_text(
    bot: Bot, shop: Shop, chat_id: int, language: str | None, text: Callable[[], str]
) -> Message | None:
    """Send `text()`, rendered in `language`, to someone who may have no card (an owner)."""
    return await tell(bot, shop, chat_id, language, lambda: (text(), None))
