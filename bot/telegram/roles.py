"""Who may do what: the role is looked up on every update, never trusted from a button."""

from __future__ import annotations

from enum import IntEnum

from aiogram.filters import Filter
from aiogram.types import TelegramObject


class Role(IntEnum):
    CUSTOMER = 0
    CASHIER = 1
    OWNER = 2


def role_for(telegram_id: int, is_staff: bool, owner_ids: frozenset[int]) -> Role:
    if telegram_id in owner_ids:
        return Role.OWNER
    return Role.CASHIER if is_staff else Role.CUSTOMER


class HasRole(Filter):
    """Passes when the sender's role (from IdentityMiddleware) is at least `minimum`."""

    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    async def __call__(self, event: TelegramObject, role: Role = Role.CUSTOMER) -> bool:
        return role >= self.minimum
