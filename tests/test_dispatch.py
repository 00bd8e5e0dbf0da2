"""How updates are dispatched: nothing on the way to a handler leaves the event loop."""

from __future__ import annotations

from aiogram import F

from bot.filters import OnLoop
from bot.handlers import build_routers
from bot.i18n import build_i18n


def test_every_handler_and_filter_runs_on_the_event_loop() -> None:
    # aiogram sends plain callables (an `F` expression, a sync function) through
    # asyncio.to_thread: a thread hop per check on every update that reaches it.
    checked = 0
    for root in build_routers(build_i18n()):
        for router in root.chain_tail:
            for name, observer in router.observers.items():
                # The observer's own handler is a placeholder; only its filters (those set
                # with `router.message.filter(...)`) are ever called.
                targets = list(observer._handler.filters or [])
                for handler in observer.handlers:
                    targets += [handler, *(handler.filters or [])]
                for target in targets:
                    assert target.awaitable, f"{router.name}.{name}: {target.callback!r}"
                    checked += 1
    assert checked > 100


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
