"""What the bot keeps in memory per user is bounded: the throttle's windows and warnings,
and the FSM's states, are forgotten once idle (a fake clock, no sleeps)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import User

from bot.i18n import build_i18n
from bot.telegram.fsm import ForgetfulMemoryStorage
from bot.telegram.middlewares import RateWindow, ThrottleMiddleware
from bot.telegram.roles import Role


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


def test_rate_window_keeps_only_keys_active_within_the_window() -> None:
    clock = Clock()
    window = RateWindow(limit=2, window=10, clock=clock)
    largest = 0
    for user in range(30_000):  # one new user a second
        assert window.allow(user)
        largest = max(largest, window.size)
        clock.now += 1
    assert largest <= 10  # never more than the window's worth, at any moment
    # Limits still hold for the active ones, and come back once the window has passed.
    assert window.allow(7) and window.allow(7) and not window.allow(7)
    clock.now += 10
    assert window.allow(7)
    assert window.size == 1


async def test_throttle_forgets_warnings_and_windows_of_idle_users() -> None:
    clock = Clock()
    throttle = ThrottleMiddleware(limit=1, window=10, clock=clock)
    handled: list[int] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        handled.append(data["event_from_user"].id)

    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        for user_id in range(1, 5_001):
            data = {"event_from_user": User(id=user_id, is_bot=False, first_name="A")}
            data["role"] = Role.CUSTOMER
            await throttle(handler, object(), data)  # served
            await throttle(handler, object(), data)  # over the limit: warned, nothing to answer
            clock.now += 1
    assert len(handled) == 5_000
    assert len(throttle._warned) <= 10 and throttle.counts.size <= 10


async def test_fsm_keeps_nothing_for_who_only_wrote_and_forgets_abandoned_steps() -> None:
    clock = Clock()
    storage = ForgetfulMemoryStorage(idle=3600, clock=clock)
    for user_id in range(1_000):  # every update reads the sender's state
        assert await storage.get_state(key(user_id)) is None
        assert await storage.get_data(key(user_id)) == {}
    assert storage.size == 0
    # A step left with clear() leaves nothing behind.
    await storage.set_state(key(1), "Signup:phone")
    await storage.set_data(key(1), {"draft": 5})
    assert (await storage.get_state(key(1)), await storage.get_data(key(1))) == (
        "Signup:phone",
        {"draft": 5},
    )
    await storage.set_state(key(1), None)
    assert await storage.get_data(key(1)) == {"draft": 5}  # data outlives the state
    await storage.set_data(key(1), {})
    assert storage.size == 0
    # A step abandoned half-way is forgotten after an hour unused; a used one is kept.
    await storage.set_state(key(2), "Signup:phone")
    await storage.set_state(key(3), "Desk:amount")
    clock.now += 3000
    assert await storage.get_state(key(3)) == "Desk:amount"  # used: its hour starts again
    clock.now += 1000
    assert await storage.get_state(key(2)) is None
    assert await storage.get_state(key(3)) == "Desk:amount"
    assert storage.size == 1


def test_the_dispatcher_really_uses_the_forgetful_storage() -> None:
    from bot.domain.program.live import LiveProgram
    from bot.domain.program.model import DEFAULT_PROGRAM
    from bot.factory import create_dispatcher

    class Settings:
        cashier_bookings_per_minute = 30
        owner_ids = frozenset()

    class Shop:
        settings, storage, i18n = Settings(), None, build_i18n("en")
        live = LiveProgram(DEFAULT_PROGRAM)

    dp = create_dispatcher(Shop())  # type: ignore[arg-type]
    assert isinstance(dp.fsm.storage, ForgetfulMemoryStorage)
