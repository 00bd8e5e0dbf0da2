"""Last-resort handlers: anything no other router took gets a helpful answer."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.handlers.replies import stale
from bot.i18n import _
from bot.shop import Shop
from bot.telegram.notify import speaking

log = logging.getLogger(__name__)
# Telegram errors that only mean the user was quicker than the bot: nothing to tell anyone.
HARMLESS = ("message is not modified", "query is too old", "query id is invalid")


async def stale_button(query: CallbackQuery) -> None:
    # Forged, outdated or foreign callback data lands here and changes nothing.
    await stale(query)


async def unknown(message: Message) -> None:
    await message.answer(_("Sorry, I did not understand that. Send /help to see what I can do."))


async def failed(event: ErrorEvent, shop: Shop) -> bool:
    """Log the failure with the update id; tell the user, in their language, without
    internals. The update is treated as handled so polling goes on."""
    error = event.exception
    if isinstance(error, TelegramBadRequest) and any(
        text in error.message.lower() for text in HARMLESS
    ):
        log.debug("update %s: %s", event.update.update_id, error.message)
        return True
    log.error("update %s failed: %s", event.update.update_id, error, exc_info=error)
    query, message = event.update.callback_query, event.update.message
    user = query.from_user if query else (message.from_user if message else None)
    try:
        customer = await shop.storage.customer_by_telegram(user.id) if user else None
        language = customer.language if customer else (user.language_code if user else None)
        # The update's own language context is gone by now: open one for the reply.
        with speaking(shop, language):
            sorry = _("Sorry, something went wrong on our side. Please try again in a moment.")
        if query is not None:
            await query.answer(sorry, show_alert=True)
        elif message is not None:
            await message.answer(sorry)
    except Exception:
        log.warning("could not tell the user about update %s", event.update.update_id)
    return True


def build_router() -> Router:
    router = Router(name="common")
    router.callback_query.register(stale_button)
    router.message.register(unknown)
    router.errors.register(failed)
    return router
