"""Outer middlewares: who is writing (the stored customer) before locale and handlers run."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.domain.clock import utcnow
from bot.domain.program.live import LiveProgram
from bot.domain.program.model import DEFAULT_PROGRAM
from bot.i18n import _
from bot.telegram.roles import Role, role_for
from bot.texts.numbers import counting_stamps
from storage import Storage

TOUCH_EVERY = timedelta(minutes=5)


def display_name(user: User) -> str:
    return user.full_name.strip()[:64]


class IdentityMiddleware(BaseMiddleware):
    """Puts the sender's customer record (or None) as `customer` and their current `role`
    into handler data, fresh for every update: a removed cashier loses access at once."""

    def __init__(
        self, storage: Storage, owner_ids: frozenset[int], live: LiveProgram | None = None
    ) -> None:
        self.storage = storage
        self.owner_ids = owner_ids
        self.live = live or LiveProgram(DEFAULT_PROGRAM)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # A version another process saved is in force from this update on (a cheap look
        # at the version number, at most every second).
        await self.live.sync(self.storage)
        counting_stamps.set(self.live.current.stamps)  # scoped to this update's task
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
    """Counts events per key in a sliding window; `allow` says whether one more fits.

    Keys are kept in order of their latest event, so keys idle for a whole window are
    forgotten from the front, a few at a time on every call: memory stays bounded by the
    keys active in the last window, and no call ever scans them all."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()

    @property
    def size(self) -> int:
        """Keys remembered."""
        return len(self._seen)

    def allow(self, key: int, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        horizon = now - self.window
        while self._seen:  # idle keys leave from the front
            oldest = next(iter(self._seen.values()))
            if oldest[-1] > horizon:
                break
            self._seen.popitem(last=False)
        times = self._seen.get(key)
        if times is None:
            times = self._seen[key] = deque()
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= self.limit:
            if not times:  # a limit of 0: nothing to remember
                del self._seen[key]
            return False
        times.append(now)
        self._seen.move_to_end(key)
        return True


class ThrottleMiddleware(BaseMiddleware):
    """At most `limit` updates per user in a sliding `window`; beyond it, one polite
    "slow down" and silence, while everyone else is served as usual."""

    def __init__(
        self, limit: int = 20, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self.counts = RateWindow(limit, window, clock)
        # When each user was last told to slow down, oldest first, kept for one window.
        self._warned: OrderedDict[int, float] = OrderedDict()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or data.get("role", Role.CUSTOMER) is not Role.CUSTOMER:
            return await handler(event, data)  # staff are limited per booking instead
        now = self.clock()
        if self.counts.allow(user.id, now):
            return await handler(event, data)
        if not self._first_warning(user.id, now):
            return None  # already told: drop quietly
        text = _("Slow down a little, please: too many messages at once. Try again in a moment.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return None

    def _first_warning(self, user_id: int, now: float) -> bool:
        """Whether this user has not been warned within the window (and is now)."""
        horizon = now - self.window
        while self._warned and next(iter(self._warned.values())) <= horizon:
            self._warned.popitem(last=False)
        if user_id in self._warned:
            return False
        self._warned[user_id] = now
        return True


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
