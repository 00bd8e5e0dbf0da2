"""Small shapes every role's handlers share: stale buttons, the pressed message and the
answer put on it (whatever that message is), notices."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessage, Message

from bot.shop import Shop
from bot.telegram.notify import tell, tell_customer
from bot.texts.common import stale_button
from storage import Customer

TAG = re.compile(r"<[^>]*>")


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


def plain(html: str) -> str:
    """The text Telegram shows for our HTML: tags dropped, character references decoded
    (every value of ours in a message is escaped, so a `<` is always a tag)."""
    return unescape(TAG.sub("", html))


def shows(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether the message already shows this text and these buttons (a replayed press):
    an edit would change nothing, and Telegram refuses it."""
    if message.text != plain(text):
        return False
    if markup is None or message.reply_markup is None:
        return markup is message.reply_markup
    return markup.model_dump(exclude_none=True) == message.reply_markup.model_dump(
        exclude_none=True
    )


async def show(
    bot: Bot,
    chat_id: int,
    message: MaybeInaccessibleMessage | None,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Put `text` where the press happened: a text message is edited (unless it already
    shows exactly this); on anything else, such as the card's photo, whose caption is the
    card, or a message too old to be edited, the text comes as a new message."""
    if isinstance(message, Message) and message.text is not None:
        if not shows(message, text, markup):
            await message.edit_text(text, reply_markup=markup)
        return
    await bot.send_message(chat_id, text, reply_markup=markup)


async def drop_buttons(message: MaybeInaccessibleMessage | None) -> None:
    """Take the buttons off a message, if it still has any."""
    if isinstance(message, Message) and message.reply_markup is not None:
        await message.edit_reply_markup(reply_markup=None)
