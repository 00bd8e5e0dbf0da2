"""Memory after many distinct users: RSS growth once 100 000 people have each sent one
message through the real dispatcher (its middlewares, FSM storage, routers and handlers, a
real SQLite database), with a bot whose session answers every call in-process.

    .venv/bin/python -m bench.memory_users --users 100000

`--storage aiogram` runs the same with aiogram's own MemoryStorage, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import GetMe, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import Chat, Message, Update, User

from bot.app import Application
from bot.telegram.fsm import ForgetfulMemoryStorage
from bot.telegram.middlewares import ThrottleMiddleware
from tests.conftest import TEST_PROGRAM, make_settings
from tests.fakeapi import TOKEN

FIRST_USER = 10_000_000
WARM_UP = 2_000  # users before the baseline: caches, model classes, the database's pages


class LocalSession(BaseSession):
    """Answers every Bot API call at once, as Telegram would, without a network."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self._ids = itertools.count(1)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.calls += 1
        if isinstance(method, GetMe):
            return User(id=1, is_bot=True, first_name="Bench", username="bench_bot")
        if isinstance(method, SendMessage | SendPhoto):
            return Message(
                message_id=next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(method.chat_id), type="private"),
                text=getattr(method, "text", None),
            )
        return True

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError
        yield b""


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def update(seq: int, user_id: int, text: str) -> Update:
    user = User(id=user_id, is_bot=False, first_name=f"Guest {user_id}", language_code="en")
    return Update(
        update_id=seq,
        message=Message(
            message_id=1,
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=user,
            text=text,
        ),
    )


async def run(users: int, text: str, storage: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    settings = make_settings(folder, "http://127.0.0.1:9", backup_dir=None)
    app = await Application.create(settings, TEST_PROGRAM)
    await app.bot.session.close()
    session = LocalSession()
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    dp = app.dispatcher
    if storage == "aiogram":
        dp.fsm.storage = MemoryStorage()
    throttles = [
        m for m in dp.message.outer_middleware._middlewares if isinstance(m, ThrottleMiddleware)
    ]
    seq = itertools.count(1)

    async def feed(count: int, first: int) -> None:
        for user_id in range(first, first + count):
            await dp.feed_update(bot, update(next(seq), user_id, text))

    await feed(WARM_UP, FIRST_USER)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    await feed(users, FIRST_USER + WARM_UP)
    elapsed = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    fsm = dp.fsm.storage
    kept = fsm.size if isinstance(fsm, ForgetfulMemoryStorage) else len(fsm.storage)  # type: ignore[attr-defined]
    print(f"users: {users:,} (after {WARM_UP:,} to warm up), each sending {text!r}")
    print(
        f"time: {elapsed:.1f} s ({users / elapsed:,.0f} updates/s), Bot API calls {session.calls:,}"
    )
    print(f"RSS: {before:.1f} MB before, {after:.1f} MB after: growth {after - before:.1f} MB")
    print(f"kept: FSM records {kept:,} ({storage} storage)", end="")
    for throttle in throttles:
        print(f", throttle windows {throttle.counts.size:,}, warnings {len(throttle._warned):,}")
    await app.shop.storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--text", default="hello", help="what every user sends")
    parser.add_argument("--storage", choices=("forgetful", "aiogram"), default="forgetful")
    args = parser.parse_args()
    asyncio.run(run(args.users, args.text, args.storage))


if __name__ == "__main__":
    main()
