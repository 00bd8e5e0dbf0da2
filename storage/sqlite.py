"""SQLite backend: WAL, STRICT tables, one writer behind a lock, readers on their own connection."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite

from storage.base import (
    Booking,
    CardIdentity,
    Customer,
    EntryKind,
    InsufficientPoints,
    LedgerEntry,
    NotFound,
    OperationConflict,
)
from storage.migrations import MIGRATIONS

CUSTOMER_COLUMNS = (
    "id, telegram_id, name, language, phone, birthday, card_number, card_payload, promotions, "
    "balance, card_file_id, card_file_key, created_at, last_seen_at, forgotten_at"
)
LEDGER_COLUMNS = (
    "id, customer_id, kind, amount, reason, operation_id, operator_id, reverses_id, bill_minor, "
    "created_at"
)
CARD_ATTEMPTS = 20


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _customer(row: sqlite3.Row | tuple[Any, ...]) -> Customer:
    return Customer(
        id=row[0],
        telegram_id=row[1],
        name=row[2],
        language=row[3],
        phone=row[4],
        birthday=date.fromisoformat(row[5]) if row[5] else None,
        card_number=row[6],
        card_payload=row[7],
        promotions=bool(row[8]),
        balance=row[9],
        card_file_id=row[10],
        card_file_key=row[11],
        created_at=datetime.fromisoformat(row[12]),
        last_seen_at=datetime.fromisoformat(row[13]),
        forgotten=row[14] is not None,
    )


def _entry(row: sqlite3.Row | tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(
        id=row[0],
        customer_id=row[1],
        kind=EntryKind(row[2]),
        amount=row[3],
        reason=row[4],
        operation_id=row[5],
        operator_id=row[6],
        reverses_id=row[7],
        bill_minor=row[8],
        created_at=datetime.fromisoformat(row[9]),
    )


class SQLiteStorage:
    """The `storage.base.Storage` interface over one SQLite file."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SQLiteStorage:
        memory = path == ":memory:"
        # An in-memory database cannot be shared by two connections; one serves both roles.
        writer = await cls._connect(path)
        try:
            reader = writer if memory else await cls._connect(path)
        except BaseException:
            await writer.close()
            raise
        storage = cls(writer, reader)
        try:
            await storage._migrate()
        except BaseException:
            await storage.close()
            raise
        return storage

    @staticmethod
    async def _connect(path: str) -> aiosqlite.Connection:
        # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            # The connection's worker thread would otherwise keep the process alive.
            await conn.close()
            raise
        return conn

    async def close(self) -> None:
        if self._reader is not self._writer:
            await self._reader.close()
        await self._writer.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def _migrate(self) -> None:
        async with self._transaction() as db:
            (version,) = await (await db.execute("PRAGMA user_version")).fetchone()  # type: ignore[misc]
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"database schema {version} is newer than this program ({len(MIGRATIONS)})"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _split_sql(script):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")

    async def schema_version(self) -> int:
        (version,) = await (await self._reader.execute("PRAGMA user_version")).fetchone()  # type: ignore[misc]
        return int(version)

    async def pragma(self, name: str) -> Any:
        row = await (await self._writer.execute(f"PRAGMA {name}")).fetchone()
        return row[0] if row else None

    # --- customers ---------------------------------------------------------------------

    async def _one_customer(self, where: str, *args: Any) -> Customer | None:
        cursor = await self._reader.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {where}", args
        )
        row = await cursor.fetchone()
        return _customer(row) if row else None

    async def customer(self, customer_id: int) -> Customer | None:
        return await self._one_customer("id = ?", customer_id)

    async def customer_by_telegram(self, telegram_id: int) -> Customer | None:
        return await self._one_customer("telegram_id = ?", telegram_id)

    async def customer_by_card_number(self, card_number: str) -> Customer | None:
        return await self._one_customer("card_number = ? AND forgotten_at IS NULL", card_number)

    async def customer_by_payload(self, payload: str) -> Customer | None:
        return await self._one_customer("card_payload = ? AND forgotten_at IS NULL", payload)

    async def register_customer(
        self,
        telegram_id: int,
        name: str,
        language: str | None,
        welcome_points: int,
        new_card: CardIdentity,
    ) -> tuple[Customer, bool]:
        now = _ts(utcnow())
        async with self._transaction() as db:
            cursor = await db.execute(
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE telegram_id = ?", (telegram_id,)
            )
            row = await cursor.fetchone()
            if row:
                return _customer(row), False
            for _attempt in range(CARD_ATTEMPTS):
                number, payload = new_card()
                try:
                    cursor = await db.execute(
                        "INSERT INTO customers (telegram_id, name, language, card_number, "
                        "card_payload, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (telegram_id, name, language, number, payload, now, now),
                    )
                    break
                except sqlite3.IntegrityError:
                    continue  # a card number collision: draw another
            else:
                raise RuntimeError("could not draw a free card number")
            customer_id = cursor.lastrowid
            assert customer_id is not None
            if welcome_points > 0:
                await self._append(
                    db,
                    customer_id,
                    EntryKind.WELCOME,
                    welcome_points,
                    f"welcome:{customer_id}",
                    "welcome bonus",
                    None,
                    None,
                    None,
                    now,
                )
            cursor = await db.execute(
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,)
            )
            row = await cursor.fetchone()
            assert row is not None
            return _customer(row), True

    async def _update(self, sql: str, *args: Any) -> None:
        async with self._transaction() as db:
            await db.execute(sql, args)

    async def touch(self, customer_id: int, name: str) -> None:
        await self._update(
            "UPDATE customers SET last_seen_at = ?, name = ? WHERE id = ? AND forgotten_at IS NULL",
            _ts(utcnow()),
            name,
            customer_id,
        )

    async def set_language(self, customer_id: int, language: str) -> None:
        await self._update("UPDATE customers SET language = ? WHERE id = ?", language, customer_id)

    async def set_phone(self, customer_id: int, phone: str | None) -> None:
        await self._update("UPDATE customers SET phone = ? WHERE id = ?", phone, customer_id)

    async def set_birthday(self, customer_id: int, birthday: date | None) -> None:
        await self._update(
            "UPDATE customers SET birthday = ? WHERE id = ?",
            birthday.isoformat() if birthday else None,
            customer_id,
        )

    async def set_promotions(self, customer_id: int, enabled: bool) -> None:
        await self._update(
            "UPDATE customers SET promotions = ? WHERE id = ?", int(enabled), customer_id
        )

    async def set_card_file(self, customer_id: int, key: str, file_id: str) -> None:
        await self._update(
            "UPDATE customers SET card_file_key = ?, card_file_id = ? WHERE id = ?",
            key,
            file_id,
            customer_id,
        )

    async def forget_customer(self, customer_id: int) -> None:
        # Personal data goes; the row and its ledger stay so balances and figures still add up.
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE customers SET telegram_id = NULL, name = '', language = NULL, "
                "phone = NULL, birthday = NULL, promotions = 0, card_file_id = NULL, "
                "card_file_key = NULL, card_number = 'forgotten-' || id, "
                "card_payload = 'forgotten-' || id, forgotten_at = ? "
                "WHERE id = ? AND forgotten_at IS NULL",
                (_ts(utcnow()), customer_id),
            )
            if cursor.rowcount == 0:
                raise NotFound(customer_id)

    # --- ledger ------------------------------------------------------------------------

    async def _append(
        self,
        db: aiosqlite.Connection,
        customer_id: int,
        kind: EntryKind,
        amount: int,
        operation_id: str,
        reason: str,
        operator_id: int | None,
        reverses_id: int | None,
        bill_minor: int | None,
        now: str,
    ) -> tuple[LedgerEntry, int]:
        cursor = await db.execute("SELECT balance FROM customers WHERE id = ?", (customer_id,))
        row = await cursor.fetchone()
        if row is None:
            raise NotFound(customer_id)
        balance = row[0] + amount
        if balance < 0:
            raise InsufficientPoints(row[0], amount)
        cursor = await db.execute(
            "INSERT INTO ledger (customer_id, kind, amount, reason, operation_id, operator_id, "
            "reverses_id, bill_minor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                customer_id,
                kind.value,
                amount,
                reason,
                operation_id,
                operator_id,
                reverses_id,
                bill_minor,
                now,
            ),
        )
        # The cached balance moves in the same transaction as the entry that explains it.
        await db.execute("UPDATE customers SET balance = ? WHERE id = ?", (balance, customer_id))
        entry = LedgerEntry(
            id=cursor.lastrowid or 0,
            customer_id=customer_id,
            kind=kind,
            amount=amount,
            reason=reason,
            operation_id=operation_id,
            operator_id=operator_id,
            reverses_id=reverses_id,
            bill_minor=bill_minor,
            created_at=datetime.fromisoformat(now),
        )
        return entry, balance

    async def book(
        self,
        customer_id: int,
        kind: EntryKind,
        amount: int,
        operation_id: str,
        reason: str = "",
        operator_id: int | None = None,
        reverses_id: int | None = None,
        bill_minor: int | None = None,
    ) -> Booking:
        async with self._transaction() as db:
            cursor = await db.execute(
                f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?", (operation_id,)
            )
            row = await cursor.fetchone()
            if row is not None:
                existing = _entry(row)
                if (existing.customer_id, existing.kind, existing.amount) != (
                    customer_id,
                    kind,
                    amount,
                ):
                    raise OperationConflict(operation_id)
                cursor = await db.execute(
                    "SELECT balance FROM customers WHERE id = ?", (customer_id,)
                )
                (balance,) = await cursor.fetchone()  # type: ignore[misc]
                return Booking(existing, False, balance)
            entry, balance = await self._append(
                db,
                customer_id,
                kind,
                amount,
                operation_id,
                reason,
                operator_id,
                reverses_id,
                bill_minor,
                _ts(utcnow()),
            )
            return Booking(entry, True, balance)

    async def history(self, customer_id: int, limit: int, offset: int = 0) -> list[LedgerEntry]:
        cursor = await self._reader.execute(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE customer_id = ? "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (customer_id, limit, offset),
        )
        return [_entry(row) for row in await cursor.fetchall()]

    async def count_entries(self, customer_id: int) -> int:
        cursor = await self._reader.execute(
            "SELECT count(*) FROM ledger WHERE customer_id = ?", (customer_id,)
        )
        (count,) = await cursor.fetchone()  # type: ignore[misc]
        return int(count)

    async def ledger_sum(self, customer_id: int) -> int:
        cursor = await self._reader.execute(
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ?", (customer_id,)
        )
        (total,) = await cursor.fetchone()  # type: ignore[misc]
        return int(total)

    async def balance_mismatches(self) -> list[tuple[int, int, int]]:
        """(customer id, cached balance, ledger sum) for every card where the two disagree."""
        cursor = await self._reader.execute(
            "SELECT c.id, c.balance, coalesce(sum(l.amount), 0) AS total FROM customers c "
            "LEFT JOIN ledger l ON l.customer_id = c.id GROUP BY c.id HAVING c.balance != total"
        )
        return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements; triggers keep their inner semicolons."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
