"""One bot per database: a second `python -m bot` and `restore` refuse while one runs."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from storage import backup as backup_module
from storage.migrations import MIGRATIONS
from tests.fakeapi import TOKEN, FakeTelegram
from tests.test_process_e2e import bot_env, finish, run_bot


def run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path, env=bot_env(tmp_path, **env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def run_cli_async(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """The same, without blocking the event loop the fake server (and so the bot) needs."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=tmp_path, env=bot_env(tmp_path, **env), stdout=-1, stderr=-1,
    )  # fmt: skip
    return await finish(process)


def is_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


async def test_a_second_bot_and_a_restore_refuse_while_one_runs(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    env = {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": fake.base_url,
        "DATABASE_URL": "sqlite:///shop.db",
        "DEFAULT_LOCALE": "uk",
    }
    first = await run_bot(tmp_path, **env)
    try:
        await fake.wait_call("getUpdates", timeout=30)
        fake.send_message(fake.user(4601, "Ann"), "/start")
        await fake.next_message(4601, timeout=30)
        code, stderr = await run_cli_async(tmp_path, env, "backup", "copy.db")
        assert code == 0, stderr  # backups need no lock

        second = await run_bot(tmp_path, **env)
        code, stderr = await finish(second)
        assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
        assert "shop.db" in stderr and is_cyrillic(stderr) and "Traceback" not in stderr

        before = sorted(p.name for p in tmp_path.iterdir())
        code, stderr = await run_cli_async(tmp_path, env, "restore", "copy.db")
        assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
        assert is_cyrillic(stderr) and "Traceback" not in stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing moved
        assert first.returncode is None  # the running bot carries on
    finally:
        first.send_signal(signal.SIGTERM)
        code, stderr = await finish(first)
    assert code == 0, stderr
    code, stderr = await run_cli_async(tmp_path, env, "restore", "copy.db")
    assert code == 0, stderr  # once it stopped: fine


def test_restore_holds_the_lock_while_it_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot started in the middle of a restore exits 2 instead of opening a half-made file."""
    source = sqlite3.connect(tmp_path / "source.db")  # the least `verify` accepts
    for table in ("customers", "ledger", "lots", "staff"):
        source.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    source.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    source.commit()
    source.close()
    env = {"BOT_TOKEN": TOKEN, "DATABASE_URL": "sqlite:///shop.db"}
    started: list[subprocess.CompletedProcess[str]] = []
    real_restore = backup_module.restore

    def restore_while_a_bot_starts(backup: Path, database: Path) -> Path | None:
        started.append(run_cli(tmp_path, env))
        return real_restore(backup, database)

    monkeypatch.setattr(backup_module, "restore", restore_while_a_bot_starts)
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["restore", "source.db"]) == 0
    assert len(started) == 1 and started[0].returncode == 2, started
    assert "shop.db" in started[0].stderr and len(started[0].stderr.strip().splitlines()) == 1
    assert sqlite3.connect(tmp_path / "shop.db").execute("PRAGMA user_version").fetchone() == (
        len(MIGRATIONS),
    )
