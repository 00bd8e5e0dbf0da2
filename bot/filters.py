"""Filters that match what people type or tap in any of the bot's languages."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message

from bot.i18n import LANGUAGES, CatalogI18n


class MenuText(Filter):
    """Matches a reply-keyboard label in every language, so an old keyboard keeps working."""

    def __init__(self, i18n: CatalogI18n, *labels: str) -> None:
        self.texts = frozenset(
            i18n.gettext(label, locale=language) for label in labels for language in LANGUAGES
        ) | frozenset(labels)

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and message.text.strip() in self.texts
