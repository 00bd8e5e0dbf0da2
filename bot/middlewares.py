"""Outer middlewares: who is writing (the stored customer) before locale and handlers run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from storage import Storage
from storage.sqlite import utcnow

TOUCH_EVERY = timedelta(minutes=5)


def display_name(user: User) -> str:
    return user.full_name.strip()[:64]


class CustomerMiddleware(BaseMiddleware):
    """Puts the sender's customer record (or None) into handler data as `customer`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        customer = await self.storage.customer_by_telegram(user.id) if user else None
        if customer and user:
            name = display_name(user)
            # Write "last seen" at most every few minutes: a write per update would be wasteful.
            if name != customer.name or utcnow() - customer.last_seen_at > TOUCH_EVERY:
                await self.storage.touch(customer.id, name)
        data["customer"] = customer
        return await handler(event, data)
