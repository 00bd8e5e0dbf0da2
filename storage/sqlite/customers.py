"""Customers: cards, profiles, forgetting, and recognising someone who comes back."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
from datetime import date, datetime
from typing import Any

from storage.errors import NotFound
from storage.ports import CardIdentity
from storage.records import Customer, EntryKind
from storage.sqlite import rows
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.ledger import append
from storage.sqlite.rows import CUSTOMER_COLUMNS

CARD_ATTEMPTS = 20
log = logging.getLogger(__name__)


def keyed(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def former_key(db: sqlite3.Connection, secret: bytes, telegram_id: int) -> str:
    """What recognises a forgotten customer who comes back, without keeping their id.

    HMAC-SHA256, with the secret kept outside the database, of the salted hash earlier
    versions stored: Telegram ids are few enough to try them all in hours, so a key anyone
    holding a backup could recompute would be the id itself. Keying the old hash (not the
    id) let the stored keys be converted without knowing the ids.
    """
    row = one(db, "SELECT value FROM meta WHERE key = 'former_salt'")
    if row is None:
        salt = secrets.token_hex(16)
        db.execute("INSERT INTO meta (key, value) VALUES ('former_salt', ?)", (salt,))
    else:
        salt = row[0]
    return keyed(secret, hashlib.sha256(f"{salt}:{telegram_id}".encode()).hexdigest())


class CustomerStore(Engine):
    async def _one_customer(self, where: str, *args: Any) -> Customer | None:
        row = await self._peek_one(f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {where}", args)
        return rows.customer(row) if row else None

    async def customer(self, customer_id: int) -> Customer | None:
        return await self._one_customer("id = ?", customer_id)

    async def customer_by_telegram(self, telegram_id: int) -> Customer | None:
        return await self._one_customer("telegram_id = ?", telegram_id)

    async def identify(self, telegram_id: int) -> tuple[Customer | None, bool]:
        """The sender's customer record and whether they are active staff, in one hop:
        this runs for every update."""

        def body(db: sqlite3.Connection) -> tuple[Customer | None, bool]:
            row = one(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE telegram_id = ?",
                (telegram_id,),
            )
            staff = one(
                db,
                "SELECT 1 FROM staff WHERE telegram_id = ? AND revoked_at IS NULL",
                (telegram_id,),
            )
            return (rows.customer(row) if row else None), staff is not None

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
        now = ts(utcnow())

        def body(db: sqlite3.Connection) -> tuple[Customer, bool]:
            row = one(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE telegram_id = ?",
                (telegram_id,),
            )
            if row:
                return rows.customer(row), False
            returning = one(
                db,
                "SELECT 1 FROM customers WHERE former_key = ?",
                (former_key(db, self._former_secret, telegram_id),),
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
                append(
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
                    expires_at=ts(welcome_expires_at) if welcome_expires_at else None,
                )
            return rows.customer_by_id(db, customer_id), True

        return await self._write(body)

    async def touch(self, customer_id: int, name: str) -> None:
        await self._update(
            "UPDATE customers SET last_seen_at = ?, name = ? WHERE id = ? AND forgotten_at IS NULL",
            ts(utcnow()),
            name,
            customer_id,
        )

    async def set_language(self, customer_id: int, language: str) -> None:
        await self._update("UPDATE customers SET language = ? WHERE id = ?", language, customer_id)

    async def set_phone(self, customer_id: int, phone: str | None) -> None:
        # A retired card (forgotten, or claimed into another a moment ago) keeps nothing.
        await self._update(
            "UPDATE customers SET phone = ? WHERE id = ? AND forgotten_at IS NULL",
            phone,
            customer_id,
        )

    async def set_birthday(self, customer_id: int, birthday: date | None) -> None:
        await self._update(
            "UPDATE customers SET birthday = ? WHERE id = ? AND forgotten_at IS NULL",
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

    async def mark_unreachable(self, customer_id: int) -> None:
        await self._update(
            "UPDATE customers SET unreachable_at = ? WHERE id = ? AND unreachable_at IS NULL",
            ts(utcnow()),
            customer_id,
        )

    async def _rekey_former(self) -> None:
        """Once per database: key the unkeyed former_keys of earlier versions. Afterwards a
        different secret (a lost `.key` file) only means returning customers go
        unrecognised, which is said in the log."""
        check = keyed(self._former_secret, "former-key-check")

        def body(db: sqlite3.Connection) -> str | None:
            row = one(db, "SELECT value FROM meta WHERE key = 'former_check'")
            if row is not None:
                return str(row[0])
            for (key,) in db.execute(
                "SELECT former_key FROM customers WHERE former_key IS NOT NULL"
            ).fetchall():
                db.execute(
                    "UPDATE customers SET former_key = ? WHERE former_key = ?",
                    (keyed(self._former_secret, key), key),
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
        def body(db: sqlite3.Connection) -> None:
            row = one(db, "SELECT telegram_id FROM customers WHERE id = ?", (customer_id,))
            former = (
                former_key(db, self._former_secret, row[0]) if row and row[0] is not None else None
            )
            cursor = db.execute(
                "UPDATE customers SET telegram_id = NULL, name = '', language = NULL, "
                "phone = NULL, birthday = NULL, promotions = 0, card_file_id = NULL, "
                "card_file_key = NULL, card_number = 'forgotten-' || id, "
                "card_payload = 'forgotten-' || id, referral_payload = NULL, forgotten_at = ?, "
                "legacy_number = NULL, "
                "former_key = ? WHERE id = ? AND forgotten_at IS NULL",
                (ts(utcnow()), former, customer_id),
            )
            if cursor.rowcount == 0:
                raise NotFound(customer_id)

        return await self._write(body)

    async def customers_by_phone(self, phone: str) -> list[Customer]:
        """Customers with exactly this number: numbers are stored in E.164 and a typed one is
        parsed into it first (`bot.phones.parse_phone`), so no guessing by trailing digits,
        which missed North Macedonia's 8-digit numbers and could match another country's."""
        found = await self._fetch(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE phone = ? AND forgotten_at IS NULL "
            "LIMIT 5",
            (phone,),
        )
        return [rows.customer(row) for row in found]
