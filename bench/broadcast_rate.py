"""Promotion delivery: achieved rate against a fake Bot API that enforces Telegram's limit,
and the time to build the outbox for a large audience.

The bot runs as its own process (`python -m bot`) with BROADCAST_RATE; the fake server here
answers 429 (retry after 1 s) to any sendMessage beyond `--limit` in a sliding second.

    .venv/bin/python -m bench.broadcast_rate --customers 10000 --rate 25 --limit 30 \\
        --outbox 100000
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from bench.desk_throughput import TimedFake, spawn, started, stop
from bot.domain.clock import utcnow
from bot.domain.promotions import audience_filter
from bot.domain.tokens import distinct_card_identities
from storage import Audience, Segment, SQLiteStorage
from tests.fakeapi import TOKEN, ApiError

OWNER = 1000


class LimitedFake(TimedFake):
    """The test server, refusing sendMessage beyond `limit` per sliding second."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.window: deque[float] = deque()
        self.sent_at: list[float] = []
        self.refused = 0

    async def _m_send_message(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        now = time.monotonic()
        while self.window and self.window[0] <= now - 1:
            self.window.popleft()
        if len(self.window) >= self.limit:
            self.refused += 1
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self.window.append(now)
        if int(params.get("chat_id", 0)) != OWNER:
            self.sent_at.append(now)
        return await super()._m_send_message(params, uploads)


def seed(path: Path, customers: int) -> None:
    db = sqlite3.connect(path)
    now = "2026-01-01T00:00:00.000000+00:00"
    rows = [
        (100_000 + index, f"Guest {index}", "en", number, payload, now, now)
        for index, (number, payload) in enumerate(distinct_card_identities(customers))
    ]
    with db:
        db.executemany(
            "INSERT INTO customers (telegram_id, name, language, card_number, card_payload, "
            "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.close()


async def delivery(customers: int, rate: float, limit: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="broadcast-bench-"))
    database = folder / "bench.db"
    storage = await SQLiteStorage.open(str(database), audiences=audience_filter)
    seed(database, customers)
    await storage.create_broadcast(
        OWNER, "Hello {name}, double points this weekend!", None, None,
        Audience(Segment.EVERYONE), 0, utcnow(),
    )  # fmt: skip
    await storage.close()
    fake = LimitedFake(limit)
    await fake.start()
    for index in range(customers):
        fake.user(100_000 + index, f"Guest {index}")
    fake.user(OWNER, "Owner")
    process = await spawn(
        "bot",
        BOT_TOKEN=TOKEN,
        BOT_API_URL=fake.base_url,
        DATABASE_URL=f"sqlite:///{database}",
        OWNER_IDS=str(OWNER),
        BROADCAST_RATE=str(rate),
        LOG_LEVEL="WARNING",
    )
    await started(process, fake)
    while len(fake.sent_at) < customers:
        await asyncio.sleep(0.5)
    await stop(process)
    await fake.stop()
    spread = fake.sent_at[-1] - fake.sent_at[0]
    achieved = (len(fake.sent_at) - 1) / spread if spread > 0 else float("inf")
    print(
        f"delivery: {len(fake.sent_at)} messages in {spread:.1f} s = {achieved:.2f} msg/s "
        f"(configured {rate}, {achieved / rate - 1:+.1%}); 429s received: {fake.refused}"
    )


async def outbox_build(customers: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    database = folder / "bench.db"
    storage = await SQLiteStorage.open(str(database), audiences=audience_filter)
    seed(database, customers)
    await storage.create_broadcast(OWNER, "x", None, None, Audience(Segment.EVERYONE), 10, utcnow())
    began = time.perf_counter()
    broadcast = await storage.start_due_broadcast(utcnow())
    elapsed = time.perf_counter() - began
    counts = await storage.outbox_counts(broadcast.id)  # type: ignore[union-attr]
    await storage.close()
    print(
        f"outbox: {counts.total + counts.holdout} rows ({counts.holdout} held out) "
        f"built in {elapsed:.2f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--outbox", type=int, default=100_000)
    args = parser.parse_args()
    await outbox_build(args.outbox)
    await delivery(args.customers, args.rate, args.limit)


if __name__ == "__main__":
    asyncio.run(main())
