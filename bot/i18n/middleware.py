"""The locale of each update: the customer's saved choice, their Telegram app's language, or
the shop's default."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from bot.i18n import pick_language


class CustomerLocaleMiddleware(I18nMiddleware):
    """Chooses the locale from the stored customer (loaded earlier by IdentityMiddleware)."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        customer = data.get("customer")
        user: User | None = data.get("event_from_user")
        return pick_language(
            customer.language if customer else None,
            user.language_code if user else None,
            self.i18n.default_locale,
        )
