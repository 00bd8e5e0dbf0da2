"""How updates are dispatched: nothing on the way to a handler leaves the event loop."""

from __future__ import annotations

import asyncio
import time

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackQueryFilter

from bot.app import Application
from bot.handlers import install
from bot.i18n import build_i18n
from bot.telegram.filters import OnLoop
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram
from tests.helpers import callback_classes

GROUP = -100_555


def test_every_handler_and_filter_runs_on_the_event_loop() -> None:
    # aiogram sends plain callables (an `F` expression, a sync function) through
    # asyncio.to_thread: a thread hop per check on every update that reaches it.
    checked = 0
    root = Router()
    install(root, build_i18n())
    for router in root.chain_tail:
        for name, observer in router.observers.items():
            # The observer's own handler is a placeholder; only its filters (those set with
            # `router.message.filter(...)`) are ever called.
            targets = list(observer._handler.filters or [])
            for handler in observer.handlers:
                targets += [handler, *(handler.filters or [])]
            for target in targets:
                assert target.awaitable, f"{router.name}.{name}: {target.callback!r}"
                checked += 1
    assert checked > 100


def test_every_button_kind_is_found_and_handled() -> None:
    # Tests that forge or replay callback data enumerate the kinds from the keyboards'
    # modules: that enumeration must see every kind a handler answers, and every kind it
    # sees must be answered by some handler (the stale-button fallback aside).
    root = Router()
    install(root, build_i18n())
    handled = {
        flt.callback.callback_data
        for router in root.chain_tail
        for handler in router.callback_query.handlers
        for flt in handler.filters or ()
        if isinstance(flt.callback, CallbackQueryFilter)
    }
    kinds = callback_classes()
    assert set(kinds) == handled
    prefixes = [kind.__prefix__ for kind in kinds]
    assert len(set(prefixes)) == len(prefixes) == 38


async def test_a_magic_filter_on_the_loop_keeps_its_meaning() -> None:
    from aiogram.types import Chat, Message

    message = Message.model_validate(
        {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "12.50"}
    )
    assert await OnLoop(F.text)(message) == "12.50"
    assert not await OnLoop(F.photo)(message)
    assert await OnLoop(F.chat.type == "private")(message)
    group = message.model_copy(update={"chat": Chat(id=2, type="group")})
    assert not await OnLoop(F.chat.type == "private")(group)
    match = await OnLoop(F.text.regexp(r"^(\d+)\.(\d+)$"))(message)
    assert match is not None and match.group(2) == "50"


async def test_messages_in_a_group_are_left_alone(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Owner")
    for text in ("/stats", "/start", "12.50", "/card"):
        fake._enqueue(
            "message",
            {
                "message_id": fake._next_message_id(GROUP),
                "from": owner,
                "chat": {"id": GROUP, "type": "group", "title": "Shop staff"},
                "date": int(time.time()),
                "text": text,
            },
        )
    fake.send_message(owner, "/help")  # queued after them, so handled after them
    assert (await fake.next_message(OWNER_ID)).content
    await asyncio.sleep(0.3)
    assert [c for c in fake.requests if str(c.params.get("chat_id")) == str(GROUP)] == []
