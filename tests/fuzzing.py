"""Plumbing for the fuzz test: updates fed one at a time through the real dispatcher, every
Bot API call the bot makes attributed to the update that caused it, and the callback data the
bot defines, found by inspecting `bot.keyboards` rather than listed by hand."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command

from bot.keyboards.common import OpCb
from bot.keyboards.customer import GiveCb
from bot.media.card import CardView, render_card
from bot.telegram.middlewares import RateWindow, ThrottleMiddleware
from bot.telegram.pacing import SendPacer
from tests.fakeapi import ApiCall, FakeTelegram, SentMessage
from tests.helpers import callback_classes  # noqa: F401  (re-exported for fuzz_scenario, test_fuzz)

# The buttons that book: an operation confirmed (by a cashier, the owner or a customer) and
# a donation given.
CONFIRMING = (OpCb, GiveCb)
# Calls that put something in front of a person: a reply, in the sender's own chat.
REPLY_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    }
)


def commands_of(router: Router) -> set[str]:
    """Every command a handler under `router` is registered for."""
    found: set[str] = set()
    for handler in router.message.handlers:
        for flt in handler.filters or ():
            if isinstance(flt.callback, Command):
                found.update(str(c) for c in flt.callback.commands)
    for child in router.sub_routers:
        found |= commands_of(child)
    return found


class FuzzTelegram(FakeTelegram):
    """The fake server, plus what a fuzzer needs: take queued updates instead of serving
    them to a poller, and enqueue updates the user-facing helpers cannot make."""

    def take_updates(self) -> list[dict[str, Any]]:
        updates, self._updates = self._updates, []
        return updates

    def inject(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._enqueue(kind, payload)

    def user_message(self, chat_id: int, index: int) -> dict[str, Any] | None:
        sent = list(self._user_messages.get(chat_id, {}).values())
        return sent[index % len(sent)] if sent else None

    def send_unreadable_photo(self, user: dict[str, Any], data: bytes) -> dict[str, Any]:
        """A "photo" whose bytes are no image at all (Telegram never sends one; a bot must
        still cope)."""
        sizes = self._register_photo(data, None, 80, 60, "jpg")
        return self._user_message(user, None, photo=sizes)

    def press_anywhere(
        self, user: dict[str, Any], message: dict[str, Any], data: str
    ) -> dict[str, Any]:
        """A callback query from a message in any chat (a group, a channel, another
        user's): the button's data is whatever the client claims."""
        self._callback_seq += 1
        query_id = str(5_000_000_000_000_000_000 + self._callback_seq)
        self._callbacks[query_id] = {
            "user_id": user["id"],
            "message_id": message["message_id"],
            "data": data,
            "answered": False,
        }
        return self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": dict(user),
                "message": message,
                "chat_instance": "-1",
                "data": data,
            },
        )

    def sent(self, call: ApiCall) -> SentMessage | None:
        """The message a successful send or edit call left behind."""
        if not call.ok or not isinstance(call.result, dict):
            return None
        chat = call.result.get("chat", {}).get("id")
        return self._sent_by_id.get(chat, {}).get(call.result.get("message_id"))


class TickClock:
    """A monotonic clock that moves only when the test says so: the throttle and booking
    windows then see the same time on a fast laptop and a busy CI runner."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def monotonic(self) -> float:
        return self.now


def run_on_clock(dispatcher: Dispatcher, bot: Bot, clock: TickClock) -> None:
    """The one place the fuzz run reaches into the bot's timing: the customers' throttle and
    the cashiers' booking window read `clock`, so the same updates are throttled on every
    machine; the pace of sends is lifted, because updates are fed one at a time and Telegram's
    limit has tests of its own (tests/test_pacing.py)."""
    throttles = [
        m for m in dispatcher.message.outer_middleware if isinstance(m, ThrottleMiddleware)
    ]
    assert len(throttles) == 1, "the dispatcher's throttle moved: find it again here"
    throttles[0].clock = throttles[0].counts.clock = clock.monotonic
    bookings = dispatcher["bookings"]
    assert isinstance(bookings, RateWindow)
    bookings.clock = clock.monotonic
    pacer = getattr(bot.session, "pacer", None)
    assert isinstance(pacer, SendPacer), "the session's pacer moved: find it again here"
    pacer.limit = 1_000_000


class CardRenders:
    """`render_card` that draws each kind of card once: every kind of name (digits aside) in
    every language, at every tier; a card of a kind already drawn reuses that picture. Until
    `reuse` is set every card is drawn, so the cards photographed by the fuzzer are real."""

    def __init__(self) -> None:
        self.reuse = False
        self.drawn: dict[tuple[str, ...], bytes] = {}
        self.count = 0

    def __call__(self, view: CardView, logo: bytes | None = None) -> bytes:
        kind = (
            re.sub(r"\d", "", view.holder),
            view.label_holder,
            view.tier,
            view.stamps,
            view.palette,
            view.logo_digest,
        )
        if self.reuse and kind in self.drawn:
            return self.drawn[kind]
        self.count += 1
        self.drawn[kind] = png = render_card(view, logo)
        return png


def legitimate_presses(deliveries: Iterable[Delivery]) -> set[str]:
    """Operation ids whose confirming button someone pressed in the chat it was shown in:
    that person was asked, whichever of their messages the press came from."""
    shown: set[tuple[int, str]] = set()
    permitted: set[str] = set()
    for delivery in deliveries:
        query = delivery.update.get("callback_query")
        if query is not None and delivery.chat == query["from"]["id"]:
            data = str(query.get("data"))
            if (delivery.chat, data) in shown:
                for kind in CONFIRMING:
                    with contextlib.suppress(ValueError, TypeError):
                        parsed = kind.unpack(data)
                        if parsed.ok:
                            permitted.add(parsed.id)
        for call in delivery.calls:
            for data in buttons_in(call.params.get("reply_markup")):
                shown.add((call.params.get("chat_id"), data))
    return permitted


def buttons_in(markup: Any) -> list[str]:
    if not isinstance(markup, dict):
        return []
    return [
        str(b["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b.get("callback_data")
    ]


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Delivery:
    """One update fed to the dispatcher and every Bot API call made while it was handled."""

    label: str
    update: dict[str, Any]
    calls: list[ApiCall]
    crash: str | None = None
    seconds: float = 0.0

    @property
    def chat(self) -> int | None:
        """The chat a reply to this update belongs in."""
        if "callback_query" in self.update:
            message = self.update["callback_query"].get("message") or {}
            return message.get("chat", {}).get("id")
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if kind in self.update:
                return self.update[kind]["chat"]["id"]
        return None

    def replies(self) -> list[ApiCall]:
        """Sends and edits in the sender's own chat."""
        chat = self.chat
        return [
            c for c in self.calls if c.method in REPLY_METHODS and c.params.get("chat_id") == chat
        ]

    def sends(self) -> list[ApiCall]:
        return [c for c in self.replies() if c.method.startswith("send")]

    def edits_per_message(self) -> dict[int, int]:
        edited: dict[int, int] = {}
        for call in self.replies():
            if call.method.startswith("edit"):
                key = call.params.get("message_id", 0)
                edited[key] = edited.get(key, 0) + 1
        return edited

    def answers(self) -> list[ApiCall]:
        return [c for c in self.calls if c.method == "answerCallbackQuery"]

    def describe(self) -> str:
        calls = ", ".join(
            f"{c.method}(chat={c.params.get('chat_id')})"
            + ("" if c.ok else f" -> {c.status} {c.description}")
            for c in self.calls
        )
        return f"[{self.label}] {_short(self.update)} -> {calls or 'no calls'}"


def _short(update: dict[str, Any]) -> str:
    kind = next(k for k in update if k != "update_id")
    body = update[kind]
    if kind == "callback_query":
        return f"callback from {body['from']['id']}: {body.get('data')!r}"
    if isinstance(body, dict) and "text" in body:
        return f"{kind} from {body.get('from', {}).get('id')}: {body['text'][:60]!r}"
    keys = sorted(k for k in body if k not in ("message_id", "from", "chat", "date"))
    return f"{kind} ({', '.join(keys)[:60]})"


@dataclass
class Driver:
    """Feeds queued updates to the dispatcher one by one: each is handled to the end
    before the next, so every call it caused is known."""

    fake: FuzzTelegram
    dispatcher: Dispatcher
    bot: Bot
    clock: TickClock
    tick: float = 0.25
    deliveries: list[Delivery] = field(default_factory=list)

    async def deliver(self, label: str) -> list[Delivery]:
        done = []
        for update in self.fake.take_updates():
            start = len(self.fake.requests)
            crash = None
            began = time.perf_counter()
            self.clock.now += self.tick
            try:
                await self.dispatcher.feed_raw_update(self.bot, update)
            except Exception:  # an update the error handler could not absorb
                crash = traceback.format_exc()
            delivery = Delivery(
                label, update, self.fake.requests[start:], crash, time.perf_counter() - began
            )
            self.deliveries.append(delivery)
            done.append(delivery)
        return done

    async def one(self, label: str) -> Delivery:
        [delivery] = await self.deliver(label)
        return delivery


def buttons_data(messages: Iterable[SentMessage]) -> list[str]:
    return [
        str(b["callback_data"])
        for m in messages
        for b in m.buttons()
        if b.get("callback_data") is not None
    ]
