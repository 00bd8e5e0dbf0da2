"""The database, its WAL files, backups and secrets are the bot user's alone; forgotten
data is overwritten."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from storage import SQLiteStorage
from tests.fakeapi import TOKEN, FakeTelegram
from tests.test_process_e2e import bot_env, finish, run_bot


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    """A permissive umask like most servers', so only the bot's own care counts."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


async def test_a_real_bot_creates_everything_private(tmp_path: Path, fake: FakeTelegram) -> None:
    (tmp_path / "program.toml").write_text("welcome_bonus = 10\n", encoding="utf-8")
    env = {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": fake.base_url,
        "DATABASE_URL": "sqlite:///shop.db",
        "PROGRAM_FILE": str(tmp_path / "program.toml"),
    }
    with umask(0o022):
        process = await run_bot(tmp_path, **env)
    try:
        await fake.wait_call("getUpdates", timeout=30)
        fake.send_message(fake.user(4401, "Ann"), "/start")
        assert (await fake.next_message(4401, timeout=30)).kind == "photo"
        db = sqlite3.connect(tmp_path / "shop.db")
        assert db.execute("SELECT count(*) FROM ledger").fetchone() == (1,)  # the welcome
        db.close()
        with umask(0o022):
            backup = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "backup", "copy.db",
                cwd=tmp_path, env=bot_env(tmp_path, **env),
                stdout=-1, stderr=-1,
            )  # fmt: skip
        code, stderr = await finish(backup)
        assert code == 0, stderr
        names = ["shop.db", "shop.db-wal", "shop.db-shm", "shop.db.lock", "shop.db.key"]
        assert {name: oct(mode(tmp_path / name)) for name in [*names, "copy.db"]} == {
            name: "0o600" for name in [*names, "copy.db"]
        }
    finally:
        process.send_signal(signal.SIGTERM)
        code, stderr = await finish(process)
    assert code == 0, stderr


async def test_nightly_backups_go_to_a_private_folder(
    start_app: object, tmp_path: Path, fake: FakeTelegram
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    for folder in (tmp_path / "new" / "backups", shared):
        with umask(0o022):
            app: Application = await start_app(backup_dir=folder)  # type: ignore[operator]
            target = await app.jobs.backup()
        assert target is not None and target.parent == folder
        assert mode(folder) == 0o700 and mode(target) == 0o600
        await app.close()


async def test_an_older_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with umask(0o022):
        old = sqlite3.connect(path)
        old.execute("PRAGMA journal_mode = WAL")
        old.execute("CREATE TABLE t (x)")
        old.commit()
        assert mode(path) == 0o644 and mode(tmp_path / "old.db-wal") == 0o644
        storage = await SQLiteStorage.open(str(path))
        old.close()
    try:
        assert mode(path) == 0o600 and mode(tmp_path / "old.db-wal") == 0o600
    finally:
        await storage.close()


async def test_secure_delete_overwrites_what_a_customer_forgot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Debian builds SQLite with SECURE_DELETE on by default, others (macOS, many wheels) do
    # not: connections here start with it off, as there.
    plain_connect = sqlite3.connect

    def connect_without(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = plain_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect_without)
    path = tmp_path / "forget.db"
    storage = await SQLiteStorage.open(str(path))
    try:
        assert storage._quick is not None
        values = [
            *[
                (await c.execute_fetchall("PRAGMA secure_delete"))[0][0]
                for c in (storage._writer, storage._reader)
            ],
            storage._quick.execute("PRAGMA secure_delete").fetchone()[0],
        ]
        assert values == [1, 1, 1]  # every connection, the one on the event loop too
        from bot.domain.tokens import new_card_identity

        name, phone = "Zebulon Quartermaine", "+380509876543"
        customer, _ = await storage.register_customer(4501, name, "en", 0, new_card_identity)
        await storage.set_phone(customer.id, phone)
        await storage.forget_customer(customer.id)
        await storage.pragma("wal_checkpoint(TRUNCATE)")
    finally:
        await storage.close()
    data = path.read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("forget.db-*") if p.is_file()
    )
    assert name.encode() not in data and phone.encode() not in data
