"""`python -m bot` as a real process: the card flow over HTTP, and clear start-up failures."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.fakeapi import TOKEN, FakeTelegram
from tests.helpers import decode_qr

ROOT = Path(__file__).resolve().parent.parent


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    }
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


async def run_bot(tmp_path: Path, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,  # no .env there: only what the test passes
        env=bot_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int, str]:
    _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, stderr.decode()


async def test_start_to_decoded_card_in_a_real_process(tmp_path: Path, fake: FakeTelegram) -> None:
    process = await run_bot(
        tmp_path,
        BOT_TOKEN=TOKEN,
        BOT_API_URL=fake.base_url,
        DATABASE_URL="sqlite:///shop.db",
        SHOP_NAME="Bakery & Sons",
        DEFAULT_LOCALE="uk",
    )
    try:
        await fake.wait_call("getUpdates", timeout=30)
        ann = fake.user(777, "Ann", language_code=None)
        fake.send_message(ann, "/start")
        card = await fake.next_message(777, timeout=30)
        assert card.kind == "photo" and card.file_bytes
        links = decode_qr(card.file_bytes)
        assert len(links) == 1
        assert links[0].startswith(f"https://t.me/{fake.bot_username}?start=c_")
        assert "Bakery &amp; Sons" not in card.content and "Bakery & Sons" in card.content
        assert "Баланс" in card.content  # DEFAULT_LOCALE=uk for a user with no language
    finally:
        process.send_signal(signal.SIGTERM)
        code, stderr = await finish(process)
    assert code == 0, stderr
    assert (tmp_path / "shop.db").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "@BotFather"),
        ({"BOT_TOKEN": "not-a-token"}, "does not look like a bot token"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "postgres://x"}, "DATABASE_URL"),
        ({"BOT_TOKEN": TOKEN, "TIMEZONE": "Mars/Olympus"}, "Mars/Olympus"),
        ({"BOT_TOKEN": TOKEN, "OWNER_IDS": "12,abc"}, "abc"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_LOCALE": "xx"}, "DEFAULT_LOCALE"),
        ({"BOT_TOKEN": TOKEN, "BOT_API_URL": "ftp://x"}, "BOT_API_URL"),
        ({"BOT_TOKEN": TOKEN, "BOT_PROXY": "https://u:pw@proxy:443"}, "BOT_PROXY"),
        ({"BOT_TOKEN": TOKEN, "PROGRAM_FILE": "missing.toml"}, "missing.toml"),
        ({"DEFAULT_LOCALE": "uk"}, "@BotFather"),
    ],
)
async def test_bad_configuration_exits_2_with_one_clear_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    code, stderr = await finish(await run_bot(tmp_path, **env))
    assert code == 2
    assert expected in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


async def test_config_errors_speak_default_locale(tmp_path: Path) -> None:
    code, stderr = await finish(await run_bot(tmp_path, DEFAULT_LOCALE="uk"))
    assert code == 2 and "BOT_TOKEN" in stderr and "@BotFather" in stderr
    assert any("\u0400" <= char <= "\u04ff" for char in stderr)  # Cyrillic: translated


async def test_database_that_is_not_a_database(tmp_path: Path, fake: FakeTelegram) -> None:
    (tmp_path / "junk.db").write_bytes(b"definitely not sqlite " * 200)
    code, stderr = await finish(
        await run_bot(
            tmp_path, BOT_TOKEN=TOKEN, BOT_API_URL=fake.base_url, DATABASE_URL="sqlite:///junk.db"
        )
    )
    assert code == 2 and "junk.db" in stderr and "Traceback" not in stderr
    assert (tmp_path / "junk.db").read_bytes().startswith(b"definitely not sqlite")


async def test_database_folder_missing(tmp_path: Path, fake: FakeTelegram) -> None:
    code, stderr = await finish(
        await run_bot(
            tmp_path,
            BOT_TOKEN=TOKEN,
            BOT_API_URL=fake.base_url,
            DATABASE_URL="sqlite:///no/such/folder/x.db",
        )
    )
    assert code == 2 and "folder" in stderr and "Traceback" not in stderr


async def test_token_rejected_by_telegram(tmp_path: Path, fake: FakeTelegram) -> None:
    other = "987654321:" + "B" * 35
    code, stderr = await finish(
        await run_bot(
            tmp_path, BOT_TOKEN=other, BOT_API_URL=fake.base_url, DATABASE_URL="sqlite:///x.db"
        )
    )
    assert code == 2 and "rejected" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("program", "key"),
    [
        ('earning = "miles"\n', "earning"),
        ('earning = "stamps"\nstamp_reward = ""\n', "stamp_reward"),
        ('[[tiers]]\nname = "A"\nspend = 0\nmultiplier = 0.5\n', "tiers[1].multiplier"),
        ("expiry_days = -3\n", "expiry_days"),
    ],
)
async def test_invalid_program_file_stops_start_up_naming_the_key(
    tmp_path: Path, program: str, key: str
) -> None:
    (tmp_path / "program.toml").write_text(program, encoding="utf-8")
    code, stderr = await finish(
        await run_bot(tmp_path, BOT_TOKEN=TOKEN, PROGRAM_FILE=str(tmp_path / "program.toml"))
    )
    assert code == 2 and key in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


async def test_broadcast_resumes_after_sigkill_and_nobody_gets_it_twice(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    from bot.domain.clock import utcnow
    from storage import Audience, Segment, SQLiteStorage
    from tests.helpers import seed_customers

    database = tmp_path / "shop.db"
    storage = await SQLiteStorage.open(str(database))
    ids = seed_customers(str(database), 300, 20_000)
    await storage.create_broadcast(
        1000, "Hello {name}", None, None, Audience(Segment.EVERYONE), 0, utcnow()
    )
    await storage.close()
    for user_id in [*ids, 1000]:
        fake.user(user_id, f"Guest {user_id}")
    env = {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": fake.base_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "OWNER_IDS": "1000",
        "BROADCAST_RATE": "30",
    }

    def delivered() -> list[int]:
        return [
            int(call.params["chat_id"])
            for call in fake.requests
            if call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) in ids
        ]

    first = await run_bot(tmp_path, **env)
    await fake.wait_for(lambda: len(delivered()) >= 60, timeout=60)
    first.kill()  # SIGKILL: no clean shutdown
    await first.wait()
    halfway = len(delivered())
    assert halfway < len(ids)

    second = await run_bot(tmp_path, **env)
    try:
        await fake.wait_for(
            lambda: any("sent." in m.content for m in fake.messages(1000)), timeout=60
        )
    finally:
        second.send_signal(signal.SIGTERM)
        await finish(second)
    got = delivered()
    assert len(got) == len(set(got)), "someone received the promotion twice"
    storage = await SQLiteStorage.open(str(database))
    counts = await storage.outbox_counts(1)
    await storage.close()
    # At most the one message in flight at the kill is in doubt; it is never sent again.
    assert counts.unknown <= 1 and counts.pending == 0
    assert len(ids) - counts.unknown <= len(got) <= len(ids)


async def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    from storage import SQLiteStorage
    from storage.backup import verify

    storage = await SQLiteStorage.open(str(tmp_path / "shop.db"))
    await storage.close()
    env = {"BOT_TOKEN": TOKEN, "DATABASE_URL": "sqlite:///shop.db"}

    async def cli(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=tmp_path, env=bot_env(tmp_path, **env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    code, out, _ = await cli("backup", "copy.db")
    assert code == 0 and "copy.db" in out
    verify(tmp_path / "copy.db")
    (tmp_path / "junk.db").write_bytes(b"junk" * 500)
    code, _, err = await cli("restore", "junk.db")
    assert code == 2 and "not a database backup" in err and "Traceback" not in err
    code, out, _ = await cli("restore", "copy.db")
    assert code == 0 and "before-restore" in out
    verify(tmp_path / "shop.db")


async def test_sigterm_stops_cleanly_within_ten_seconds(tmp_path: Path, fake: FakeTelegram) -> None:
    import time

    process = await run_bot(
        tmp_path, BOT_TOKEN=TOKEN, BOT_API_URL=fake.base_url, DATABASE_URL="sqlite:///shop.db"
    )
    await fake.wait_for(lambda: fake.waiting_polls > 0, timeout=60)
    user = fake.user(778, "Bo")
    fake.send_message(user, "/start")  # work in flight when the signal comes
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code, stderr = await finish(process, timeout=15)
    assert code == 0, stderr
    assert time.monotonic() - began < 10
    assert "Traceback" not in stderr
    db = sqlite3.connect(tmp_path / "shop.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
