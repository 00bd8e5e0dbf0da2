"""SQLite backend: WAL, STRICT tables, one writer behind a lock, readers on their own connection."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.backup import copy_database
from storage.base import (
    Audience,
    Booking,
    BookingRules,
    Broadcast,
    BroadcastStatus,
    CardIdentity,
    Claim,
    Customer,
    EarningContext,
    EntryKind,
    ExpiringPoints,
    FlaggedReferral,
    GroupResponse,
    InsufficientPoints,
    InviteOutcome,
    LedgerEntry,
    NotFound,
    NothingToReverse,
    Offer,
    OfferKind,
    OfferResults,
    OfferUnavailable,
    Operation,
    OperationConflict,
    OutboxCounts,
    PendingOperation,
    PendingStatus,
    PeriodFigures,
    Referral,
    ReferralDecision,
    ReferralStats,
    ReferralStatus,
    ReferralTerms,
    ReferrerRow,
    ReversalRule,
    Segment,
    Settled,
    Settlement,
    StaffInvite,
    StaffMember,
    WeeklySeries,
    skip_reason,
)
from storage.files import beside, private_database, read_or_create_secret
from storage.migrations import MIGRATIONS, SQL_FUNCTIONS

CUSTOMER_COLUMNS = (
    "id, telegram_id, name, language, phone, birthday, card_number, card_payload, promotions, "
    "balance, card_file_id, card_file_key, created_at, last_seen_at, forgotten_at, tier, "
    "unreachable_at"
)
OFFER_COLUMNS = "id, title, kind, value, valid_from, valid_until, per_customer, holdout_percent"
BROADCAST_COLUMNS = (
    "id, created_by, text, photo_file_id, button_text, button_url, audience, holdout_percent, "
    "status, send_at, progress_chat_id, progress_message_id, created_at"
)
REFERRAL_COLUMNS = (
    "friend_id, referrer_id, source, status, reason, purchase_entry_id, created_at, decided_at"
)
LEDGER_COLUMNS = (
    "id, customer_id, kind, amount, reason, operation_id, operator_id, reverses_id, bill_minor, "
    "created_at, shortfall"
)
PENDING_COLUMNS = (
    "id, kind, customer_id, operator_id, points, bill_minor, reverses_id, status, staff_chat_id, "
    "staff_message_id, customer_message_id, created_at, expires_at, rules, reward, offer_id"
)
REVERSIBLE = (EntryKind.PURCHASE.value, EntryKind.REDEEM.value)
# Spend that counts for tiers: purchases less what was refunded of them. Refund entries carry
# the refunded amount in bill_minor; undoing a redemption carries none.
SPEND_SQL = (
    "coalesce(sum(CASE kind WHEN 'purchase' THEN coalesce(bill_minor, 0) "
    "WHEN 'refund' THEN -coalesce(bill_minor, 0) ELSE 0 END), 0)"
)
CARD_ATTEMPTS = 20
log = logging.getLogger(__name__)
T = TypeVar("T")


async def _one(db: aiosqlite.Connection, sql: str, args: Any = ()) -> Any:
    """The first row or None. Reading every row ends the statement at once: a half-read
    cursor keeps its read snapshot open, and later reads would see stale data."""
    rows = await db.execute_fetchall(sql, args)
    return next(iter(rows), None)


def _one_sync(db: sqlite3.Connection, sql: str, args: Any = ()) -> Any:
    return next(iter(db.execute(sql, args).fetchall()), None)


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
        tier=row[15],
        unreachable_at=datetime.fromisoformat(row[16]) if row[16] else None,
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
        shortfall=row[10],
    )


def _referral(row: sqlite3.Row | tuple[Any, ...]) -> Referral:
    return Referral(
        friend_id=row[0],
        referrer_id=row[1],
        source=row[2],
        status=ReferralStatus(row[3]),
        reason=row[4],
        purchase_entry_id=row[5],
        created_at=datetime.fromisoformat(row[6]),
        decided_at=datetime.fromisoformat(row[7]) if row[7] else None,
    )


def _broadcast(row: sqlite3.Row | tuple[Any, ...]) -> Broadcast:
    return Broadcast(
        id=row[0],
        created_by=row[1],
        text=row[2],
        photo_file_id=row[3],
        button_text=row[4],
        button_url=row[5],
        audience=Audience.parse(row[6]),
        holdout_percent=row[7],
        status=BroadcastStatus(row[8]),
        send_at=datetime.fromisoformat(row[9]),
        progress_chat_id=row[10],
        progress_message_id=row[11],
        created_at=datetime.fromisoformat(row[12]),
    )


def _offer(row: sqlite3.Row | tuple[Any, ...]) -> Offer:
    return Offer(
        id=row[0],
        title=row[1],
        kind=OfferKind(row[2]),
        value=row[3],
        valid_from=datetime.fromisoformat(row[4]),
        valid_until=datetime.fromisoformat(row[5]),
        per_customer=row[6],
        holdout_percent=row[7],
    )


def _customer_sync(db: sqlite3.Connection, customer_id: int) -> Customer:
    row = _one_sync(db, f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,))
    if row is None:
        raise NotFound(customer_id)
    return _customer(row)


def _referral_sync(db: sqlite3.Connection, friend_id: int) -> Referral:
    row = _one_sync(
        db, f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ?", (friend_id,)
    )
    if row is None:
        raise NotFound(friend_id)
    return _referral(row)


def _pending(row: sqlite3.Row | tuple[Any, ...]) -> PendingOperation:
    return PendingOperation(
        id=row[0],
        kind=EntryKind(row[1]),
        customer_id=row[2],
        operator_id=row[3],
        points=row[4],
        bill_minor=row[5],
        reverses_id=row[6],
        status=PendingStatus(row[7]),
        staff_chat_id=row[8],
        staff_message_id=row[9],
        customer_message_id=row[10],
        created_at=datetime.fromisoformat(row[11]),
        expires_at=datetime.fromisoformat(row[12]),
        rules=row[13],
        reward=row[14],
        offer_id=row[15],
    )


class SQLiteStorage:
    """The `storage.base.Storage` interface over one SQLite file."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        former_secret: bytes | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._quick: sqlite3.Connection | None = None  # set by `open` for a file database
        # Keys `former_key`; kept outside the database (see `open`).
        self._former_secret = former_secret or secrets.token_bytes(32)

    @classmethod
    async def open(cls, path: str, former_secret: bytes | None = None) -> SQLiteStorage:
        """`former_secret` defaults to the one in `<path>.key`, made on first start."""
        memory = path == ":memory:"
        if not memory:
            private_database(path)
            if former_secret is None:
                former_secret = read_or_create_secret(beside(path, ".key"))
        # An in-memory database cannot be shared by two connections; one serves both roles.
        writer = await cls._connect(path)
        try:
            reader = writer if memory else await cls._connect(path)
        except BaseException:
            await writer.close()
            raise
        storage = cls(writer, reader, former_secret)
        try:
            await storage._migrate()
            await storage._rekey_former()
            if not memory:
                storage._quick = cls._connect_quick(path)
        except BaseException:
            await storage.close()
            raise
        return storage

    @staticmethod
    def _connect_quick(path: str) -> sqlite3.Connection:
        """The connection for point reads made on the event loop itself (see `_peek`)."""
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA busy_timeout = 100")
        return conn

    @staticmethod
    async def _connect(path: str) -> aiosqlite.Connection:
        # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")
            # Forgotten names and phone numbers are overwritten, not only unlinked.
            await conn.execute("PRAGMA secure_delete = ON")
        except BaseException:
            # The connection's worker thread would otherwise keep the process alive.
            await conn.close()
            raise
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
        stays open while a statement's result waits for a busy event loop. aiosqlite has no
        public call for running a function on its thread, hence _execute.
        """

        def transaction() -> T:
            db = self._writer._conn
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
        return await self._writer._execute(transaction)

    async def _migrate(self) -> None:
        def body(db: sqlite3.Connection) -> Any:
            (version,) = _one_sync(db, "PRAGMA user_version")  # type: ignore[misc]
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"database schema {version} is newer than this program ({len(MIGRATIONS)})"
                )
            for name, function in SQL_FUNCTIONS.items():
                db.create_function(name, 1, function, deterministic=True)
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _split_sql(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

        return await self._write(body)

    async def backup_to(self, target: str) -> None:
        """A consistent snapshot, taken on the writer's thread between two transactions."""

        def snapshot(db: sqlite3.Connection) -> None:
            copy_database(db, Path(target))

        await self._writer._execute(snapshot, self._writer._conn)

    async def schema_version(self) -> int:
        (version,) = await _one(self._reader, "PRAGMA user_version")  # type: ignore[misc]
        return int(version)

    async def pragma(self, name: str) -> Any:
        row = await _one(self._writer, f"PRAGMA {name}")
        return row[0] if row else None

    # --- customers ---------------------------------------------------------------------

    async def _one_customer(self, where: str, *args: Any) -> Customer | None:
        row = await self._peek_one(f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {where}", args)
        return _customer(row) if row else None

    async def customer(self, customer_id: int) -> Customer | None:
        return await self._one_customer("id = ?", customer_id)

    async def customer_by_telegram(self, telegram_id: int) -> Customer | None:
        return await self._one_customer("telegram_id = ?", telegram_id)

    async def identify(self, telegram_id: int) -> tuple[Customer | None, bool]:
        """The sender's customer record and whether they are active staff, in one hop:
        this runs for every update."""

        def body(db: sqlite3.Connection) -> tuple[Customer | None, bool]:
            row = _one_sync(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE telegram_id = ?",
                (telegram_id,),
            )
            staff = _one_sync(
                db,
                "SELECT 1 FROM staff WHERE telegram_id = ? AND revoked_at IS NULL",
                (telegram_id,),
            )
            return (_customer(row) if row else None), staff is not None

        return await self._peek(body)

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
        welcome_expires_at: datetime | None = None,
        tier: str | None = None,
        referrer_id: int | None = None,
        referral_source: str = "link",
    ) -> tuple[Customer, bool]:
        """Create the card (once per Telegram user). A referrer is recorded only here, in
        the transaction that creates the customer: only new customers can be referred."""
        now = _ts(utcnow())

        def body(db: sqlite3.Connection) -> Any:
            row = _one_sync(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE telegram_id = ?",
                (telegram_id,),
            )
            if row:
                return _customer(row), False
            returning = _one_sync(
                db,
                "SELECT 1 FROM customers WHERE former_key = ?",
                (self._former_key_sync(db, telegram_id),),
            )
            if returning:  # came back after "forget me": a new card, but no second bonus
                welcome, referrer = 0, None
            else:
                welcome, referrer = welcome_points, referrer_id
            for _attempt in range(CARD_ATTEMPTS):
                number, payload = new_card()
                try:
                    cursor = db.execute(
                        "INSERT INTO customers (telegram_id, name, language, card_number, "
                        "card_payload, created_at, last_seen_at, tier) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (telegram_id, name, language, number, payload, now, now, tier),
                    )
                    break
                except sqlite3.IntegrityError:
                    continue  # a card number collision: draw another
            else:
                raise RuntimeError("could not draw a free card number")
            customer_id = cursor.lastrowid
            assert customer_id is not None
            if referrer is not None and referrer != customer_id:
                db.execute(
                    "INSERT INTO referrals (friend_id, referrer_id, source, created_at) "
                    "SELECT ?, id, ?, ? FROM customers WHERE id = ? AND forgotten_at IS NULL",
                    (customer_id, referral_source, now, referrer),
                )
            if welcome > 0:
                self._append_sync(
                    db,
                    customer_id,
                    EntryKind.WELCOME,
                    welcome,
                    f"welcome:{customer_id}",
                    "welcome bonus",
                    None,
                    None,
                    None,
                    now,
                    expires_at=_ts(welcome_expires_at) if welcome_expires_at else None,
                )
            row = _one_sync(
                db, f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,)
            )
            assert row is not None
            return _customer(row), True

        return await self._write(body)

    async def _update(self, sql: str, *args: Any) -> None:
        def body(db: sqlite3.Connection) -> Any:
            db.execute(sql, args)

        return await self._write(body)

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

    def _former_key_sync(self, db: sqlite3.Connection, telegram_id: int) -> str:
        """What recognises a forgotten customer who comes back, without keeping their id.

        HMAC-SHA256, with the secret kept outside the database, of the salted hash earlier
        versions stored: Telegram ids are few enough to try them all in hours, so a key
        anyone holding a backup could recompute would be the id itself. Keying the old
        hash (not the id) let the stored keys be converted without knowing the ids.
        """
        row = _one_sync(db, "SELECT value FROM meta WHERE key = 'former_salt'")
        if row is None:
            salt = secrets.token_hex(16)
            db.execute("INSERT INTO meta (key, value) VALUES ('former_salt', ?)", (salt,))
        else:
            salt = row[0]
        return self._keyed(hashlib.sha256(f"{salt}:{telegram_id}".encode()).hexdigest())

    def _keyed(self, value: str) -> str:
        return hmac.new(self._former_secret, value.encode(), hashlib.sha256).hexdigest()

    async def _rekey_former(self) -> None:
        """Once per database: key the unkeyed former_keys of earlier versions. Afterwards a
        different secret (a lost `.key` file) only means returning customers go
        unrecognised, which is said in the log."""
        check = self._keyed("former-key-check")

        def body(db: sqlite3.Connection) -> str | None:
            row = _one_sync(db, "SELECT value FROM meta WHERE key = 'former_check'")
            if row is not None:
                return str(row[0])
            for (key,) in db.execute(
                "SELECT former_key FROM customers WHERE former_key IS NOT NULL"
            ).fetchall():
                db.execute(
                    "UPDATE customers SET former_key = ? WHERE former_key = ?",
                    (self._keyed(key), key),
                )
            db.execute("INSERT INTO meta (key, value) VALUES ('former_check', ?)", (check,))
            return None

        stored = await self._write(body)
        if stored is not None and not hmac.compare_digest(stored, check):
            log.warning(
                "the former-key secret is not the one this database was keyed with: "
                "customers who deleted their card before are not recognised when they return"
            )

    async def forget_customer(self, customer_id: int) -> None:
        # Personal data goes; the row and its ledger stay so balances and figures still add up.
        def body(db: sqlite3.Connection) -> Any:
            row = _one_sync(db, "SELECT telegram_id FROM customers WHERE id = ?", (customer_id,))
            former = self._former_key_sync(db, row[0]) if row and row[0] is not None else None
            cursor = db.execute(
                "UPDATE customers SET telegram_id = NULL, name = '', language = NULL, "
                "phone = NULL, birthday = NULL, promotions = 0, card_file_id = NULL, "
                "card_file_key = NULL, card_number = 'forgotten-' || id, "
                "card_payload = 'forgotten-' || id, referral_payload = NULL, forgotten_at = ?, "
                "former_key = ? WHERE id = ? AND forgotten_at IS NULL",
                (_ts(utcnow()), former, customer_id),
            )
            if cursor.rowcount == 0:
                raise NotFound(customer_id)

        return await self._write(body)

    async def customers_by_phone(self, phone: str) -> list[Customer]:
        """Customers with exactly this number: numbers are stored in E.164 and a typed one is
        parsed into it first (`bot.phones.parse_phone`), so no guessing by trailing digits,
        which missed North Macedonia's 8-digit numbers and could match another country's."""
        rows = await self._reader.execute_fetchall(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE phone = ? AND forgotten_at IS NULL "
            "LIMIT 5",
            (phone,),
        )
        return [_customer(row) for row in rows]

    # --- ledger ------------------------------------------------------------------------

    def _append_sync(
        self,
        db: sqlite3.Connection,
        customer_id: int,
        kind: EntryKind,
        amount: int,
        operation_id: str,
        reason: str,
        operator_id: int | None,
        reverses_id: int | None,
        bill_minor: int | None,
        now: str,
        shortfall: int = 0,
        rules: str = "",
        expires_at: str | None = None,
        lot_first: int | None = None,
    ) -> tuple[LedgerEntry, int]:
        row = _one_sync(db, "SELECT balance FROM customers WHERE id = ?", (customer_id,))
        if row is None:
            raise NotFound(customer_id)
        balance = row[0] + amount
        if balance < 0:
            raise InsufficientPoints(row[0], amount)
        cursor = db.execute(
            "INSERT INTO ledger (customer_id, kind, amount, reason, operation_id, operator_id, "
            "reverses_id, bill_minor, created_at, shortfall, rules) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                shortfall,
                rules,
            ),
        )
        entry_id = cursor.lastrowid or 0
        # The cached balance and the lots move in the same transaction as the entry that
        # explains them: balance == sum of entries == sum of what the lots still hold.
        db.execute("UPDATE customers SET balance = ? WHERE id = ?", (balance, customer_id))
        if amount > 0:
            db.execute(
                "INSERT INTO lots (entry_id, customer_id, points, remaining, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (entry_id, customer_id, amount, amount, expires_at),
            )
        elif amount < 0:
            self._consume_lots_sync(db, customer_id, -amount, lot_first)
        entry = LedgerEntry(
            id=entry_id,
            customer_id=customer_id,
            kind=kind,
            amount=amount,
            reason=reason,
            operation_id=operation_id,
            operator_id=operator_id,
            reverses_id=reverses_id,
            bill_minor=bill_minor,
            created_at=datetime.fromisoformat(now),
            shortfall=shortfall,
        )
        return entry, balance

    @staticmethod
    def _consume_lots_sync(
        db: sqlite3.Connection, customer_id: int, points: int, lot_first: int | None
    ) -> None:
        """Take points from the customer's lots: `lot_first` (a refunded purchase's own, or
        the lot that expires) before the others, then the oldest first."""
        lots = db.execute(
            "SELECT entry_id, remaining FROM lots WHERE customer_id = ? AND remaining > 0 "
            "ORDER BY entry_id = ? DESC, entry_id",
            (customer_id, lot_first if lot_first is not None else -1),
        ).fetchall()
        for entry_id, remaining in lots:
            if points <= 0:
                break
            taken = min(points, remaining)
            db.execute(
                "UPDATE lots SET remaining = remaining - ? WHERE entry_id = ?", (taken, entry_id)
            )
            points -= taken
        if points > 0:  # cannot happen while the balance matches the lots
            raise InsufficientPoints(0, -points)

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
        rules: str = "",
        expires_at: datetime | None = None,
        offer_id: int | None = None,
    ) -> Booking:
        return await self._write(
            lambda db: self._book_sync(
                db,
                customer_id,
                kind,
                amount,
                operation_id,
                reason,
                operator_id,
                reverses_id,
                bill_minor,
                rules,
                expires_at,
                offer_id,
            )
        )

    def _book_sync(
        self,
        db: sqlite3.Connection,
        customer_id: int,
        kind: EntryKind,
        amount: int,
        operation_id: str,
        reason: str,
        operator_id: int | None,
        reverses_id: int | None,
        bill_minor: int | None,
        rules: str,
        expires_at: datetime | None,
        offer_id: int | None,
    ) -> Booking:
        booked = self._already_booked_sync(db, operation_id)
        if booked is not None:
            existing = booked.entry
            if (existing.customer_id, existing.kind, existing.amount) != (
                customer_id,
                kind,
                amount,
            ):
                raise OperationConflict(operation_id)
            return booked
        entry, balance = self._append_sync(
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
            rules=rules,
            expires_at=_ts(expires_at) if expires_at else None,
        )
        if offer_id is not None:
            self._use_offer_sync(db, offer_id, customer_id, operation_id, operator_id)
        return Booking(entry, True, balance)

    async def grant_birthday(
        self, customer_id: int, points: int, year: int, expires_at: datetime | None = None
    ) -> Booking | None:
        """The year's birthday bonus, once per person: None when the same Telegram user
        already had this year's on a card they have since deleted ("forget me", then joining
        again), recognised by `former_key` like the welcome and referral bonuses."""
        operation_id = f"birthday:{customer_id}:{year}"

        def body(db: sqlite3.Connection) -> Any:
            booked = self._already_booked_sync(db, operation_id)
            if booked is not None:
                return booked
            row = _one_sync(
                db,
                "SELECT telegram_id FROM customers WHERE id = ? AND forgotten_at IS NULL",
                (customer_id,),
            )
            if row is None or row[0] is None:
                return None
            earlier = _one_sync(
                db,
                "SELECT 1 FROM customers c JOIN ledger l "
                "ON l.operation_id = 'birthday:' || c.id || ':' || ? "
                "WHERE c.former_key = ? LIMIT 1",
                (year, self._former_key_sync(db, row[0])),
            )
            if earlier:
                return None
            entry, balance = self._append_sync(
                db,
                customer_id,
                EntryKind.BIRTHDAY,
                points,
                operation_id,
                f"birthday {year}",
                None,
                None,
                None,
                _ts(utcnow()),
                expires_at=_ts(expires_at) if expires_at else None,
            )
            return Booking(entry, True, balance)

        return await self._write(body)

    def _already_booked_sync(self, db: sqlite3.Connection, operation_id: str) -> Booking | None:
        row = _one_sync(
            db, f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?", (operation_id,)
        )
        if row is None:
            return None
        entry = _entry(row)
        (balance,) = _one_sync(
            db, "SELECT balance FROM customers WHERE id = ?", (entry.customer_id,)
        )
        return Booking(entry, False, balance)

    def _operation_sync(self, db: sqlite3.Connection, entry_id: int) -> Operation | None:
        row = _one_sync(
            db,
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE id = ? AND kind IN (?, ?)",
            (entry_id, *REVERSIBLE),
        )
        if row is None:
            return None
        refunded, reversed_points = _one_sync(
            db,
            "SELECT coalesce(sum(bill_minor), 0), coalesce(sum(abs(amount) + shortfall), 0) "
            "FROM ledger WHERE reverses_id = ?",
            (entry_id,),
        )
        return Operation(_entry(row), int(refunded), int(reversed_points))

    async def _read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run several reads in one hop on the reader's thread (see `_write`)."""
        return await self._reader._execute(body, self._reader._conn)

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
        return await self._peek(lambda db: _one_sync(db, sql, args))

    async def operation(self, entry_id: int) -> Operation | None:
        return await self._peek(lambda db: self._operation_sync(db, entry_id))

    async def operations(self, customer_id: int, limit: int) -> list[Operation]:
        def body(db: sqlite3.Connection) -> list[Operation]:
            ids = db.execute(
                "SELECT id FROM ledger WHERE customer_id = ? AND kind IN (?, ?) "
                "ORDER BY id DESC LIMIT ?",
                (customer_id, *REVERSIBLE, limit),
            ).fetchall()
            found = [self._operation_sync(db, row[0]) for row in ids]
            return [operation for operation in found if operation is not None]

        return await self._read(body)

    async def reverse(
        self,
        original_id: int,
        refund_minor: int | None,
        operation_id: str,
        operator_id: int,
        rule: ReversalRule,
        expires_at: datetime | None = None,
    ) -> Booking:
        """Take back (part of) a purchase's points, or give back a redemption's.

        A purchase refund takes back only what its own lot still holds (points that expired
        or were spent are gone once): what it cannot take is recorded as the entry's
        shortfall, so the ledger still explains every point.
        """
        return await self._write(
            lambda db: self._reverse_sync(
                db, original_id, refund_minor, operation_id, operator_id, rule, expires_at
            )
        )

    def _reverse_sync(
        self,
        db: sqlite3.Connection,
        original_id: int,
        refund_minor: int | None,
        operation_id: str,
        operator_id: int,
        rule: ReversalRule,
        expires_at: datetime | None,
    ) -> Booking:
        booked = self._already_booked_sync(db, operation_id)
        if booked is not None:
            if booked.entry.reverses_id != original_id:
                raise OperationConflict(operation_id)
            return booked
        original = self._operation_sync(db, original_id)
        if original is None or not original.reversible:
            raise NothingToReverse(original_id)
        entry = original.entry
        if entry.kind is EntryKind.REDEEM:
            points, bill = original.open_points, None
        else:
            bill = original.open_minor if refund_minor is None else refund_minor
            if bill <= 0 or bill > original.open_minor:
                raise NothingToReverse(original_id)
            points = rule(entry.amount, entry.bill_minor or 0, original.refunded_minor, bill)
            points = min(points, original.open_points)
        if entry.kind is EntryKind.REDEEM:
            amount, shortfall = points, 0
        else:
            taken = min(points, self._lot_left_sync(db, entry.id))
            amount, shortfall = -taken, points - taken
        new_entry, new_balance = self._append_sync(
            db,
            entry.customer_id,
            EntryKind.REFUND,
            amount,
            operation_id,
            f"reverses #{entry.id}",
            operator_id,
            entry.id,
            bill,
            _ts(utcnow()),
            shortfall,
            expires_at=_ts(expires_at) if expires_at and amount > 0 else None,
            lot_first=entry.id,
        )
        return Booking(new_entry, True, new_balance)

    @staticmethod
    def _lot_left_sync(db: sqlite3.Connection, entry_id: int) -> int:
        """Points an earning's lot still holds. An earning from before lots existed has
        none of its own: what it earned is then taken from the balance, as it always was."""
        row = _one_sync(db, "SELECT remaining FROM lots WHERE entry_id = ?", (entry_id,))
        if row is not None:
            return int(row[0])
        (balance,) = _one_sync(
            db,
            "SELECT balance FROM customers "
            "WHERE id = (SELECT customer_id FROM ledger WHERE id = ?)",
            (entry_id,),
        )
        return int(balance)

    async def lot_left(self, entry_id: int) -> int:
        return await self._peek(lambda db: self._lot_left_sync(db, entry_id))

    async def entry_by_operation(self, operation_id: str) -> LedgerEntry | None:
        row = await self._peek_one(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?",
            (operation_id,),
        )
        return _entry(row) if row else None

    async def operator_entries(self, operator_id: int, since: datetime) -> list[LedgerEntry]:
        rows = await self._reader.execute_fetchall(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operator_id = ? AND created_at >= ? "
            "ORDER BY id",
            (operator_id, _ts(since)),
        )
        return [_entry(row) for row in rows]

    # --- staff -------------------------------------------------------------------------

    async def staff_member(self, telegram_id: int) -> StaffMember | None:
        row = await _one(
            self._reader,
            "SELECT telegram_id, name, added_by, added_at FROM staff "
            "WHERE telegram_id = ? AND revoked_at IS NULL",
            (telegram_id,),
        )
        return StaffMember(row[0], row[1], row[2], datetime.fromisoformat(row[3])) if row else None

    async def staff(self) -> list[StaffMember]:
        rows = await self._reader.execute_fetchall(
            "SELECT telegram_id, name, added_by, added_at FROM staff WHERE revoked_at IS NULL "
            "ORDER BY added_at"
        )
        return [StaffMember(row[0], row[1], row[2], datetime.fromisoformat(row[3])) for row in rows]

    async def revoke_staff(self, telegram_id: int) -> bool:
        def body(db: sqlite3.Connection) -> Any:
            cursor = db.execute(
                "UPDATE staff SET revoked_at = ? WHERE telegram_id = ? AND revoked_at IS NULL",
                (_ts(utcnow()), telegram_id),
            )
            return cursor.rowcount > 0

        return await self._write(body)

    async def create_invite(self, payload: str, created_by: int, expires_at: datetime) -> None:
        await self._update(
            "INSERT INTO staff_invites (payload, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            payload,
            created_by,
            _ts(utcnow()),
            _ts(expires_at),
        )

    async def open_invites(self, now: datetime) -> list[StaffInvite]:
        rows = await self._reader.execute_fetchall(
            "SELECT payload, created_by, created_at, expires_at FROM staff_invites "
            "WHERE used_by IS NULL AND expires_at > ? ORDER BY created_at",
            (_ts(now),),
        )
        return [
            StaffInvite(r[0], r[1], datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3]))
            for r in rows
        ]

    async def revoke_invite(self, payload: str, now: datetime) -> bool:
        """End an open invite now; False when it was used, expired or unknown."""

        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE staff_invites SET expires_at = ? "
                "WHERE payload = ? AND used_by IS NULL AND expires_at > ?",
                (_ts(now), payload, _ts(now)),
            )
            return cursor.rowcount == 1

        return await self._write(body)

    async def use_invite(
        self, payload: str, telegram_id: int, name: str, now: datetime
    ) -> InviteOutcome:
        def body(db: sqlite3.Connection) -> Any:
            row = _one_sync(
                db, "SELECT expires_at, used_by FROM staff_invites WHERE payload = ?", (payload,)
            )
            if row is None:
                return InviteOutcome.UNKNOWN
            if row[1] is not None:
                return InviteOutcome.USED
            if datetime.fromisoformat(row[0]) <= now:
                return InviteOutcome.EXPIRED
            found = _one_sync(
                db,
                "SELECT 1 FROM staff WHERE telegram_id = ? AND revoked_at IS NULL",
                (telegram_id,),
            )
            if found:
                return InviteOutcome.ALREADY_STAFF
            db.execute(
                "UPDATE staff_invites SET used_by = ?, used_at = ? WHERE payload = ?",
                (telegram_id, _ts(now), payload),
            )
            db.execute(
                "INSERT INTO staff (telegram_id, name, added_by, added_at) "
                "SELECT ?, ?, created_by, ? FROM staff_invites WHERE payload = ? "
                "ON CONFLICT (telegram_id) DO UPDATE SET revoked_at = NULL, name = excluded.name, "
                "added_by = excluded.added_by, added_at = excluded.added_at",
                (telegram_id, name, _ts(now), payload),
            )
            return InviteOutcome.JOINED

        return await self._write(body)

    # --- operations awaiting confirmation ------------------------------------------------

    async def create_pending(self, operation: PendingOperation) -> None:
        await self._update(
            f"INSERT INTO pending_operations ({PENDING_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            operation.id,
            operation.kind.value,
            operation.customer_id,
            operation.operator_id,
            operation.points,
            operation.bill_minor,
            operation.reverses_id,
            operation.status.value,
            operation.staff_chat_id,
            operation.staff_message_id,
            operation.customer_message_id,
            _ts(operation.created_at),
            _ts(operation.expires_at),
            operation.rules,
            operation.reward,
            operation.offer_id,
        )

    async def pending(self, operation_id: str) -> PendingOperation | None:
        row = await self._peek_one(
            f"SELECT {PENDING_COLUMNS} FROM pending_operations WHERE id = ?",
            (operation_id,),
        )
        return _pending(row) if row else None

    async def move_pending(
        self, operation_id: str, expected: PendingStatus, new: PendingStatus
    ) -> bool:
        """Compare-and-set of the status: only one of two racing presses wins."""

        def body(db: sqlite3.Connection) -> Any:
            cursor = db.execute(
                "UPDATE pending_operations SET status = ? WHERE id = ? AND status = ?",
                (new.value, operation_id, expected.value),
            )
            return cursor.rowcount > 0

        return await self._write(body)

    async def set_pending_messages(
        self,
        operation_id: str,
        staff_chat_id: int | None = None,
        staff_message_id: int | None = None,
        customer_message_id: int | None = None,
    ) -> PendingOperation | None:
        """Record the messages showing an operation, and return the row as it stands in the
        same transaction: a decision taken before this write did not know these messages."""

        def body(db: sqlite3.Connection) -> PendingOperation | None:
            db.execute(
                "UPDATE pending_operations SET staff_chat_id = coalesce(?, staff_chat_id), "
                "staff_message_id = coalesce(?, staff_message_id), "
                "customer_message_id = coalesce(?, customer_message_id) WHERE id = ?",
                (staff_chat_id, staff_message_id, customer_message_id, operation_id),
            )
            return self._pending_sync(db, operation_id)

        return await self._write(body)

    @staticmethod
    def _pending_sync(db: sqlite3.Connection, operation_id: str) -> PendingOperation | None:
        row = _one_sync(
            db, f"SELECT {PENDING_COLUMNS} FROM pending_operations WHERE id = ?", (operation_id,)
        )
        return _pending(row) if row else None

    @staticmethod
    def _set_status_sync(
        db: sqlite3.Connection, operation: PendingOperation, status: PendingStatus
    ) -> PendingOperation:
        db.execute(
            "UPDATE pending_operations SET status = ? WHERE id = ?", (status.value, operation.id)
        )
        return replace(operation, status=status)

    def _settle_open_sync(
        self, db: sqlite3.Connection, operation_id: str
    ) -> Settled | PendingOperation:
        """The checks confirming and closing share, inside their transaction: the pending
        row to act on, or how it already ended (an expired draft is marked expired here)."""
        operation = self._pending_sync(db, operation_id)
        if operation is None:
            return Settled(Settlement.UNKNOWN, None)
        booked = self._already_booked_sync(db, operation_id)
        if booked is not None or operation.status is PendingStatus.CONFIRMED:
            return Settled(Settlement.ALREADY, operation, booked)
        if operation.status is PendingStatus.EXPIRED:
            return Settled(Settlement.EXPIRED, operation)
        if operation.status is not PendingStatus.PENDING:
            return Settled(Settlement.CLOSED, operation)
        if utcnow() > operation.expires_at:  # the time the transaction runs, not the press
            expired = self._set_status_sync(db, operation, PendingStatus.EXPIRED)
            return Settled(Settlement.EXPIRED, expired, moved=True)
        return operation

    async def confirm_pending(self, operation_id: str, rules: BookingRules) -> Settled:
        """Book a pending operation and mark it confirmed in one transaction.

        The status, the expiry, the earning (daily cap, cooldown), the balance and the
        redemption's share are all decided here, so a cancel, an expiry or another booking
        for the same customer lands either wholly before or wholly after this one.
        """

        def body(db: sqlite3.Connection) -> Settled:
            found = self._settle_open_sync(db, operation_id)
            if isinstance(found, Settled):
                return found
            customer = _customer_sync(db, found.customer_id)
            db.execute("SAVEPOINT booking")
            try:
                booking = self._book_pending_sync(db, found, customer, rules)
            except (InsufficientPoints, OfferUnavailable, NothingToReverse) as error:
                db.execute("ROLLBACK TO booking")
                db.execute("RELEASE booking")
                outcome = {
                    InsufficientPoints: Settlement.INSUFFICIENT,
                    OfferUnavailable: Settlement.OFFER_GONE,
                    NothingToReverse: Settlement.NOTHING_LEFT,
                }[type(error)]
                refused = self._set_status_sync(db, found, PendingStatus.REFUSED)
                return Settled(outcome, refused, moved=True)
            db.execute("RELEASE booking")
            if booking is None:
                refused = self._set_status_sync(db, found, PendingStatus.REFUSED)
                return Settled(Settlement.OVER_LIMIT, refused, moved=True)
            booked = self._set_status_sync(db, found, PendingStatus.CONFIRMED)
            return Settled(Settlement.DONE, booked, booking, moved=True)

        return await self._write(body)

    def _book_pending_sync(
        self,
        db: sqlite3.Connection,
        operation: PendingOperation,
        customer: Customer,
        rules: BookingRules,
    ) -> Booking | None:
        if operation.kind is EntryKind.REFUND:
            assert operation.reverses_id is not None
            return self._reverse_sync(
                db,
                operation.reverses_id,
                operation.bill_minor,
                operation.id,
                operation.operator_id,
                rules.reversal,
                rules.lot_expires_at,
            )
        context = (
            self._earning_context_sync(db, customer.id, rules.window_start, rules.day_start)
            if operation.kind is EntryKind.PURCHASE
            else None
        )
        priced = rules.reprice(operation, customer, context)
        if priced is None:
            return None
        spends = priced.kind in (EntryKind.REDEEM, EntryKind.DONATION)
        amount = -priced.points if spends else priced.points
        reason = priced.kind.value + (": " + priced.reward if priced.reward else "")
        if priced.kind is EntryKind.ADJUST:
            reason = priced.reward
        return self._book_sync(
            db,
            priced.customer_id,
            priced.kind,
            amount,
            priced.id,
            reason,
            rules.operator(priced),
            None,
            priced.bill_minor,
            priced.rules,
            rules.lot_expires_at if amount > 0 else None,
            priced.offer_id,
        )

    async def close_pending(self, operation_id: str, status: PendingStatus) -> Settled:
        """Cancel, decline or expire a pending operation, in one transaction that also sees
        whether its entry was booked: an operation in the ledger is never closed."""

        def body(db: sqlite3.Connection) -> Settled:
            found = self._settle_open_sync(db, operation_id)
            if isinstance(found, Settled):
                return found
            closed = self._set_status_sync(db, found, status)
            return Settled(Settlement.DONE, closed, moved=True)

        return await self._write(body)

    async def history(self, customer_id: int, limit: int, offset: int = 0) -> list[LedgerEntry]:
        rows = await self._reader.execute_fetchall(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE customer_id = ? "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (customer_id, limit, offset),
        )
        return [_entry(row) for row in rows]

    async def count_entries(self, customer_id: int) -> int:
        (count,) = await _one(
            self._reader, "SELECT count(*) FROM ledger WHERE customer_id = ?", (customer_id,)
        )
        return int(count)

    async def ledger_sum(self, customer_id: int) -> int:
        (total,) = await _one(
            self._reader,
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ?",
            (customer_id,),
        )
        return int(total)

    async def balance_mismatches(self) -> list[tuple[int, int, int]]:
        """(customer id, cached balance, ledger sum) for every card where the two disagree."""
        rows = await self._reader.execute_fetchall(
            "SELECT c.id, c.balance, coalesce(sum(l.amount), 0) AS total FROM customers c "
            "LEFT JOIN ledger l ON l.customer_id = c.id GROUP BY c.id HAVING c.balance != total"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def lot_mismatches(self) -> list[tuple[int, int, int]]:
        """(customer id, cached balance, points left in lots) wherever the two disagree."""
        rows = await self._reader.execute_fetchall(
            "SELECT c.id, c.balance, coalesce(sum(l.remaining), 0) AS held FROM customers c "
            "LEFT JOIN lots l ON l.customer_id = c.id GROUP BY c.id HAVING c.balance != held"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    # --- the program: tiers, scheduled grants, expiry, giving back -----------------------

    async def earning_context(
        self, customer_id: int, window_start: datetime | None, day_start: datetime
    ) -> EarningContext:
        # Each query walks ledger_kind_time (customer, kind, time) over one customer's
        # entries in its window only: the spend over the tier window, today's earnings, and
        # the newest visit that earned.
        return await self._peek(
            lambda db: self._earning_context_sync(db, customer_id, window_start, day_start)
        )

    @staticmethod
    def _earning_context_sync(
        db: sqlite3.Connection, customer_id: int, window_start: datetime | None, day_start: datetime
    ) -> EarningContext:
        purchase = EntryKind.PURCHASE.value
        (spend,) = _one_sync(
            db,
            f"SELECT {SPEND_SQL} FROM ledger WHERE customer_id = ? "
            "AND kind IN ('purchase', 'refund') AND created_at >= ?",
            (customer_id, _ts(window_start) if window_start else ""),
        )
        (earned,) = _one_sync(
            db,
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ? AND kind = ? "
            "AND created_at >= ? AND amount > 0",
            (customer_id, purchase, _ts(day_start)),
        )
        last = _one_sync(
            db,
            "SELECT created_at FROM ledger WHERE customer_id = ? AND kind = ? AND amount > 0 "
            "ORDER BY created_at DESC LIMIT 1",
            (customer_id, purchase),
        )
        return EarningContext(
            int(spend), int(earned), datetime.fromisoformat(last[0]) if last else None
        )

    async def spends(self, window_start: datetime | None) -> list[tuple[Customer, int]]:
        rows = await self._reader.execute_fetchall(
            f"SELECT {CUSTOMER_COLUMNS}, (SELECT {SPEND_SQL} FROM ledger "
            "WHERE ledger.customer_id = customers.id AND created_at >= ?) "
            "FROM customers WHERE forgotten_at IS NULL ORDER BY id",
            (_ts(window_start) if window_start else "",),
        )
        return [(_customer(row), int(row[-1])) for row in rows]

    async def set_tier(self, customer_id: int, tier: str) -> None:
        await self._update("UPDATE customers SET tier = ? WHERE id = ?", tier, customer_id)

    async def move_tiers(self, moves: list[tuple[int, str | None, str]]) -> set[int]:
        def body(db: sqlite3.Connection) -> set[int]:
            # "Still holds the tier read": an upgrade booked meanwhile is not undone.
            return {
                customer_id
                for customer_id, held, new in moves
                if db.execute(
                    "UPDATE customers SET tier = ? WHERE id = ? AND tier IS ?",
                    (new, customer_id, held),
                ).rowcount
            }

        return await self._write(body) if moves else set()

    async def birthday_customers(self, month: int, day: int) -> list[Customer]:
        """Customers celebrating on this day; on 28 February in a year without the 29th,
        pass day=28 and those born on the 29th are included (see program.birthday_this_year)."""
        days = [f"-{month:02d}-{day:02d}"]
        if (month, day) == (2, 28):
            days.append("-02-29")
        marks = ", ".join("?" for _ in days)
        rows = await self._reader.execute_fetchall(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE forgotten_at IS NULL "
            f"AND birthday IS NOT NULL AND substr(birthday, 5) IN ({marks}) ORDER BY id",
            days,
        )
        return [_customer(row) for row in rows]

    async def expire_due(self, now: datetime) -> list[Booking]:
        """Expire every lot due by `now`, one ledger entry per lot, keyed by the lot: a second
        run finds nothing left to expire and books nothing."""

        def body(db: sqlite3.Connection) -> list[Booking]:
            due = db.execute(
                "SELECT entry_id, customer_id, remaining FROM lots "
                "WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ? "
                "ORDER BY entry_id",
                (_ts(now),),
            ).fetchall()
            bookings = []
            for entry_id, customer_id, remaining in due:
                operation_id = f"expire:{entry_id}"
                if self._already_booked_sync(db, operation_id) is not None:
                    continue
                entry, balance = self._append_sync(
                    db,
                    customer_id,
                    EntryKind.EXPIRE,
                    -remaining,
                    operation_id,
                    f"lot #{entry_id} expired",
                    None,
                    None,
                    None,
                    _ts(now),
                    lot_first=entry_id,
                )
                bookings.append(Booking(entry, True, balance))
            return bookings

        return await self._write(body)

    async def expiring(
        self, now: datetime, until: datetime, customer_id: int | None = None
    ) -> list[ExpiringPoints]:
        """Points that expire in (now, until], summed per customer and expiry day."""
        rows = await self._reader.execute_fetchall(
            f"SELECT {', '.join('c.' + c.strip() for c in CUSTOMER_COLUMNS.split(','))}, "
            "sum(l.remaining), min(l.expires_at) FROM lots l JOIN customers c "
            "ON c.id = l.customer_id WHERE l.remaining > 0 AND l.expires_at > ? "
            "AND l.expires_at <= ? AND c.forgotten_at IS NULL AND (? IS NULL OR c.id = ?) "
            "GROUP BY c.id, substr(l.expires_at, 1, 10) ORDER BY c.id, min(l.expires_at)",
            (_ts(now), _ts(until), customer_id, customer_id),
        )
        return [
            ExpiringPoints(_customer(row), int(row[-2]), datetime.fromisoformat(row[-1]))
            for row in rows
        ]

    async def claim_mark(self, customer_id: int, kind: str, period: str) -> bool:
        """True the first time (customer, kind, period) is claimed, False ever after."""

        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT OR IGNORE INTO marks (customer_id, kind, period, created_at) "
                "VALUES (?, ?, ?, ?)",
                (customer_id, kind, period, _ts(utcnow())),
            )
            return cursor.rowcount == 1

        return await self._write(body)

    async def job_day(self, name: str) -> date | None:
        row = await _one(self._reader, "SELECT last_day FROM job_runs WHERE name = ?", (name,))
        return date.fromisoformat(row[0]) if row else None

    async def set_job_day(self, name: str, day: date) -> None:
        def body(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO job_runs (name, last_day) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET last_day = excluded.last_day",
                (name, day.isoformat()),
            )

        await self._write(body)

    # --- referrals -----------------------------------------------------------------------

    async def referral_payload(self, customer_id: int, new_payload: Callable[[], str]) -> str:
        """The customer's personal referral payload, made on first use and kept."""

        def body(db: sqlite3.Connection) -> str:
            row = _one_sync(
                db, "SELECT referral_payload FROM customers WHERE id = ?", (customer_id,)
            )
            if row is None:
                raise NotFound(customer_id)
            if row[0]:
                return str(row[0])
            for _attempt in range(CARD_ATTEMPTS):
                payload = new_payload()
                try:
                    db.execute(
                        "UPDATE customers SET referral_payload = ? WHERE id = ?",
                        (payload, customer_id),
                    )
                    return payload
                except sqlite3.IntegrityError:
                    continue
            raise RuntimeError("could not draw a free referral payload")

        return await self._write(body)

    async def customer_by_referral(self, payload: str) -> Customer | None:
        return await self._one_customer("referral_payload = ? AND forgotten_at IS NULL", payload)

    async def referral(self, friend_id: int) -> Referral | None:
        row = await self._peek_one(
            f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ?",
            (friend_id,),
        )
        return _referral(row) if row else None

    def _decide_sync(
        self,
        db: sqlite3.Connection,
        friend_id: int,
        status: ReferralStatus,
        reason: str,
        purchase_id: int | None,
        now: str,
    ) -> Referral:
        db.execute(
            "UPDATE referrals SET status = ?, reason = ?, purchase_entry_id = ?, decided_at = ? "
            "WHERE friend_id = ?",
            (status.value, reason, purchase_id, now, friend_id),
        )
        row = _one_sync(
            db, f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ?", (friend_id,)
        )
        return _referral(row)

    async def qualify_referral(
        self, friend_id: int, purchase: LedgerEntry, operator_id: int, terms: ReferralTerms
    ) -> ReferralDecision | None:
        """Decide a waiting referral on the friend's purchase, in one transaction: pay both
        sides once (operation ids per friend and side), or record why it pays nothing."""

        def body(db: sqlite3.Connection) -> ReferralDecision | None:
            row = _one_sync(
                db,
                f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ? AND status = ?",
                (friend_id, ReferralStatus.JOINED.value),
            )
            bill = purchase.bill_minor or 0
            if (
                row is None
                or purchase.kind is not EntryKind.PURCHASE
                or bill < terms.min_purchase_minor
            ):
                return None
            referral = _referral(row)
            friend = _customer_sync(db, friend_id)
            referrer = _customer_sync(db, referral.referrer_id)
            now = _ts(utcnow())
            reason = ""
            if referrer.forgotten:
                reason = "referrer_gone"
            elif friend.phone and friend.phone == referrer.phone:
                reason = "same_phone"
            elif operator_id in (referrer.telegram_id, friend.telegram_id):
                reason = "own_till"
            if reason:
                decided = self._decide_sync(
                    db, friend_id, ReferralStatus.REJECTED, reason, purchase.id, now
                )
                return ReferralDecision(decided)
            if terms.monthly_cap:
                (paid,) = _one_sync(
                    db,
                    "SELECT count(*) FROM referrals WHERE referrer_id = ? AND status = ? "
                    "AND decided_at >= ?",
                    (referrer.id, ReferralStatus.QUALIFIED.value, _ts(terms.month_start)),
                )
                if paid >= terms.monthly_cap:
                    decided = self._decide_sync(
                        db, friend_id, ReferralStatus.CAPPED, "monthly_cap", purchase.id, now
                    )
                    return ReferralDecision(decided)
            expires = _ts(terms.expires_at) if terms.expires_at else None
            bookings: dict[str, Booking | None] = {"friend": None, "referrer": None}
            for side, customer_id, amount in (
                ("friend", friend.id, terms.friend_bonus),
                ("referrer", referrer.id, terms.referrer_bonus),
            ):
                if amount <= 0:
                    continue
                entry, balance = self._append_sync(
                    db,
                    customer_id,
                    EntryKind.REFERRAL,
                    amount,
                    f"referral:{friend_id}:{side}",
                    f"referral {side} #{friend_id}",
                    None,
                    None,
                    None,
                    now,
                    expires_at=expires,
                )
                bookings[side] = Booking(entry, True, balance)
            decided = self._decide_sync(
                db, friend_id, ReferralStatus.QUALIFIED, "", purchase.id, now
            )
            return ReferralDecision(decided, bookings["friend"], bookings["referrer"])

        return await self._write(body)

    async def reverse_referral(
        self, purchase_entry_id: int, open_minor: int, min_purchase_minor: int
    ) -> ReferralDecision | None:
        """When a refund leaves the qualifying purchase below the minimum, take both bonuses
        back with entries linked to them; what was already spent is recorded as shortfall."""

        def body(db: sqlite3.Connection) -> ReferralDecision | None:
            row = _one_sync(
                db,
                f"SELECT {REFERRAL_COLUMNS} FROM referrals "
                "WHERE purchase_entry_id = ? AND status = ?",
                (purchase_entry_id, ReferralStatus.QUALIFIED.value),
            )
            if row is None or open_minor >= min_purchase_minor:
                return None
            referral = _referral(row)
            now = _ts(utcnow())
            bookings: dict[str, Booking | None] = {"friend": None, "referrer": None}
            for side in ("friend", "referrer"):
                bonus = _one_sync(
                    db,
                    f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?",
                    (f"referral:{referral.friend_id}:{side}",),
                )
                if bonus is None:
                    continue
                original = _entry(bonus)
                (balance,) = _one_sync(
                    db, "SELECT balance FROM customers WHERE id = ?", (original.customer_id,)
                )
                taken = min(original.amount, balance)
                entry, new_balance = self._append_sync(
                    db,
                    original.customer_id,
                    EntryKind.REFERRAL,
                    -taken,
                    f"referral-undo:{referral.friend_id}:{side}",
                    f"reverses #{original.id}",
                    None,
                    original.id,
                    None,
                    now,
                    original.amount - taken,
                    lot_first=original.id,
                )
                bookings[side] = Booking(entry, True, new_balance)
            decided = self._decide_sync(
                db,
                referral.friend_id,
                ReferralStatus.REVERSED,
                "refunded",
                purchase_entry_id,
                now,
            )
            return ReferralDecision(decided, bookings["friend"], bookings["referrer"])

        return await self._write(body)

    async def referral_stats(self, referrer_id: int) -> ReferralStats:
        def body(db: sqlite3.Connection) -> ReferralStats:
            joined, qualified = _one_sync(
                db,
                "SELECT count(*), count(*) FILTER (WHERE status = ?) FROM referrals "
                "WHERE referrer_id = ?",
                (ReferralStatus.QUALIFIED.value, referrer_id),
            )
            (points,) = _one_sync(
                db,
                "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ? AND kind = ?",
                (referrer_id, EntryKind.REFERRAL.value),
            )
            return ReferralStats(int(joined), int(qualified), int(points))

        return await self._read(body)

    async def referral_totals(self) -> tuple[int, int]:
        """(friends joined through a referral, of them qualified and paid)."""
        joined, qualified = await _one(
            self._reader,
            "SELECT count(*), count(*) FILTER (WHERE status = ?) FROM referrals",
            (ReferralStatus.QUALIFIED.value,),
        )
        return int(joined), int(qualified)

    async def top_referrers(self, limit: int) -> list[ReferrerRow]:
        rows = await self._reader.execute_fetchall(
            f"SELECT {', '.join('c.' + c.strip() for c in CUSTOMER_COLUMNS.split(','))}, "
            "count(*) AS joined, count(*) FILTER (WHERE r.status = 'qualified') AS qualified, "
            "count(*) FILTER (WHERE r.status = 'capped') "
            "FROM referrals r JOIN customers c ON c.id = r.referrer_id "
            "GROUP BY c.id ORDER BY qualified DESC, joined DESC, c.id LIMIT ?",
            (limit,),
        )
        return [
            ReferrerRow(_customer(row), int(row[-3]), int(row[-2]), int(row[-1])) for row in rows
        ]

    async def flagged_referrals(
        self, burst_window: timedelta, burst_count: int, limit: int
    ) -> list[FlaggedReferral]:
        """Cases an owner should look at: capped and rejected referrals, bursts of joins
        for one referrer, and friends sharing a phone number with the referrer or another
        friend."""

        def body(db: sqlite3.Connection) -> list[FlaggedReferral]:
            found: dict[int, str] = {}
            for friend_id, status in db.execute(
                "SELECT friend_id, status FROM referrals WHERE status IN ('capped', 'rejected')"
            ).fetchall():
                found[friend_id] = status
            seconds = int(burst_window.total_seconds())
            for (friend_id,) in db.execute(
                "SELECT r1.friend_id FROM referrals r1 WHERE (SELECT count(*) FROM referrals r2 "
                "WHERE r2.referrer_id = r1.referrer_id AND abs(strftime('%s', r2.created_at) "
                "- strftime('%s', r1.created_at)) <= ?) >= ?",
                (seconds, burst_count),
            ).fetchall():
                found.setdefault(friend_id, "burst")
            for (friend_id,) in db.execute(
                "SELECT r.friend_id FROM referrals r JOIN customers f ON f.id = r.friend_id "
                "WHERE f.phone IS NOT NULL AND (f.phone = (SELECT phone FROM customers "
                "WHERE id = r.referrer_id) OR EXISTS (SELECT 1 FROM referrals r2 JOIN customers "
                "f2 ON f2.id = r2.friend_id WHERE r2.referrer_id = r.referrer_id "
                "AND r2.friend_id != r.friend_id AND f2.phone = f.phone))"
            ).fetchall():
                found.setdefault(friend_id, "shared_phone")
            flagged = []
            for friend_id in sorted(found, reverse=True)[:limit]:
                referral = _referral_sync(db, friend_id)
                friend = _customer_sync(db, friend_id)
                referrer = _customer_sync(db, referral.referrer_id)
                flagged.append(FlaggedReferral(referral, friend, referrer, found[friend_id]))
            return flagged

        return await self._read(body)

    # --- promotions: segments and the outbox ----------------------------------------------

    @staticmethod
    def _segment_sql(audience: Audience, now: datetime) -> tuple[str, list[Any]]:
        """WHERE clause over `customers c` choosing a segment's reachable, opted-in members."""
        base = (
            "c.forgotten_at IS NULL AND c.promotions = 1 AND c.unreachable_at IS NULL "
            "AND c.telegram_id IS NOT NULL"
        )
        segment, param = audience.segment, audience.param
        if segment is Segment.EVERYONE:
            return base, []
        if segment is Segment.TIER:
            name, _sep, first = param.partition("|")  # "Silver" or "Bronze|first"
            if first:
                return f"{base} AND (c.tier = ? OR c.tier IS NULL)", [name]
            return f"{base} AND c.tier = ?", [name]
        if segment is Segment.NEW:
            return f"{base} AND c.created_at >= ?", [_ts(now - timedelta(days=int(param)))]
        if segment is Segment.LAPSED:
            cutoff = _ts(now - timedelta(days=int(param)))
            return (
                f"{base} AND coalesce((SELECT max(created_at) FROM ledger l WHERE "
                "l.customer_id = c.id AND l.kind = 'purchase'), c.created_at) < ?",
                [cutoff],
            )
        if segment is Segment.BIRTHDAYS:
            return f"{base} AND substr(c.birthday, 6, 2) = ?", [f"{int(param):02d}"]
        if segment is Segment.TOP:
            since = _ts(now - timedelta(days=365))
            spend = (
                f"(SELECT {SPEND_SQL} FROM ledger WHERE ledger.customer_id = c.id "
                "AND created_at >= ?)"
            )
            # The top share of customers with any spend, by spend over 12 months.
            return (
                f"{base} AND c.id IN (SELECT c.id FROM customers c WHERE {base} "
                f"AND {spend} > 0 ORDER BY {spend} DESC, c.id LIMIT max(1, (SELECT "
                f"(count(*) * ? + 99) / 100 FROM customers c WHERE {base} AND {spend} > 0)))",
                [since, since, int(param), since],
            )
        if segment is Segment.REFERRERS:
            return f"{base} AND EXISTS (SELECT 1 FROM referrals r WHERE r.referrer_id = c.id)", []
        if segment is Segment.OFFER:
            return (
                f"{base} AND EXISTS (SELECT 1 FROM offer_grants g WHERE g.customer_id = c.id "
                "AND g.offer_id = ? AND g.status = 'granted')",
                [int(param)],
            )
        if segment is Segment.EXPIRING:
            until = _ts(now + timedelta(days=int(param)))
            return (
                f"{base} AND EXISTS (SELECT 1 FROM lots WHERE lots.customer_id = c.id "
                "AND remaining > 0 AND expires_at > ? AND expires_at <= ?)",
                [_ts(now), until],
            )
        raise ValueError(audience)

    async def audience_size(self, audience: Audience, now: datetime) -> int:
        where, args = self._segment_sql(audience, now)
        (count,) = await _one(self._reader, f"SELECT count(*) FROM customers c WHERE {where}", args)
        return int(count)

    async def sample_customer(self, audience: Audience, now: datetime) -> Customer | None:
        where, args = self._segment_sql(audience, now)
        columns = ", ".join("c." + c.strip() for c in CUSTOMER_COLUMNS.split(","))
        row = await _one(
            self._reader, f"SELECT {columns} FROM customers c WHERE {where} LIMIT 1", args
        )
        return _customer(row) if row else None

    async def create_broadcast(
        self,
        created_by: int,
        text: str,
        photo_file_id: str | None,
        button: tuple[str, str] | None,
        audience: Audience,
        holdout_percent: int,
        send_at: datetime,
    ) -> Broadcast:
        def body(db: sqlite3.Connection) -> Broadcast:
            cursor = db.execute(
                "INSERT INTO broadcasts (created_by, text, photo_file_id, button_text, "
                "button_url, audience, holdout_percent, send_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created_by,
                    text,
                    photo_file_id,
                    button[0] if button else None,
                    button[1] if button else None,
                    audience.key(),
                    holdout_percent,
                    _ts(send_at),
                    _ts(utcnow()),
                ),
            )
            return _broadcast(
                _one_sync(
                    db,
                    f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?",
                    (cursor.lastrowid,),
                )
            )

        return await self._write(body)

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        row = await _one(
            self._reader,
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?",
            (broadcast_id,),
        )
        return _broadcast(row) if row else None

    async def broadcasts(self, statuses: tuple[BroadcastStatus, ...]) -> list[Broadcast]:
        marks = ", ".join("?" for _ in statuses)
        rows = await self._reader.execute_fetchall(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status IN ({marks}) ORDER BY id",
            [status.value for status in statuses],
        )
        return [_broadcast(row) for row in rows]

    async def cancel_broadcast(self, broadcast_id: int) -> bool:
        """Stop a scheduled or running broadcast; what was sent stays sent."""

        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ? "
                "WHERE id = ? AND status IN ('scheduled', 'sending')",
                (_ts(utcnow()), broadcast_id),
            )
            if cursor.rowcount:
                db.execute(
                    "UPDATE outbox SET status = 'skipped' WHERE broadcast_id = ? "
                    "AND status = 'pending'",
                    (broadcast_id,),
                )
            return cursor.rowcount == 1

        return await self._write(body)

    async def set_broadcast_progress(
        self, broadcast_id: int, chat_id: int, message_id: int
    ) -> None:
        await self._update(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            chat_id,
            message_id,
            broadcast_id,
        )

    async def start_due_broadcast(self, now: datetime) -> Broadcast | None:
        """The broadcast to work on: one already sending (resumed after a restart: recipients
        claimed but not settled are marked unknown, never sent again), or the next due one,
        whose outbox is filled from its audience in the same transaction."""

        def body(db: sqlite3.Connection) -> Broadcast | None:
            row = _one_sync(
                db,
                f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'sending' "
                "ORDER BY id LIMIT 1",
            )
            if row is not None:
                broadcast = _broadcast(row)
                db.execute(
                    "UPDATE outbox SET status = 'unknown' WHERE broadcast_id = ? "
                    "AND status = 'sending'",
                    (broadcast.id,),
                )
                return broadcast
            row = _one_sync(
                db,
                f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'scheduled' "
                "AND send_at <= ? ORDER BY send_at, id LIMIT 1",
                (_ts(now),),
            )
            if row is None:
                return None
            broadcast = _broadcast(row)
            where, args = self._segment_sql(broadcast.audience, now)
            db.execute(
                "INSERT OR IGNORE INTO outbox (broadcast_id, customer_id, status) "
                "SELECT ?, c.id, CASE WHEN abs(random()) % 100 < ? THEN 'holdout' "
                f"ELSE 'pending' END FROM customers c WHERE {where}",
                [broadcast.id, broadcast.holdout_percent, *args],
            )
            db.execute(
                "UPDATE broadcasts SET status = 'sending', started_at = ? WHERE id = ?",
                (_ts(now), broadcast.id),
            )
            return replace(broadcast, status=BroadcastStatus.SENDING)

        return await self._write(body)

    async def next_recipients(self, broadcast_id: int, limit: int) -> list[Customer]:
        columns = ", ".join("c." + c.strip() for c in CUSTOMER_COLUMNS.split(","))
        rows = await self._reader.execute_fetchall(
            f"SELECT {columns} FROM outbox o JOIN customers c ON c.id = o.customer_id "
            "WHERE o.broadcast_id = ? AND o.status = 'pending' ORDER BY o.customer_id LIMIT ?",
            (broadcast_id, limit),
        )
        return [_customer(row) for row in rows]

    async def claim_recipient(self, broadcast_id: int, customer_id: int) -> Claim:
        """Mark a recipient as being sent to, committed before the send: a crash after this
        leaves the row 'sending', and a restart never sends to it again.

        The recipient is read again in the same transaction: who turned promotions off, was
        forgotten or became unreachable since the outbox was filled is settled as skipped
        (with the reason) instead, and the customer returned is the record as it is now."""
        columns = ", ".join("c." + c.strip() for c in CUSTOMER_COLUMNS.split(","))

        def body(db: sqlite3.Connection) -> Claim:
            row = _one_sync(
                db,
                f"SELECT {columns} FROM outbox o JOIN customers c ON c.id = o.customer_id "
                "WHERE o.broadcast_id = ? AND o.customer_id = ? AND o.status = 'pending' "
                "AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ? AND status = 'sending')",
                (broadcast_id, customer_id, broadcast_id),
            )
            if row is None:
                return Claim()
            customer = _customer(row)
            reason = skip_reason(customer)
            db.execute(
                "UPDATE outbox SET status = ?, error = ?, sent_at = ? "
                "WHERE broadcast_id = ? AND customer_id = ?",
                (
                    "skipped" if reason else "sending",
                    reason,
                    _ts(utcnow()) if reason else None,
                    broadcast_id,
                    customer_id,
                ),
            )
            return Claim(skipped=reason) if reason else Claim(customer=customer)

        return await self._write(body)

    async def settle_recipient(
        self, broadcast_id: int, customer_id: int, status: str, error: str = ""
    ) -> None:
        await self._update(
            "UPDATE outbox SET status = ?, error = ?, sent_at = ? WHERE broadcast_id = ? "
            "AND customer_id = ? AND status = 'sending'",
            status,
            error[:200],
            _ts(utcnow()),
            broadcast_id,
            customer_id,
        )

    async def outbox_counts(self, broadcast_id: int) -> OutboxCounts:
        # Skipped rows with a reason left the audience while it was sent to; those without
        # one were still waiting when the broadcast was cancelled.
        rows = await self._reader.execute_fetchall(
            "SELECT CASE WHEN status = 'skipped' AND error != '' THEN 'left' ELSE status END "
            "AS kind, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY kind",
            (broadcast_id,),
        )
        by = {row[0]: int(row[1]) for row in rows}
        holdout = by.get("holdout", 0)
        return OutboxCounts(
            total=sum(by.values()) - holdout - by.get("skipped", 0) - by.get("left", 0),
            pending=by.get("pending", 0) + by.get("sending", 0),
            sent=by.get("sent", 0),
            blocked=by.get("blocked", 0),
            failed=by.get("failed", 0),
            unknown=by.get("unknown", 0),
            holdout=holdout,
            skipped=by.get("left", 0),
        )

    async def finish_broadcast(self, broadcast_id: int) -> None:
        await self._update(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ? "
            "AND status = 'sending'",
            _ts(utcnow()),
            broadcast_id,
        )

    async def recent_broadcasts(self, limit: int) -> list[Broadcast]:
        rows = await self._reader.execute_fetchall(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'done' "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [_broadcast(row) for row in rows]

    async def broadcast_response(
        self, broadcast_id: int, days: int
    ) -> tuple[GroupResponse, GroupResponse] | None:
        """(receivers, holdout): visits and spend in the `days` after sending started."""

        def body(db: sqlite3.Connection) -> tuple[GroupResponse, GroupResponse] | None:
            row = _one_sync(db, "SELECT started_at FROM broadcasts WHERE id = ?", (broadcast_id,))
            if row is None or row[0] is None:
                return None
            start = datetime.fromisoformat(row[0])
            window = (_ts(start), _ts(start + timedelta(days=days)))
            groups = []
            for statuses in (("sent",), ("holdout",)):
                marks = ", ".join("?" for _ in statuses)
                customers, visitors, spend = _one_sync(
                    db,
                    "SELECT count(*), count(*) FILTER (WHERE visits > 0), "
                    "coalesce(sum(spend), 0) FROM (SELECT o.customer_id, "
                    "(SELECT count(*) FROM ledger l WHERE l.customer_id = o.customer_id "
                    "AND l.kind = 'purchase' AND l.created_at >= ? AND l.created_at < ?) "
                    f"AS visits, (SELECT {SPEND_SQL} FROM ledger WHERE "
                    "ledger.customer_id = o.customer_id AND created_at >= ? "
                    "AND created_at < ?) AS spend FROM outbox o "
                    f"WHERE o.broadcast_id = ? AND o.status IN ({marks}))",
                    (*window, *window, broadcast_id, *statuses),
                )
                groups.append(GroupResponse(int(customers), int(visitors), int(spend)))
            return groups[0], groups[1]

        return await self._read(body)

    # --- offers --------------------------------------------------------------------------

    @staticmethod
    def _usable_offers_sql() -> str:
        return (
            f"SELECT {', '.join('o.' + c.strip() for c in OFFER_COLUMNS.split(','))} "
            "FROM offers o JOIN offer_grants g ON g.offer_id = o.id AND g.status = 'granted' "
            "WHERE g.customer_id = ? AND o.valid_from <= ? AND o.valid_until > ? "
            "AND (SELECT count(*) FROM offer_uses u WHERE u.offer_id = o.id "
            "AND u.customer_id = g.customer_id) < o.per_customer"
        )

    def _use_offer_sync(
        self,
        db: sqlite3.Connection,
        offer_id: int,
        customer_id: int,
        operation_id: str,
        operator_id: int | None,
    ) -> None:
        now = _ts(utcnow())
        usable = _one_sync(
            db, self._usable_offers_sql() + " AND o.id = ?", (customer_id, now, now, offer_id)
        )
        if usable is None:
            raise OfferUnavailable(offer_id)  # rolls the whole booking back
        db.execute(
            "INSERT INTO offer_uses (offer_id, customer_id, operation_id, operator_id, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (offer_id, customer_id, operation_id, operator_id, now),
        )

    async def create_offer(
        self,
        title: str,
        kind: OfferKind,
        value: int,
        valid_from: datetime,
        valid_until: datetime,
        per_customer: int,
        holdout_percent: int,
        audience: Audience,
        created_by: int,
    ) -> Offer:
        """The offer and its grants to the audience (a random share held out), at once."""

        def body(db: sqlite3.Connection) -> Offer:
            now = utcnow()
            cursor = db.execute(
                "INSERT INTO offers (title, kind, value, valid_from, valid_until, per_customer, "
                "holdout_percent, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    title,
                    kind.value,
                    value,
                    _ts(valid_from),
                    _ts(valid_until),
                    per_customer,
                    holdout_percent,
                    created_by,
                    _ts(now),
                ),
            )
            offer_id = cursor.lastrowid
            where, args = self._segment_sql(audience, now)
            db.execute(
                "INSERT OR IGNORE INTO offer_grants (offer_id, customer_id, status, created_at) "
                "SELECT ?, c.id, CASE WHEN abs(random()) % 100 < ? THEN 'holdout' "
                f"ELSE 'granted' END, ? FROM customers c WHERE {where}",
                [offer_id, holdout_percent, _ts(now), *args],
            )
            row = _one_sync(db, f"SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?", (offer_id,))
            return _offer(row)

        return await self._write(body)

    async def create_offer_for(
        self,
        title: str,
        kind: OfferKind,
        value: int,
        valid_from: datetime,
        valid_until: datetime,
        customer_ids: list[int],
    ) -> Offer:
        """A personal offer (the automatic ones) granted to exactly these customers."""

        def body(db: sqlite3.Connection) -> Offer:
            now = _ts(utcnow())
            cursor = db.execute(
                "INSERT INTO offers (title, kind, value, valid_from, valid_until, per_customer, "
                "holdout_percent, created_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?)",
                (title, kind.value, value, _ts(valid_from), _ts(valid_until), now),
            )
            offer_id = cursor.lastrowid
            db.executemany(
                "INSERT OR IGNORE INTO offer_grants (offer_id, customer_id, status, created_at) "
                "VALUES (?, ?, 'granted', ?)",
                [(offer_id, customer_id, now) for customer_id in customer_ids],
            )
            row = _one_sync(db, f"SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?", (offer_id,))
            return _offer(row)

        return await self._write(body)

    async def audience_customers(self, audience: Audience, now: datetime) -> list[Customer]:
        where, args = self._segment_sql(audience, now)
        columns = ", ".join("c." + c.strip() for c in CUSTOMER_COLUMNS.split(","))
        rows = await self._reader.execute_fetchall(
            f"SELECT {columns} FROM customers c WHERE {where} ORDER BY c.id", args
        )
        return [_customer(row) for row in rows]

    # --- insights ------------------------------------------------------------------------

    async def period_figures(self, since: datetime, until: datetime) -> PeriodFigures:
        window = (_ts(since), _ts(until))

        def body(db: sqlite3.Connection) -> PeriodFigures:
            (members,) = _one_sync(db, "SELECT count(*) FROM customers WHERE forgotten_at IS NULL")
            (new,) = _one_sync(
                db,
                "SELECT count(*) FROM customers WHERE created_at >= ? AND created_at < ?",
                window,
            )
            # One pass over the period's entries (an index-only scan), summed here: cheaper
            # than a query per figure on a large ledger.
            tier_of = dict(db.execute("SELECT id, tier FROM customers").fetchall())
            visits_by: Counter[int] = Counter()
            by_tier: dict[str, tuple[int, int]] = {}
            operations: Counter[int] = Counter()
            bills = refunded = issued = redeemed = expired = 0
            for kind, customer_id, amount, bill, operator in db.execute(
                "SELECT kind, customer_id, amount, bill_minor, operator_id FROM ledger "
                "INDEXED BY ledger_time WHERE created_at >= ? AND created_at < ?",
                window,
            ):
                if kind == "purchase":
                    visits_by[customer_id] += 1
                    bills += bill or 0
                    tier = tier_of.get(customer_id) or ""
                    count, total = by_tier.get(tier, (0, 0))
                    by_tier[tier] = (count + 1, total + (bill or 0))
                elif kind == "refund":
                    refunded += bill or 0
                elif kind == "redeem":
                    redeemed -= amount
                elif kind == "expire":
                    expired -= amount
                if amount > 0 and kind != "refund":
                    issued += amount
                if operator is not None and kind in ("purchase", "redeem", "refund"):
                    operations[operator] += 1
            visits = sum(visits_by.values())
            active = len(visits_by)
            repeat = sum(1 for n in visits_by.values() if n >= 2)
            names = dict(db.execute("SELECT telegram_id, name FROM staff").fetchall())
            busiest = sorted(operations.items(), key=lambda item: (-item[1], item[0]))[:5]
            cashiers = [(op, names.get(op) or str(op), count) for op, count in busiest]
            (outstanding,) = _one_sync(db, "SELECT coalesce(sum(balance), 0) FROM customers")
            joined, qualified = _one_sync(
                db,
                "SELECT count(*) FILTER (WHERE created_at >= ? AND created_at < ?), "
                "count(*) FILTER (WHERE status = 'qualified' AND decided_at >= ? "
                "AND decided_at < ?) FROM referrals",
                (*window, *window),
            )
            (sent,) = _one_sync(
                db,
                "SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at >= ? "
                "AND sent_at < ?",
                window,
            )
            (uses,) = _one_sync(
                db,
                "SELECT count(*) FROM offer_uses WHERE created_at >= ? AND created_at < ?",
                window,
            )
            tiers = {
                (row[0] or ""): int(row[1])
                for row in db.execute(
                    "SELECT tier, count(*) FROM customers WHERE forgotten_at IS NULL GROUP BY tier"
                ).fetchall()
            }
            return PeriodFigures(
                members=int(members),
                new_members=int(new),
                active_members=int(active),
                repeat_members=int(repeat),
                visits=int(visits),
                revenue_minor=bills - refunded,
                checks_by_tier=by_tier,
                issued=int(issued),
                redeemed=int(redeemed),
                expired=int(expired),
                outstanding=int(outstanding),
                referrals_joined=int(joined),
                referrals_qualified=int(qualified),
                promotions_sent=int(sent),
                offer_uses=int(uses),
                cashiers=cashiers,
                tiers=tiers,
            )

        return await self._read(body)

    async def weekly_series(self, bounds: list[datetime]) -> WeeklySeries:
        """Joins, visits, points issued and spent between consecutive `bounds` (the shop's
        local week starts); entries are placed by comparing their UTC timestamps as text."""
        edges = [_ts(bound) for bound in bounds]
        buckets = len(edges) - 1

        def body(db: sqlite3.Connection) -> WeeklySeries:
            series = WeeklySeries([0] * buckets, [0] * buckets, [0] * buckets, [0] * buckets)
            for (created,) in db.execute(
                "SELECT created_at FROM customers WHERE created_at >= ? AND created_at < ?",
                (edges[0], edges[-1]),
            ):
                series.joins[bisect_right(edges, created) - 1] += 1
            for created, kind, amount in db.execute(
                "SELECT created_at, kind, amount FROM ledger INDEXED BY ledger_time "
                "WHERE created_at >= ? AND created_at < ?",
                (edges[0], edges[-1]),
            ):
                week = bisect_right(edges, created) - 1
                if kind == "purchase":
                    series.visits[week] += 1
                if kind == "redeem":
                    series.spent[week] -= amount
                elif amount > 0 and kind != "refund":
                    series.issued[week] += amount
            return series

        return await self._read(body)

    async def export_customers(self) -> list[tuple[Any, ...]]:
        rows = await self._reader.execute_fetchall(
            "SELECT card_number, name, phone, birthday, language, tier, balance, promotions, "
            "created_at FROM customers WHERE forgotten_at IS NULL ORDER BY id"
        )
        return [tuple(row) for row in rows]

    async def export_ledger(self) -> list[tuple[Any, ...]]:
        rows = await self._reader.execute_fetchall(
            "SELECT l.id, l.created_at, c.card_number, l.kind, l.amount, l.bill_minor, l.reason, "
            "l.operator_id, l.reverses_id, l.shortfall FROM ledger l JOIN customers c "
            "ON c.id = l.customer_id ORDER BY l.id"
        )
        return [tuple(row) for row in rows]

    async def operations_since(
        self, since: datetime, customer_id: int | None, operator_id: int | None
    ) -> int:
        # One query per case, so each walks its own index (ledger_kind_time, ledger_operator)
        # over today's entries of one person, never the whole day's ledger.
        kinds = "kind IN ('purchase', 'redeem', 'refund')"
        if customer_id is not None:
            sql = (
                f"SELECT count(*) FROM ledger WHERE customer_id = ? AND {kinds} AND created_at >= ?"
                " AND (? IS NULL OR operator_id = ?)"
            )
            args: tuple[Any, ...] = (customer_id, _ts(since), operator_id, operator_id)
        elif operator_id is not None:
            sql = (
                f"SELECT count(*) FROM ledger WHERE operator_id = ? AND created_at >= ? AND {kinds}"
            )
            args = (operator_id, _ts(since))
        else:
            sql, args = (
                f"SELECT count(*) FROM ledger WHERE created_at >= ? AND {kinds}",
                (_ts(since),),
            )
        (count,) = await self._peek_one(sql, args)
        return int(count)

    async def offer(self, offer_id: int) -> Offer | None:
        row = await _one(
            self._reader, f"SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?", (offer_id,)
        )
        return _offer(row) if row else None

    async def offers_for(self, customer_id: int, now: datetime) -> list[Offer]:
        """The customer's offers valid now and not used up, soonest ending first."""
        stamp = _ts(now)
        sql = self._usable_offers_sql() + " ORDER BY o.valid_until, o.id"
        rows = await self._peek(lambda db: db.execute(sql, (customer_id, stamp, stamp)).fetchall())
        return [_offer(row) for row in rows]

    async def recent_offers(self, limit: int) -> list[Offer]:
        rows = await self._reader.execute_fetchall(
            f"SELECT {OFFER_COLUMNS} FROM offers ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [_offer(row) for row in rows]

    async def offer_results(self, offer_id: int) -> OfferResults:
        def body(db: sqlite3.Connection) -> OfferResults:
            offer = _offer(
                _one_sync(db, f"SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?", (offer_id,))
            )
            window = (_ts(offer.valid_from), _ts(offer.valid_until))
            counts = {}
            for status in ("granted", "holdout"):
                customers, visitors = _one_sync(
                    db,
                    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ledger l "
                    "WHERE l.customer_id = g.customer_id AND l.kind = 'purchase' "
                    "AND l.created_at >= ? AND l.created_at < ?)) FROM offer_grants g "
                    "WHERE g.offer_id = ? AND g.status = ?",
                    (*window, offer_id, status),
                )
                counts[status] = (int(customers), int(visitors))
            users, uses = _one_sync(
                db,
                "SELECT count(DISTINCT customer_id), count(*) FROM offer_uses WHERE offer_id = ?",
                (offer_id,),
            )
            return OfferResults(
                granted=counts["granted"][0],
                held_out=counts["holdout"][0],
                users=int(users),
                uses=int(uses),
                granted_visitors=counts["granted"][1],
                holdout_visitors=counts["holdout"][1],
            )

        return await self._read(body)

    async def mark_unreachable(self, customer_id: int) -> None:
        await self._update(
            "UPDATE customers SET unreachable_at = ? WHERE id = ? AND unreachable_at IS NULL",
            _ts(utcnow()),
            customer_id,
        )

    async def donations_total(self) -> int:
        (total,) = await _one(
            self._reader,
            "SELECT coalesce(-sum(amount), 0) FROM ledger WHERE kind = ?",
            (EntryKind.DONATION.value,),
        )
        return int(total)


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
