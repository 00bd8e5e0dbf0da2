"""Outer middlewares: who is writing (the stored customer) before locale and handlers run."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.i18n import _
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


class RateWindow:
    """Counts events per key in a sliding window; `allow` says whether one more fits."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[int, deque[float]] = {}

    def allow(self, key: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle keys now and then
            for idle in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
                self._seen.pop(idle, None)
        return True


class ThrottleMiddleware(BaseMiddleware):
    """At most `limit` updates per user in a sliding `window`; beyond it, one polite
    "slow down" and silence, while everyone else is served as usual."""

    def __init__(self, limit: int = 20, window: float = 10.0) -> None:
        self.window = window
        self.counts = RateWindow(limit, window)
        self._warned: dict[int, float] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or data.get("role", Role.CUSTOMER) is not Role.CUSTOMER:
            return await handler(event, data)  # staff are limited per booking instead
        now = time.monotonic()
        if self.counts.allow(user.id, now):
            return await handler(event, data)
        if self._warned.get(user.id, 0.0) > now - self.window:
            return None  # already told: drop quietly
        self._warned[user.id] = now
        text = _("Slow down a little, please: too many messages at once. Try again in a moment.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return None


class OnceMiddleware(BaseMiddleware):
    """Drops an update whose id was seen recently, so a redelivered update acts once."""

    def __init__(self, remember: int = 10_000) -> None:
        self.remember = remember
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_id = getattr(event, "update_id", None)
        if update_id is not None:
            if update_id in self._seen:
                return None
            self._seen[update_id] = None
            if len(self._seen) > self.remember:
                self._seen.popitem(last=False)
        return await handler(event, data)
