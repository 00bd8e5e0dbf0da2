"""A full disk is reported as a full disk; webhook updates already acknowledged to Telegram
are finished on shutdown."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.app import Application
from bot.domain.tokens import new_card_identity
from storage import SQLiteStorage
from tests.fakeapi import FakeTelegram
from tests.helpers import join


async def fill_up(storage: SQLiteStorage) -> None:
    """No page may be added any more: the next growing write meets SQLITE_FULL."""
    (pages,) = (await storage._writer.execute_fetchall("PRAGMA page_count"))[0]
    await storage._writer.execute(f"PRAGMA max_page_count = {pages}")


async def test_a_full_database_raises_sqlite_full_and_recovers(tmp_path: Path) -> None:
    storage = await SQLiteStorage.open(str(tmp_path / "full.db"))
    try:
        await fill_up(storage)
        with pytest.raises(sqlite3.OperationalError) as raised:
            for number in range(200):  # a page holds a few dozen customers at most
                await storage.register_customer(
                    5000 + number, "N" * 300, "en", 0, new_card_identity
                )
        assert raised.value.sqlite_errorname == "SQLITE_FULL"
        assert "full" in str(raised.value)
        await storage._writer.execute("PRAGMA max_page_count = 1000000")
        customer, created = await storage.register_customer(
            6000, "After", "en", 0, new_card_identity
        )  # no transaction was left open by the failure
        assert created and customer.name == "After"
    finally:
        await storage.close()


async def test_the_log_says_the_disk_is_full(
    app: Application, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    await fill_up(app.shop.storage)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        for number in range(40):
            user = fake.user(5100 + number, "N" * 60)
            fake.send_message(user, "/start")
            reply = await fake.next_message(5100 + number)
            if "Sorry" in reply.content:
                break
        else:
            pytest.fail("the database never filled up")
    [failure] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "database or disk is full" in failure.getMessage()
    await app.shop.storage._writer.execute("PRAGMA max_page_count = 1000000")  # type: ignore[attr-defined]
    await join(fake, fake.user(5200, "After"))  # and the bot goes on


async def test_webhook_shutdown_finishes_acknowledged_updates(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    import asyncio
    import socket

    import aiohttp

    from bot.webhook import WEBHOOK_PATH
    from tests.conftest import TEST_PROGRAM, make_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(
        tmp_path, fake.base_url, webhook_url="https://shop.example.com",
        webhook_secret="s3cret-token-for-tests", webhook_host="127.0.0.1", webhook_port=port,
    )  # fmt: skip
    app = await Application.create(settings, TEST_PROGRAM)
    await app.prepare()
    runner = await app.start_webhook()
    storage = app.shop.storage
    entered, gate, order = asyncio.Event(), asyncio.Event(), []
    register, close_storage = storage.register_customer, storage.close

    async def slow_register(*args: object, **kwargs: object) -> object:
        entered.set()
        await gate.wait()  # still at work when the shutdown begins
        return await register(*args, **kwargs)  # type: ignore[arg-type]

    async def recorded_close() -> None:
        order.append("storage closed")
        await close_storage()

    storage.register_customer = slow_register  # type: ignore[method-assign]
    storage.close = recorded_close  # type: ignore[method-assign]
    user = fake.user(5301, "Late")
    update = {"update_id": 5301, "message": fake.send_message(user, "/start")}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token-for-tests"},
        ) as response,
    ):
        assert response.status == 200  # acknowledged: Telegram will not send it again
    await entered.wait()
    await runner.cleanup()
    closing = asyncio.create_task(app.close())
    gate.set()
    await closing
    photos = [m for m in fake.messages(5301) if m.kind == "photo"]
    assert len(photos) == 1 and order == ["storage closed"]
    check = await SQLiteStorage.open(settings.database_path)
    try:
        assert await check.customer_by_telegram(5301) is not None  # the card was booked
    finally:
        await check.close()
