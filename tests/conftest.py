"""Shared fixtures: a fake Bot API server on loopback and the real bot polling it in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Application
from bot.config import Settings
from bot.domain.program.model import DEFAULT_PROGRAM, Program, Tier
from bot.domain.promotions import audience_filter
from storage import SQLiteStorage
from tests.fakeapi import TOKEN, FakeTelegram

OWNER_ID = 1000


def make_settings(tmp_path: Path, base_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": TOKEN,
        "bot_api_url": base_url,
        "database_path": str(tmp_path / "loyalty.db"),
        "owner_ids": frozenset({OWNER_ID}),
        "shop_name": "Corner <Café> & Co",
        "timezone": ZoneInfo("Europe/Kyiv"),
        "default_locale": "en",
        "phone_region": "UA",  # a shop in Kyiv: '067 123 45 67' is a Ukrainian number
        "log_level": "INFO",
        "program_file": Path("program.toml"),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


TEST_PROGRAM = Program(
    welcome_bonus=50,
    tiers=(Tier("Bronze", 0), Tier("Silver", 50_000), Tier("Gold", 150_000)),
)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    store = await SQLiteStorage.open(str(tmp_path / "test.db"), audiences=audience_filter)
    yield store
    await store.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


AppFactory = Callable[..., "asyncio.Future[Application]"]


@pytest.fixture
async def start_app(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[Callable[..., object]]:
    """Starts the real bot polling the fake server; stops it (and checks the ledger) after."""
    running: list[tuple[Application, asyncio.Task[None]]] = []

    async def start(program: Program = TEST_PROGRAM, **overrides: object) -> Application:
        settings = make_settings(tmp_path, fake.base_url, **overrides)
        app = await Application.create(settings, program)
        await app.prepare()
        # The catch-up run made at start-up finishes first, so it never races what the test
        # does next (a reminder arriving before a new customer's card, say).
        if app.jobs.startup is not None:
            await asyncio.gather(app.jobs.startup, return_exceptions=True)
        task = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
            )
        )
        running.append((app, task))
        return app

    yield start
    for app, task in running:
        if app.closed:  # a test that restarts the bot closed this one itself
            continue
        with contextlib.suppress(RuntimeError):
            await app.dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        # Whatever a test did, the cached balances must still equal the ledger sums.
        assert await app.shop.storage.balance_mismatches() == []  # type: ignore[attr-defined]
        await app.close()


@pytest.fixture
async def app(start_app: Callable[..., object]) -> Application:
    return await start_app()  # type: ignore[misc]


__all__ = ["DEFAULT_PROGRAM", "OWNER_ID", "TEST_PROGRAM", "make_settings"]
