"""Commands leave a pending step: a command sent in the middle of a conversation (sign-up's
phone question, the cashier's open customer, the owner's draft promotion) does what it
always does, and the step is over.

Handlers try their filters in order, and a step's catch-all ("Please use the button below")
would otherwise answer every command typed during it. Instead of excluding commands in each
step, `LeaveStepOnCommand` clears the conversation state before routing when a message is
one of the bot's registered commands. A command registered for a step itself (`/cancel`
while composing) keeps its meaning there: it is routed with the state left in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject


def handlers_under(router: Router) -> Iterator[HandlerObject]:
    """Every message and callback handler of `router` and the routers under it."""
    for observer in (router.message, router.callback_query):
        yield from observer.handlers
    for child in router.sub_routers:
        yield from handlers_under(child)


def filters_of(handler: HandlerObject) -> list[Any]:
    return [item.callback for item in handler.filters or ()]


@dataclass(frozen=True)
class Commands:
    """The commands the handlers under a router answer, by name (without the slash)."""

    # Commands with a handler that is not tied to a state: they work from anywhere.
    anywhere: frozenset[str]
    # Commands with a handler for some states only (their filters), like /cancel.
    in_steps: dict[str, tuple[StateFilter, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, router: Router) -> Commands:
        anywhere: set[str] = set()
        in_steps: dict[str, list[StateFilter]] = {}
        for handler in handlers_under(router):
            filters = filters_of(handler)
            names = [
                name
                for item in filters
                if isinstance(item, Command) and "/" in item.prefix
                for name in item.commands
                if isinstance(name, str)
            ]
            steps = [item for item in filters if isinstance(item, StateFilter)]
            for name in names:
                if steps:
                    in_steps.setdefault(name, []).extend(steps)
                else:
                    anywhere.add(name)
        return cls(frozenset(anywhere), {name: tuple(f) for name, f in in_steps.items()})

    @property
    def all(self) -> frozenset[str]:
        return self.anywhere | frozenset(self.in_steps)

    async def has_meaning_in(self, name: str, message: Message, raw_state: str) -> bool:
        """Whether `name` has its own handler in the step `raw_state`."""
        for step in self.in_steps.get(name, ()):
            if await step(message, raw_state=raw_state):
                return True
        return False


def command_name(text: str | None) -> tuple[str, str | None] | None:
    """'/help@shop_bot args' -> ('help', 'shop_bot'); None when the text is no command."""
    if not text or not text.startswith("/"):
        return None
    head = text.split(maxsplit=1)[0][1:]
    name, _at, mention = head.partition("@")
    return (name, mention or None) if name else None


class LeaveStepOnCommand(BaseMiddleware):
    """Messages, outer: a registered command clears the sender's state before routing, so
    the command's own handler answers it (see the module's docstring)."""

    def __init__(self, commands: Commands) -> None:
        self.commands = commands

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        raw_state = data.get("raw_state")
        if raw_state is not None and isinstance(event, Message):
            # The same text aiogram's Command filter reads.
            parsed = command_name(event.text or event.caption)
            if parsed is not None and await self._leaves(event, raw_state, *parsed, data):
                state: FSMContext = data["state"]
                await state.clear()
                data["raw_state"] = None
        return await handler(event, data)

    async def _leaves(
        self,
        message: Message,
        raw_state: str,
        name: str,
        mention: str | None,
        data: dict[str, Any],
    ) -> bool:
        if name not in self.commands.anywhere:
            return False
        if mention is not None:  # addressed to another bot: not ours (as Command decides)
            me = await data["bot"].me() if isinstance(data.get("bot"), Bot) else None
            if me is None or (me.username or "").lower() != mention.lower():
                return False
        return not await self.commands.has_meaning_in(name, message, raw_state)
