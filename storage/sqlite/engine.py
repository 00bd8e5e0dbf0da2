"""Connections to one SQLite file and the three ways to use them: `_write` (one BEGIN
IMMEDIATE transaction, whole, on the writer's thread), `_read` (several reads in one hop on
the reader's thread) and `_peek` (a point read on the event loop itself)."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from storage.backup import copy_database
from storage.migrations import apply
from storage.ports import AudienceRule

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def ts(moment: datetime) -> str:
    """How moments are stored: UTC ISO text, so comparing strings compares times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def one(db: sqlite3.Connection, sql: str, args: Any = ()) -> Any:
    """The first row or None. Reading every row ends the statement at once: a half-read
    cursor keeps its read snapshot open, and later reads would see stale data."""
    return next(iter(db.execute(sql, args).fetchall()), None)


class Connection:
    """A plain `sqlite3` connection used only from its own thread: a single-thread executor
    runs whatever is asked of it, one call at a time, in order."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor

    @classmethod
    async def open(cls, path: str) -> Connection:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, cls._connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(conn, executor)

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # Forgotten names and phone numbers are overwritten, not only unlinked.
            conn.execute("PRAGMA secure_delete = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    async def run(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run `body` on the connection's thread. A cancelled caller stops waiting; the call
        itself still runs to its end there, like any transaction already begun."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, body, self._conn)

    async def execute(self, sql: str, args: Any = ()) -> None:
        await self.run(lambda db: db.execute(sql, args).fetchall())

    async def execute_fetchall(self, sql: str, args: Any = ()) -> list[Any]:
        return await self.run(lambda db: db.execute(sql, args).fetchall())

    async def close(self) -> None:
        try:
            await self.run(lambda db: db.close())
        finally:
            self._executor.shutdown(wait=True)


def no_audiences(audience: Any, now: datetime) -> Any:
    raise RuntimeError("this storage was opened without the audience definitions")


class Engine:
    """What every concern's mixin builds on: the connections and how to use them."""

    def __init__(
        self,
        writer: Connection,
        reader: Connection,
        former_secret: bytes | None = None,
        audiences: AudienceRule | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._quick: sqlite3.Connection | None = None  # set by `open` for a file database
        # Keys `former_key`; kept outside the database (see `SQLiteStorage.open`).
        self._former_secret = former_secret or secrets.token_bytes(32)
        self._audiences: AudienceRule = audiences or no_audiences

    @staticmethod
    def _connect_quick(path: str) -> sqlite3.Connection:
        """The connection for point reads made on the event loop itself (see `_peek`)."""
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA busy_timeout = 100")
        return conn

    async def close(self) -> None:
        if self._quick is not None:
            self._quick.close()
            self._quick = None
        if self._reader is not self._writer:
            await self._reader.close()
        await self._writer.close()

    async def _write(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run `body` as one BEGIN IMMEDIATE transaction, whole, on the writer's thread.

        One hop to the thread per transaction, not one per statement, so no transaction
        stays open while a statement's result waits for a busy event loop.
        """

        def transaction(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = body(db)
                db.execute("COMMIT")
            except BaseException as error:
                # Some errors (SQLITE_FULL among them) end the transaction themselves; a
                # ROLLBACK then fails, and its message must not replace the real cause.
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error as failed:
                        error.add_note(f"the rollback failed too: {failed}")
                raise
            return result

        # The writer thread runs one queued transaction at a time: it is the writer lock.
        # An asyncio lock held across the hop would stay taken until the event loop got
        # round to resuming its holder, and every other write would queue behind that.
        return await self._writer.run(transaction)

    async def _update(self, sql: str, *args: Any) -> None:
        def body(db: sqlite3.Connection) -> None:
            db.execute(sql, args)

        return await self._write(body)

    async def _read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run several reads in one hop on the reader's thread (see `_write`)."""
        return await self._reader.run(body)

    async def _fetch(self, sql: str, args: Any = ()) -> list[Any]:
        """Every row of one query, on the reader's thread."""
        return await self._reader.execute_fetchall(sql, args)

    async def _fetch_one(self, sql: str, args: Any = ()) -> Any:
        return await self._read(lambda db: one(db, sql, args))

    async def _peek(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run a few reads through an index right here, on the event loop.

        A hop to a connection's thread costs about 75 us of CPU, two thread wake-ups and a
        fight for the GIL; a read through an index costs about 10 us. In WAL mode a reader
        never waits for the writer, so a peek does not stall the loop behind a write; should
        the file be locked all the same (recovery after a crash, another program holding
        it), the read goes to the reader's thread after 100 ms. Scans, reports and exports
        always go there (`_read`). The connection belongs to the event loop's thread.
        """
        if self._quick is None:  # an in-memory database has one connection only
            return await self._read(body)
        try:
            return body(self._quick)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        return await self._read(body)

    async def _peek_one(self, sql: str, args: Any = ()) -> Any:
        return await self._peek(lambda db: one(db, sql, args))

    async def _migrate(self) -> None:
        await self._write(apply)

    async def backup_to(self, target: str) -> None:
        """A consistent snapshot, taken on the writer's thread between two transactions."""
        await self._writer.run(lambda db: copy_database(db, Path(target)))

    async def schema_version(self) -> int:
        (version,) = await self._fetch_one("PRAGMA user_version")
        return int(version)

    async def pragma(self, name: str) -> Any:
        row = await self._writer.run(lambda db: one(db, f"PRAGMA {name}"))
        return row[0] if row else None
