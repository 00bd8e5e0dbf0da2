"""One pace for everything the bot sends, and waiting out Telegram's 429s.

Telegram counts the bot as a whole: about 30 messages a second, whether they are replies,
receipts or promotions. `SendPacer` keeps every message inside one sliding window; the
broadcaster's messages are background ones, which give way to any reply waiting and leave a
few places in the window free. `RetryAfter` is a session middleware, so every call (JSON
or an upload) that gets a 429 waits `retry_after` and is tried again, a bounded number of
times.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

TELEGRAM_SENDS_PER_SECOND = 30
# Telegram counts a message when it arrives, somewhere between the moment the request left
# and the moment its answer came back. A message holds its place in the window from the
# start of its request until a window after its answer, so no second as Telegram measures
# it can hold more than the limit, however late a request arrives. The margin covers
# clocks that tick differently.
WINDOW = 1.02
BACKGROUND_RESERVE = 3  # places in each window background sends leave to replies
ATTEMPTS = 4  # tries of one call through 429s
LONGEST_WAIT = 60.0  # a longer retry_after is raised to the caller instead of waited out

# Set for the broadcaster's task (and whatever else may wait behind replies).
background: contextvars.ContextVar[bool] = contextvars.ContextVar("background", default=False)


def paced(api_method: str) -> bool:
    """Whether a Bot API method sends a message, and so counts against the bot's limit."""
    return (
        api_method.startswith(("send", "copyMessage", "forwardMessage"))
        and api_method != "sendChatAction"
    )


class SendPacer:
    """At most `limit` messages in flight or answered within the last `window` seconds;
    everything paused after a 429. `take` and `release` are the bookkeeping (no waiting, so
    they are tested with a fake clock); `slot` waits for a place and gives it back."""

    def __init__(
        self,
        limit: int = TELEGRAM_SENDS_PER_SECOND,
        window: float = WINDOW,
        reserve: int = BACKGROUND_RESERVE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.reserve = reserve
        self.clock = clock
        self.paused_until = 0.0
        self.in_flight = 0
        self._answered: deque[float] = deque()  # when recent sends were answered, in order
        self._waiting = 0  # replies waiting for a place: promotions give way to them
        self._released = asyncio.Event()

    def take(self, is_background: bool = False) -> float:
        """Take a place now and return 0, or return how long to wait at most (a place may
        come free sooner, when a send in flight is answered: `math.inf` if only that)."""
        now = self.clock()
        if now < self.paused_until:
            return self.paused_until - now
        while self._answered and self._answered[0] <= now - self.window:
            self._answered.popleft()
        if is_background and self._waiting:
            return self.window / self.limit
        room = max(self.limit - self.reserve, 1) if is_background else self.limit
        used = self.in_flight + len(self._answered)
        if used < room:
            self.in_flight += 1
            return 0.0
        # Places come back as answers age out of the window: the (used - room + 1)-th
        # oldest one frees enough; answers still to come may free one sooner.
        first = used - room
        if first < len(self._answered):
            return self._answered[first] + self.window - now
        return math.inf

    def release(self) -> None:
        """The send taken by `take` was answered (or failed): it keeps its place for one
        window from now."""
        self.in_flight -= 1
        self._answered.append(self.clock())
        self._released.set()
        self._released = asyncio.Event()

    def pause(self, seconds: float) -> None:
        """Telegram said wait: nobody sends until then."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    @contextlib.asynccontextmanager
    async def slot(self, is_background: bool = False) -> AsyncIterator[None]:
        delay = self.take(is_background)
        if delay > 0:
            if not is_background:
                self._waiting += 1
            try:
                while delay > 0:
                    released = self._released
                    with contextlib.suppress(TimeoutError):
                        timeout = None if math.isinf(delay) else delay
                        await asyncio.wait_for(released.wait(), timeout)
                    delay = self.take(is_background)
            finally:
                if not is_background:
                    self._waiting -= 1
        try:
            yield
        finally:
            self.release()


class RetryAfter(BaseRequestMiddleware):
    """Paces messages through `pacer` and retries any call answered with a 429."""

    def __init__(self, pacer: SendPacer, attempts: int = ATTEMPTS) -> None:
        self.pacer = pacer
        self.attempts = attempts

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        counts = paced(method.__api_method__)
        attempt = 0
        while True:
            attempt += 1
            try:
                if counts:
                    async with self.pacer.slot(background.get()):
                        return await make_request(bot, method)
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt >= self.attempts or error.retry_after > LONGEST_WAIT:
                    raise
                if counts:  # the bot as a whole is over the limit: everyone waits
                    self.pacer.pause(error.retry_after)
                else:  # an edit or an answer: that call alone waits
                    await asyncio.sleep(error.retry_after)
