"""Every registered command works from every step, leaving it: a table of commands by states,
both enumerated from the real dispatcher, driven through it against the fake Bot API."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Update

from bot.app import Application
from bot.handlers.owner.offers import OfferCompose
from bot.handlers.owner.promotions import Compose
from bot.telegram.middlewares import ThrottleMiddleware
from bot.telegram.steps import Commands, command_name, filters_of, handlers_under
from tests.conftest import OWNER_ID, TEST_PROGRAM
from tests.fakeapi import FakeTelegram
from tests.helpers import join

Start = Callable[..., Any]
# A cause, so /give is a step of its own (without one it only says there is none).
PROGRAM = dataclasses.replace(TEST_PROGRAM, cause="the animal shelter")
_update_ids = itertools.count(2_000_000_000)


def context(app: Application, user_id: int) -> FSMContext:
    return app.dispatcher.fsm.get_context(app.bot, chat_id=user_id, user_id=user_id)


async def send(app: Application, fake: FakeTelegram, user: dict, text: str) -> list[str]:
    """Feeds one message through the dispatcher; returns what the bot sent back (kind and
    text, digits masked: a backup's name carries the time)."""
    before = len(fake.messages(user["id"]))
    update_id = next(_update_ids)
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    update = Update.model_validate(
        {"update_id": update_id, "message": message}, context={"bot": app.bot}
    )
    # Returns once every handler is done, and every reply is recorded by the fake by then.
    await app.dispatcher.feed_update(app.bot, update)
    return [
        f"{sent.kind}: {re.sub(r'[0-9]+', '#', sent.content)}"
        for sent in fake.messages(user["id"])[before:]
    ]


def states(router: Router) -> list[State]:
    """Every state the handlers under `router` are filtered by (a group stands for all its
    states), in a stable order."""
    found: dict[str, State] = {}
    for handler in handlers_under(router):
        for item in filters_of(handler):
            if not isinstance(item, StateFilter):
                continue
            for entry in item.states:
                if isinstance(entry, State) and entry.state:
                    found.setdefault(entry.state, entry)
                elif isinstance(entry, type) and issubclass(entry, StatesGroup):
                    for state in entry.__all_states__:
                        if state.state:
                            found.setdefault(state.state, state)
    return [found[name] for name in sorted(found)]


async def table(app: Application, fake: FakeTelegram, users: Callable[[str], dict]) -> list[str]:
    """Each registered command, first from no step, then from every step: the same replies
    and the same state after. Returns the failures."""
    commands = Commands.of(app.dispatcher)
    steps = states(app.dispatcher)
    failures = []
    for name in sorted(commands.anywhere):
        user = users(name)
        state = context(app, user["id"])
        await state.clear()
        expected = await send(app, fake, user, f"/{name}")
        expected_state = await state.get_state()
        assert expected, f"/{name} answers nothing"
        for step in steps:
            await state.clear()
            await state.set_state(step)
            got = await send(app, fake, user, f"/{name}")
            after = await state.get_state()
            if got != expected or after != expected_state:
                failures.append(
                    f"/{name} in {step.state}: {got} (state {after}), "
                    f"not {expected} (state {expected_state})"
                )
    return failures


def test_the_table_covers_the_bot() -> None:
    """The enumeration finds what the bot has (so an empty table cannot pass)."""
    from aiogram import Dispatcher

    from bot.handlers import install
    from bot.i18n import build_i18n

    dp = Dispatcher()
    install(dp, build_i18n("en"))
    commands = Commands.of(dp)
    assert {"start", "help", "forget", "card", "broadcast", "offer", "shift", "give"} <= (
        commands.anywhere
    )
    # /cancel means something only while composing, so it is a step's own command.
    assert "cancel" in commands.in_steps and "cancel" not in commands.anywhere
    found = {state.state for state in states(dp)}
    assert {
        "Profile:phone",
        "Profile:birthday",
        "Giving:amount",
        "Desk:customer",
        "Desk:refund_amount",
        "Compose:text",
        "Compose:button",
        "OfferCompose:title",
        "OfferCompose:audience",
    } <= found


def test_command_names() -> None:
    assert command_name("/help") == ("help", None)
    assert command_name("/help@shop_bot now") == ("help", "shop_bot")
    assert command_name("help") is None and command_name("/") is None
    assert command_name(None) is None


async def test_every_command_from_every_step_as_a_customer(
    start_app: Start, fake: FakeTelegram
) -> None:
    app: Application = await start_app(PROGRAM)
    users: dict[str, dict] = {}
    # One customer per command: a customer's messages are throttled (20 in 10 s). Each sends
    # the command once from no step and once from every step, which the throttle must allow.
    (throttle,) = [
        m for m in app.dispatcher.message.outer_middleware if isinstance(m, ThrottleMiddleware)
    ]
    throttle.counts.limit = max(throttle.counts.limit, len(states(app.dispatcher)) + 5)
    for index, name in enumerate(sorted(Commands.of(app.dispatcher).anywhere)):
        users[name] = fake.user(7000 + index, f"Guest{index}")
        await join(fake, users[name])
    failures = await table(app, fake, users.__getitem__)
    assert not failures, "\n".join(failures)


async def test_every_command_from_every_step_as_the_owner(
    start_app: Start, fake: FakeTelegram
) -> None:
    app: Application = await start_app(PROGRAM)
    owner = fake.user(OWNER_ID, "Olga")
    await join(fake, owner)
    failures = await table(app, fake, lambda _name: owner)
    assert not failures, "\n".join(failures)


async def test_a_steps_own_commands_keep_their_meaning(
    start_app: Start, fake: FakeTelegram
) -> None:
    app: Application = await start_app(PROGRAM)
    owner = fake.user(OWNER_ID, "Olga")
    await join(fake, owner)
    state = context(app, OWNER_ID)
    cancelled: list[tuple[State, str]] = [
        *((step, "The promotion was discarded.") for step in Compose.__all_states__),
        *((step, "The offer was discarded.") for step in OfferCompose.__all_states__),
    ]
    for step, reply in cancelled:
        await state.set_state(step)
        assert await send(app, fake, owner, "/cancel") == [f"text: {reply}"], step
        assert await state.get_state() is None
    # /skip answers the promotion's button question.
    assert (await send(app, fake, owner, "/broadcast"))[0].startswith("text: Send the promotion")
    await send(app, fake, owner, "Hello {name}")
    assert await state.get_state() == Compose.button.state
    assert await send(app, fake, owner, "/skip") == ["text: Who should receive it?"]
    assert await state.get_state() == Compose.audience.state
