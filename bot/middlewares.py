"""Outer middlewares: who is writing (the stored customer) before locale and handlers run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.roles import Role, role_for
from bot.views import counting_stamps
from storage import Storage
from storage.sqlite import utcnow

TOUCH_EVERY = timedelta(minutes=5)


def display_name(user: User) -> str:
    return user.full_name.strip()[:64]


class IdentityMiddleware(BaseMiddleware):
    """Puts the sender's customer record (or None) as `customer` and their current `role`
    into handler data, fresh for every update: a removed cashier loses access at once."""

    def __init__(self, storage: Storage, owner_ids: frozenset[int], stamps: bool = False) -> None:
        self.storage = storage
        self.owner_ids = owner_ids
        self.stamps = stamps

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        counting_stamps.set(self.stamps)  # scoped to this update's task
        user: User | None = data.get("event_from_user")
        if user is None:
            data["customer"], data["role"] = None, Role.CUSTOMER
            return await handler(event, data)
        customer, is_staff = await self.storage.identify(user.id)
        data["role"] = role_for(user.id, is_staff, self.owner_ids)
        if customer:
            name = display_name(user)
            # Write "last seen" at most every few minutes: a write per update would be wasteful.
            if name != customer.name or utcnow() - customer.last_seen_at > TOUCH_EVERY:
                await self.storage.touch(customer.id, name)
        data["customer"] = customer
        return await handler(event, data)
