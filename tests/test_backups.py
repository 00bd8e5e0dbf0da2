"""Backups: consistent snapshots of the live database, daily retention, /backup in the bot,
and restore (refusing anything that is not a valid backup)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.domain.tokens import new_card_identity
from storage import EntryKind, SQLiteStorage
from storage.backup import BadBackup, restore, verify
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram

Start = Callable[..., Any]


async def filled(path: Path) -> SQLiteStorage:
    storage = await SQLiteStorage.open(str(path))
    for telegram_id in range(5):
        customer, _ = await storage.register_customer(
            telegram_id, "Ім'я", "uk", 20, new_card_identity
        )
        await storage.book(customer.id, EntryKind.PURCHASE, 7, f"p{telegram_id}", bill_minor=700)
    return storage


async def totals(path: Path) -> list[tuple[int, int]]:
    storage = await SQLiteStorage.open(str(path))
    try:
        assert await storage.balance_mismatches() == []
        assert await storage.pragma("integrity_check") == "ok"
        return [(c.id, c.balance) for c, _ in await storage.spends(None)]
    finally:
        await storage.close()


async def test_backup_restore_gives_the_same_balances(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    storage = await filled(live)
    await storage.backup_to(str(tmp_path / "snap.db"))
    before = [(c.id, c.balance) for c, _ in await storage.spends(None)]
    await storage.book(1, EntryKind.ADJUST, 100, "after")  # after the snapshot
    await storage.close()
    assert verify(tmp_path / "snap.db") >= 1
    kept = restore(tmp_path / "snap.db", live)
    assert kept is not None and kept.exists()
    assert await totals(live) == before == [(i, 27) for i in range(1, 6)]


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all " * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.close()
    target = tmp_path / "live.db"
    target.write_bytes(b"keep me")
    for path, reason in (
        (junk, "not_sqlite"),
        (other, "not_loyalty"),
        (tmp_path / "no", "missing"),
    ):
        with pytest.raises(BadBackup) as caught:
            restore(path, target)
        assert caught.value.reason == reason
    assert target.read_bytes() == b"keep me"  # nothing was touched


async def test_daily_backups_keep_the_newest(start_app: Start, tmp_path: Path) -> None:
    app: Application = await start_app(backup_dir=tmp_path / "backups", backup_keep=2)
    written = [await app.jobs.backup() for _ in range(3)]
    left = sorted((tmp_path / "backups").glob("loyalty-*.db"))
    assert left == sorted(written[1:])  # type: ignore[type-var]
    for path in left:
        verify(path)


async def test_owner_gets_a_backup_document(
    app: Application, fake: FakeTelegram, tmp_path: Path
) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/start")
    await fake.wait_for(lambda: len(fake.messages(OWNER_ID)) >= 2)
    fake.send_message(owner, "/backup")
    document = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if m.kind == "document"), None)
    )
    assert "python -m bot restore" in document.content
    copy = tmp_path / "got.db"
    copy.write_bytes(document.file_bytes)
    verify(copy)
    assert [balance for _id, balance in await totals(copy)] == [50]  # the owner's welcome
