"""The SQLite backend itself: migrations, pragmas, STRICT tables and triggers, and the
point reads made on the event loop (what every backend must do is in storage_contract/)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.domain.tokens import new_card_identity
from storage import EntryKind, SQLiteStorage, open_storage
from storage.migrations import MIGRATIONS


async def register(storage: SQLiteStorage, telegram_id: int = 1, welcome: int = 0):  # type: ignore[no-untyped-def]
    customer, _ = await storage.register_customer(
        telegram_id, "Ann", "en", welcome, new_card_identity
    )
    return customer


async def test_pragmas_and_schema(storage: SQLiteStorage) -> None:
    assert await storage.pragma("journal_mode") == "wal"
    assert await storage.pragma("foreign_keys") == 1
    assert await storage.pragma("synchronous") == 2  # FULL
    assert await storage.pragma("busy_timeout") == 10000
    assert await storage.schema_version() == len(MIGRATIONS)


async def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "again.db")
    first = await SQLiteStorage.open(path)
    await register(first, 7, welcome=10)
    await first.close()
    second = await SQLiteStorage.open(path)
    assert await second.schema_version() == len(MIGRATIONS)
    customer = await second.customer_by_telegram(7)
    assert customer is not None and customer.balance == 10
    await second.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        await SQLiteStorage.open(str(path))


async def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    path.write_text("this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        await open_storage(str(path))


async def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await open_storage(str(tmp_path / "nope" / "x.db"))


async def test_tables_are_strict(storage: SQLiteStorage) -> None:
    customer = await register(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await storage._update("UPDATE customers SET balance = 'lots' WHERE id = ?", customer.id)


async def test_ledger_is_append_only(storage: SQLiteStorage) -> None:
    customer = await register(storage)
    await storage.book(customer.id, EntryKind.PURCHASE, 30, "a")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await storage._update("UPDATE ledger SET amount = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await storage._update("DELETE FROM ledger")


async def test_point_reads_on_the_loop_see_committed_writes(tmp_path: Path) -> None:
    # The loop's own read connection and the writer's thread share one WAL file.
    storage = await SQLiteStorage.open(str(tmp_path / "peek.db"))
    try:
        ann = await register(storage, 71, welcome=25)
        again, staff = await storage.identify(71)
        assert again == ann and not staff
        await storage.book(ann.id, EntryKind.PURCHASE, 10, "op-peek", bill_minor=1000)
        assert (await storage.customer(ann.id)).balance == 35  # type: ignore[union-attr]
        assert (await storage.entry_by_operation("op-peek")) is not None
    finally:
        await storage.close()


async def test_a_locked_file_moves_point_reads_off_the_event_loop(tmp_path: Path) -> None:
    storage = await SQLiteStorage.open(str(tmp_path / "locked.db"))
    quick = storage._quick
    assert quick is not None

    class Locked:
        """The loop's connection as it behaves while another program holds the file."""

        def __init__(self, code: int) -> None:
            self.code = code

        def execute(self, *args: object) -> None:
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = self.code  # type: ignore[attr-defined]
            raise error

    try:
        ann = await register(storage, 81, welcome=5)
        storage._quick = Locked(sqlite3.SQLITE_BUSY)  # type: ignore[assignment]
        found = await storage.customer(ann.id)  # answered by the reader's thread instead
        assert found is not None and found.balance == 5
        storage._quick = Locked(sqlite3.SQLITE_IOERR)  # type: ignore[assignment]
        with pytest.raises(sqlite3.OperationalError):
            await storage.customer(ann.id)  # other failures are not hidden
    finally:
        storage._quick = quick
        await storage.close()


async def test_transactions_run_on_one_thread_of_their_own_without_aiosqlite(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys
    import threading

    storage = await SQLiteStorage.open(str(tmp_path / "threads.db"))
    try:
        seen: list[int] = []

        def body(db: sqlite3.Connection) -> None:
            seen.append(threading.get_ident())
            db.execute("SELECT 1")

        for _ in range(3):
            await storage._write(body)
        assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
    finally:
        await storage.close()
    code = "import sys, storage, bot.app; sys.exit('aiosqlite' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_storage_modules_stay_small() -> None:
    root = Path(__file__).parent.parent / "storage"
    sizes = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in root.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
