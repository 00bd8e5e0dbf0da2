"""Crash safety: SIGKILL the real bot again and again while a cashier books purchases; after
every restart each purchase the cashier saw confirmed exists exactly once, retried updates
book nothing twice, the database is intact and balances equal the ledger."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

from storage import SQLiteStorage
from tests.fakeapi import TOKEN, FakeTelegram
from tests.helpers import seed_customers
from tests.test_process_e2e import run_bot

KILLS = 20
CASHIER = 4242


def newer_with(fake: FakeTelegram, since: int, text: str) -> bool:
    return any(text in m.content for m in fake.messages(CASHIER)[since:])


def check(database: Path, confirmed: set[str]) -> int:
    db = sqlite3.connect(database)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        booked = {
            row[0] for row in db.execute("SELECT operation_id FROM ledger WHERE kind = 'purchase'")
        }
        assert confirmed <= booked, confirmed - booked  # everything confirmed is there
        mismatched = db.execute(
            "SELECT c.id FROM customers c LEFT JOIN ledger l ON l.customer_id = c.id "
            "GROUP BY c.id HAVING c.balance != coalesce(sum(l.amount), 0)"
        ).fetchall()
        assert mismatched == []
        return len(booked)
    finally:
        db.close()


async def test_confirmed_purchases_survive_repeated_sigkill(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    database = tmp_path / "shop.db"
    storage = await SQLiteStorage.open(str(database))
    await storage.close()
    (telegram_id,) = seed_customers(str(database), 1, 4300)
    db = sqlite3.connect(database)
    with db:
        db.execute(
            "INSERT INTO staff (telegram_id, name, added_at) VALUES (?, 'Till', '')", (CASHIER,)
        )
        (payload,) = db.execute("SELECT card_payload FROM customers").fetchone()
    db.close()
    cashier = fake.user(CASHIER, "Till")
    fake.user(telegram_id, "Guest")
    env = {"BOT_TOKEN": TOKEN, "BOT_API_URL": fake.base_url, "DATABASE_URL": "sqlite:///shop.db",
           "BACKUP_DIR": ""}  # fmt: skip
    rng = random.Random(5)
    confirmed: set[str] = set()
    pressed: set[str] = set()
    for _kill in range(KILLS):
        process = await run_bot(tmp_path, **env)
        try:
            await fake.wait_for(lambda: fake.waiting_polls > 0, timeout=60)
            await fake.idle(quiet=0.3)  # updates left over from before the kill, redelivered
            for _step in range(rng.randint(1, 3)):
                seen = len(fake.messages(CASHIER))
                fake.send_message(cashier, f"/start {payload}")
                await fake.wait_for(lambda s=seen: newer_with(fake, s, "Type the purchase amount"))
                seen = len(fake.messages(CASHIER))
                fake.send_message(cashier, f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}")
                await fake.wait_for(lambda s=seen: newer_with(fake, s, "Confirm?"))
                draft = next(m for m in fake.messages(CASHIER)[seen:] if "Confirm?" in m.content)
                data = draft.callback("Confirm")
                operation = data.split(":")[1]
                pressed.add(operation)
                fake.press(cashier, draft, data)
                if rng.random() < 0.5:
                    fake.press(cashier, draft, data)  # a double tap racing the kill
                await fake.wait_for(lambda d=draft: "Booked" in d.content, timeout=20)
                confirmed.add(operation)
            # Kill at a random moment: maybe mid-way through one more confirmation.
            fake.send_message(cashier, f"/start {payload}")
            await asyncio.sleep(rng.uniform(0, 0.08))
        finally:
            process.kill()
            await process.wait()
        total = check(database, confirmed)
        assert total <= len(pressed) + 1  # never more bookings than presses
    assert len(confirmed) >= KILLS
