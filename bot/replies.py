"""Answering on the message a button was pressed on, whatever that message is."""

from __future__ import annotations

import re
from html import unescape

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, MaybeInaccessibleMessage, Message

TAG = re.compile(r"<[^>]*>")


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
