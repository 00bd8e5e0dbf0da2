"""Throughput and latency of the cashier's desk, next to a bare aiogram echo bot.

Both bots run in this process against the same fake Bot API server on 127.0.0.1 (the one the
tests use), so every update and reply crosses real HTTP. Simulated cashiers work in parallel:
scan a card (deep link), type an amount, confirm; every fifth customer also spends points,
which needs the customer's own confirmation. Each step is one update answered by one reply;
its latency runs from the moment the update is queued to the moment the reply arrives.

    .venv/bin/python -m bench.desk_throughput --customers 10000 --cashiers 20 --steps 3000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.app import Application
from bot.config import Settings
from bot.program import DEFAULT_PROGRAM
from bot.tokens import new_card_identity
from storage import SQLiteStorage
from tests.fakeapi import TOKEN, FakeTelegram

REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto"})


class TimedFake(FakeTelegram):
    """The test server, plus a cheap way to await the next reply in a chat."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: dict[tuple[int, str], list[asyncio.Future[dict[str, Any]]]] = defaultdict(
            list
        )

    def _record(self, method: str, params: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super()._record(method, params, *args, **kwargs)
        self.requests.clear()  # the benchmark does not read the log; keep memory flat
        if method in REPLY_METHODS:
            chat = params.get("chat_id")
            with contextlib.suppress(TypeError, ValueError):
                for waiter in self._waiters.pop((int(chat), method), []):  # type: ignore[arg-type]
                    if not waiter.done():
                        waiter.set_result(params)

    def reply(self, chat_id: int, method: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[(chat_id, method)].append(future)
        return future


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    steps: int = 0

    async def step(
        self,
        fake: TimedFake,
        chat: int,
        kind: str,
        send: Any,
        method: str = "sendMessage",
        also: tuple[int, str] | None = None,
    ) -> dict[str, Any]:
        """Queue one update and wait for its reply (and, with `also`, a second one)."""
        waiter = fake.reply(chat, method)
        extra = fake.reply(*also) if also else None
        started = time.perf_counter()
        send()
        try:
            params = await asyncio.wait_for(waiter, 30)
        except TimeoutError:
            raise RuntimeError(f"no {method} in chat {chat} after the {kind} step") from None
        if extra is not None:
            await asyncio.wait_for(extra, 30)
        self.latencies[kind].append(time.perf_counter() - started)
        self.steps += 1
        return params

    def report(self, name: str, seconds: float) -> dict[str, float]:
        every = [value for values in self.latencies.values() for value in values]
        result = {
            "ops_per_s": self.steps / seconds,
            "p50_ms": statistics.median(every) * 1000,
            "p99_ms": statistics.quantiles(every, n=100)[98] * 1000,
        }
        print(
            f"{name:8} {self.steps:6} steps in {seconds:6.2f} s: {result['ops_per_s']:7.1f} ops/s, "
            f"p50 {result['p50_ms']:6.1f} ms, p99 {result['p99_ms']:6.1f} ms"
        )
        for kind, values in sorted(self.latencies.items()):
            median = statistics.median(values) * 1000
            print(f"         {kind:10} n={len(values):5} p50 {median:6.1f} ms")
        return result


def fake_session(fake: FakeTelegram) -> AiohttpSession:
    return AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))


async def run_echo(steps: int, workers: int) -> dict[str, float]:
    fake = TimedFake()
    await fake.start()
    bot = Bot(TOKEN, session=fake_session(fake))
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    stats = Stats()
    users = [fake.user(10_000 + i, f"U{i}") for i in range(workers)]

    async def worker(user: dict[str, Any], count: int) -> None:
        for index in range(count):
            text = f"hi {index}"
            await stats.step(fake, user["id"], "echo", lambda t=text: fake.send_message(user, t))

    started = time.perf_counter()
    await asyncio.gather(*(worker(user, steps // workers) for user in users))
    elapsed = time.perf_counter() - started
    await dp.stop_polling()
    await polling
    await bot.session.close()
    await fake.stop()
    return stats.report("echo", elapsed)


def seed(path: Path, customers: int, cashiers: list[int]) -> list[tuple[int, str]]:
    """Customers and staff written straight into a migrated database, in one transaction."""
    db = sqlite3.connect(path)
    now = "2026-01-01T00:00:00.000000+00:00"
    rows = []
    numbers: set[str] = set()
    for index in range(customers):
        number, payload = new_card_identity()
        while number in numbers:  # the bot redraws on a collision; so does the seed
            number, payload = new_card_identity()
        numbers.add(number)
        rows.append((50_000 + index, f"Customer {index}", "en", number, payload, 500, now, now))
    with db:
        db.executemany(
            "INSERT INTO customers (telegram_id, name, language, card_number, card_payload, "
            "balance, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute(
            "INSERT INTO ledger (customer_id, kind, amount, reason, operation_id, created_at) "
            "SELECT id, 'welcome', 500, 'seed', 'seed-' || id, ? FROM customers",
            (now,),
        )
        db.executemany(
            "INSERT INTO staff (telegram_id, name, added_at) VALUES (?, ?, ?)",
            [(cashier, f"Cashier {cashier}", now) for cashier in cashiers],
        )
    db.close()
    return [(row[0], row[4]) for row in rows]


async def run_desk(steps: int, workers: int, customers: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    database = folder / "bench.db"
    storage = await SQLiteStorage.open(str(database))
    await storage.close()
    cashier_ids = [20_000 + i for i in range(workers)]
    cards = seed(database, customers, cashier_ids)

    fake = TimedFake()
    await fake.start()
    settings = Settings(
        bot_token=TOKEN,
        bot_api_url=fake.base_url,
        database_path=str(database),
        owner_ids=frozenset(),
        shop_name="Bench shop",
        timezone=ZoneInfo("UTC"),
        default_locale="en",
        log_level="WARNING",
        program_file=Path("program.toml"),
    )
    app = await Application.create(settings, DEFAULT_PROGRAM)
    await app.prepare()
    polling = asyncio.create_task(
        app.dispatcher.start_polling(app.bot, handle_signals=False, polling_timeout=1)
    )
    stats = Stats()
    rng = random.Random(7)

    def last_with(chat: int, label: str) -> Any:
        return next(
            m
            for m in reversed(fake.messages(chat))
            if any(label in b.get("text", "") for b in m.buttons())
        )

    async def worker(cashier_id: int, budget: int, mine: list[tuple[int, str]]) -> None:
        # Each cashier serves its own customers, so no two wait on the same customer's chat.
        cashier = fake.user(cashier_id, f"Cashier {cashier_id}")
        done = 0
        while done < budget:
            telegram_id, payload = rng.choice(mine)
            customer = fake.user(telegram_id, "Customer", language_code="en")
            scan = f"/start {payload}"
            await stats.step(fake, cashier_id, "scan", lambda t=scan: fake.send_message(cashier, t))
            amount = f"{rng.randint(1, 200)}.{rng.randint(0, 99):02d}"
            await stats.step(
                fake, cashier_id, "amount", lambda t=amount: fake.send_message(cashier, t)
            )
            confirm = last_with(cashier_id, "Confirm")
            await stats.step(
                fake,
                cashier_id,
                "confirm",
                lambda m=confirm: fake.press(cashier, m, m.callback("Confirm")),
                method="editMessageText",
            )
            done += 3
            if rng.random() < 0.2:
                view = last_with(cashier_id, "Spend points")
                await stats.step(
                    fake,
                    cashier_id,
                    "spend",
                    lambda m=view: fake.press(cashier, m, m.callback("Spend")),
                )
                await stats.step(fake, cashier_id, "bill", lambda: fake.send_message(cashier, "50"))
                ask = last_with(cashier_id, "Spend")
                await stats.step(
                    fake,
                    telegram_id,
                    "request",
                    lambda m=ask: fake.press(cashier, m, m.callback("Spend")),
                    also=(cashier_id, "sendMessage"),
                )
                request = last_with(telegram_id, "Yes")
                await stats.step(
                    fake,
                    telegram_id,
                    "customer",
                    lambda c=customer, m=request: fake.press(c, m, m.callback("Yes")),
                    method="editMessageText",
                    also=(cashier_id, "editMessageText"),
                )
                done += 4

    started = time.perf_counter()
    await asyncio.gather(
        *(
            worker(cashier, steps // workers, cards[index::workers])
            for index, cashier in enumerate(cashier_ids)
        )
    )
    elapsed = time.perf_counter() - started
    mismatches = await app.shop.storage.balance_mismatches()  # type: ignore[attr-defined]
    await app.dispatcher.stop_polling()
    await polling
    await app.close()
    await fake.stop()
    assert mismatches == [], mismatches
    return stats.report("desk", elapsed)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--cashiers", type=int, default=20)
    parser.add_argument("--steps", type=int, default=3_000)
    args = parser.parse_args()
    echo = await run_echo(args.steps, args.cashiers)
    desk = await run_desk(args.steps, args.cashiers, args.customers)
    print(f"desk throughput = {desk['ops_per_s'] / echo['ops_per_s']:.0%} of the echo ceiling")


if __name__ == "__main__":
    asyncio.run(main())
