"""Messages to someone other than the sender (a customer's receipt, an owner's notice),
written in the recipient's own language."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, Message

from bot.i18n import pick_language
from bot.shop import Shop
from storage import Customer

log = logging.getLogger(__name__)

Render = Callable[[], tuple[str, InlineKeyboardMarkup | None]]


@contextmanager
def speaking(shop: Shop, language: str | None) -> Iterator[None]:
    chosen = pick_language(language, None, shop.settings.default_locale)
    with shop.i18n.context(), shop.i18n.use_locale(chosen):
        yield


async def tell(
    bot: Bot, shop: Shop, chat_id: int, language: str | None, render: Render
) -> Message | None:
    """Send in the recipient's language; a blocked or vanished chat is logged, not raised."""
    with speaking(shop, language):
        text, markup = render()
    try:
        return await bot.send_message(chat_id, text, reply_markup=markup)
    except (TelegramForbiddenError, TelegramBadRequest) as error:
        log.info("could not message %s: %s", chat_id, error.message)
        return None


async def tell_customer(bot: Bot, shop: Shop, customer: Customer, render: Render) -> Message | None:
    if customer.telegram_id is None:
        return None
    return await tell(bot, shop, customer.telegram_id, customer.language, render)


async def edit_for(
    bot: Bot, shop: Shop, chat_id: int, message_id: int, language: str | None, render: Render
) -> None:
    with speaking(shop, language):
        text, markup = render()
    try:
        await bot.edit_message_text(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except (TelegramForbiddenError, TelegramBadRequest) as error:
        log.info("could not edit %s/%s: %s", chat_id, message_id, error.message)
