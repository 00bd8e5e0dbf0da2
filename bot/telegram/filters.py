"""Filters: what people type or tap in any of the bot's languages, checked on the event loop."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.magic_filter import MagicFilter

from bot.i18n import LANGUAGES, CatalogI18n


class MenuText(Filter):
    """Matches a reply-keyboard label in every language, so an old keyboard keeps working."""

    def __init__(self, i18n: CatalogI18n, *labels: str) -> None:
        self.texts = frozenset(
            i18n.gettext(label, locale=language) for label in labels for language in LANGUAGES
        ) | frozenset(labels)

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and message.text.strip() in self.texts


class OnLoop(Filter):
    """A magic filter (`F...`) checked on the event loop.

    aiogram runs every filter that is a plain callable, `F` expressions included, through
    `asyncio.to_thread`; a thread hop per check costs far more than the check itself, and the
    bot checks several per update. Every filter of ours is a coroutine (a test enforces it).
    """

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)


PRIVATE_CHAT = OnLoop(F.chat.type == "private")


class OutsidePrivateChat(Filter):
    """A button pressed on a message outside a private chat with the bot (a group, a
    channel), or on one whose chat the bot is not told (an inline message)."""

    async def __call__(self, query: CallbackQuery) -> bool:
        return query.message is None or query.message.chat.type != ChatType.PRIVATE
