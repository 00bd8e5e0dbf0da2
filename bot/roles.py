"""Who may do what: roles are looked up on every update, never trusted from a button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters import Filter
from aiogram.types import TelegramObject, User

from storage import Storage


class Role(IntEnum):
    CUSTOMER = 0
    CASHIER = 1
    OWNER = 2


async def role_of(storage: Storage, owner_ids: frozenset[int], telegram_id: int) -> Role:
    if telegram_id in owner_ids:
        return Role.OWNER
    if await storage.staff_member(telegram_id) is not None:
        return Role.CASHIER
    return Role.CUSTOMER


class RoleMiddleware(BaseMiddleware):
    """Puts the sender's current `role` into handler data, fresh for every update."""

    def __init__(self, storage: Storage, owner_ids: frozenset[int]) -> None:
        self.storage = storage
        self.owner_ids = owner_ids

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["role"] = (
            await role_of(self.storage, self.owner_ids, user.id) if user else Role.CUSTOMER
        )
        return await handler(event, data)


class HasRole(Filter):
    """Passes when the sender's role (from RoleMiddleware) is at least `minimum`."""

    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    async def __call__(self, event: TelegramObject, role: Role = Role.CUSTOMER) -> bool:
        return role >= self.minimum
