"""Cards brought over from plastic: the import transaction, unclaimed cards (no Telegram
account yet), walk-ins registered at the till, and claiming a card when its owner joins."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, time

from storage.ports_imports import (
    BookedByClaimant,
    CardIdentity,
    ClaimResult,
    ImportClash,
    ImportClashes,
    ImportedCustomer,
    ImportOutcome,
)
from storage.records import Customer, EntryKind, ReferralStatus
from storage.sqlite import rows
from storage.sqlite.claimed_lots import claimed_lot
from storage.sqlite.customers import CARD_ATTEMPTS
from storage.sqlite.engine import Engine, one, ts
from storage.sqlite.ledger import append
from storage.sqlite.rows import CUSTOMER_COLUMNS, SPEND_KINDS, SPEND_SQL

UNCLAIMED = "telegram_id IS NULL AND forgotten_at IS NULL"
CHUNK = 500  # values per IN (...): well under SQLite's variable limit


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _present(db: sqlite3.Connection, query: str, values: list[str]) -> set[str]:
    """Which of `values` the query (one column, `{marks}` for the IN list) finds."""
    found: set[str] = set()
    for chunk in _chunks(values):
        marks = ", ".join("?" for _ in chunk)
        found |= {value for (value,) in db.execute(query.format(marks=marks), chunk)}
    return found


def _insert_card(
    db: sqlite3.Connection, new_card: CardIdentity, columns: str, values: tuple[object, ...]
) -> int:
    """Insert a customer with a freshly drawn card number, drawing again on a collision."""
    marks = ", ".join("?" for _ in values)
    for _attempt in range(CARD_ATTEMPTS):
        number, payload = new_card()
        if one(db, "SELECT 1 FROM customers WHERE card_number = ?", (number,)):
            continue
        cursor = db.execute(
            f"INSERT INTO customers (card_number, card_payload, {columns}) VALUES (?, ?, {marks})",
            (number, payload, *values),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid
    raise RuntimeError("could not draw a free card number")


class ImportStore(Engine):
    async def import_clashes(
        self, digest: str, legacy_numbers: list[str], phones: list[str]
    ) -> ImportClashes:
        prefix = f"import:{digest}:"

        def body(db: sqlite3.Connection) -> ImportClashes:
            live = "SELECT {0} FROM customers WHERE forgotten_at IS NULL AND {0} IN ({{marks}})"
            cards = _present(db, live.format("legacy_number"), legacy_numbers)
            taken_phones = _present(db, live.format("phone"), phones)
            imported = {
                operation[len(prefix) :]
                for operation in _present(
                    db,
                    "SELECT operation_id FROM ledger WHERE operation_id IN ({marks})",
                    [prefix + number for number in legacy_numbers],
                )
            }
            return ImportClashes(frozenset(imported), frozenset(cards), frozenset(taken_phones))

        return await self._peek(body)

    async def import_customers(
        self,
        digest: str,
        rows_: list[ImportedCustomer],
        new_card: CardIdentity,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ImportOutcome:
        """Every row in one transaction: the unclaimed card and ONE import entry holding its
        balance and lifetime spend, with an operation id from the file and the card, so the
        same file again books nothing. A clash found here writes nothing at all."""
        stamp = ts(now)
        expiry = ts(expires_at) if expires_at else None

        def body(db: sqlite3.Connection) -> ImportOutcome:
            created = already = points = 0
            for row in rows_:
                operation = f"import:{digest}:{row.legacy_number}"
                if one(db, "SELECT 1 FROM ledger WHERE operation_id = ?", (operation,)):
                    already += 1
                    continue
                if one(
                    db,
                    "SELECT 1 FROM customers WHERE forgotten_at IS NULL AND legacy_number = ?",
                    (row.legacy_number,),
                ):
                    raise ImportClash(row.legacy_number)
                if row.phone is not None and one(
                    db,
                    "SELECT 1 FROM customers WHERE forgotten_at IS NULL AND phone = ?",
                    (row.phone,),
                ):
                    raise ImportClash(row.phone)
                joined = ts(datetime.combine(row.joined, time(12), UTC)) if row.joined else stamp
                customer_id = _insert_card(
                    db,
                    new_card,
                    "telegram_id, name, phone, birthday, created_at, last_seen_at, tier, "
                    "legacy_number",
                    (
                        None,
                        row.name,
                        row.phone,
                        row.birthday.isoformat() if row.birthday else None,
                        joined,
                        stamp,
                        row.tier,
                        row.legacy_number,
                    ),
                )
                append(
                    db,
                    customer_id,
                    EntryKind.IMPORT,
                    row.balance,
                    operation,
                    row.reason,
                    None,
                    None,
                    row.spend_minor or None,
                    stamp,
                    expires_at=expiry,
                )
                created += 1
                points += row.balance
            return ImportOutcome(created, already, points)

        return await self._write(body)

    async def customer_by_legacy_number(self, legacy_number: str) -> Customer | None:
        row = await self._peek_one(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE legacy_number = ? "
            "AND forgotten_at IS NULL",
            (legacy_number,),
        )
        return rows.customer(row) if row else None

    async def unclaimed_by_phone(self, phone: str) -> Customer | None:
        row = await self._peek_one(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE phone = ? AND {UNCLAIMED} "
            "ORDER BY id LIMIT 1",
            (phone,),
        )
        return rows.customer(row) if row else None

    async def create_walk_in(
        self, phone: str, new_card: CardIdentity, tier: str | None, now: datetime
    ) -> tuple[Customer, bool]:
        """An unclaimed card for a phone nobody has: (card, created). Someone holding that
        phone already (a double tap, a colleague faster) gets that card back instead."""
        stamp = ts(now)

        def body(db: sqlite3.Connection) -> tuple[Customer, bool]:
            row = one(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE phone = ? "
                "AND forgotten_at IS NULL ORDER BY id LIMIT 1",
                (phone,),
            )
            if row is not None:
                return rows.customer(row), False
            customer_id = _insert_card(
                db,
                new_card,
                "telegram_id, phone, created_at, last_seen_at, tier",
                (None, phone, stamp, stamp, tier),
            )
            return rows.customer_by_id(db, customer_id), True

        return await self._write(body)

    async def claim_card(
        self, claimant_id: int, unclaimed_id: int, phone: str, now: datetime
    ) -> ClaimResult | None:
        """The claimant's Telegram account moves onto the unclaimed card (which keeps its
        entries, tier and spend); the claimant's own card is retired into it, its points
        and spend carried by a pair of claim entries. None when the card is no longer
        unclaimed or not this phone's: nothing changes, so a repeated claim books nothing."""
        stamp = ts(now)

        def body(db: sqlite3.Connection) -> ClaimResult | None:
            target = one(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ? AND phone = ? "
                f"AND {UNCLAIMED}",
                (unclaimed_id, phone),
            )
            source = one(
                db,
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ? "
                "AND forgotten_at IS NULL AND telegram_id IS NOT NULL",
                (claimant_id,),
            )
            if target is None or source is None:
                return None
            card, own = rows.customer(target), rows.customer(source)
            if one(
                db,
                "SELECT 1 FROM ledger WHERE customer_id = ? AND operator_id = ? LIMIT 1",
                (card.id, own.telegram_id),
            ):
                raise BookedByClaimant(card.id)
            # A card with a past of its own (plastic, or purchases at the till) is a
            # customer of long standing, not a friend the claimant's referrer brought.
            established = card.legacy_number is not None or one(
                db,
                "SELECT 1 FROM ledger WHERE customer_id = ? AND kind = ? LIMIT 1",
                (card.id, EntryKind.PURCHASE.value),
            )
            (spend,) = one(
                db,
                f"SELECT {SPEND_SQL} FROM ledger WHERE customer_id = ? AND kind IN {SPEND_KINDS}",
                (own.id,),
            )
            reason = f"claimed card {card.legacy_number or card.card_number}"
            # Each open lot moves on its own, so carried points keep their expiry, and the
            # entry taking it over is named after it: a refund of the purchase that earned it
            # takes its points back from there (`ledger.held_lot`).
            lots = db.execute(
                "SELECT entry_id, remaining, expires_at FROM lots "
                "WHERE customer_id = ? AND remaining > 0 ORDER BY entry_id",
                (own.id,),
            ).fetchall()
            for n, (lot, remaining, expires_at) in enumerate(lots):
                append(
                    db, own.id, EntryKind.CLAIM, -remaining, f"claim:{card.id}:out:{n}", reason,
                    None, None, None, stamp, lot_first=lot,
                )  # fmt: skip
                append(
                    db, card.id, EntryKind.CLAIM, remaining, claimed_lot(card.id, lot), reason,
                    None, None, (int(spend) or None) if n == 0 else None, stamp,
                    expires_at=expires_at,
                )  # fmt: skip
            if not lots and spend:
                append(
                    db, card.id, EntryKind.CLAIM, 0, f"claim:{card.id}:in:0", reason,
                    None, None, int(spend), stamp,
                )  # fmt: skip
            # Drafts opened on the claimant's card a moment ago (a purchase waiting for
            # Confirm) follow the account, so they book on the card that stays.
            db.execute(
                "UPDATE pending_operations SET customer_id = ? "
                "WHERE customer_id = ? AND status = 'pending'",
                (card.id, own.id),
            )
            # The retired card gives up its number and links first (all unique): the card the
            # customer already holds, its QR and their invitation link, keep working.
            (referral,) = one(db, "SELECT referral_payload FROM customers WHERE id = ?", (own.id,))
            db.execute(
                "UPDATE customers SET telegram_id = NULL, name = '', phone = NULL, "
                "birthday = NULL, promotions = 0, card_file_id = NULL, card_file_key = NULL, "
                "card_number = 'claimed-' || id, card_payload = 'claimed-' || id, "
                "referral_payload = NULL, forgotten_at = ?, merged_into = ? WHERE id = ?",
                (stamp, card.id, own.id),
            )
            db.execute(
                "UPDATE customers SET telegram_id = ?, name = ?, language = ?, "
                "card_number = ?, card_payload = ?, referral_payload = ?, promotions = ?, "
                "birthday = coalesce(birthday, ?), card_file_id = NULL, card_file_key = NULL, "
                "last_seen_at = ?, unreachable_at = NULL WHERE id = ?",
                (
                    own.telegram_id,
                    own.name or card.name,
                    own.language,
                    own.card_number,
                    own.card_payload,
                    referral,
                    int(own.promotions),
                    own.birthday.isoformat() if own.birthday else None,
                    stamp,
                    card.id,
                ),
            )
            # A referral the claimant joined through stays theirs (one per friend).
            db.execute(
                "UPDATE OR IGNORE referrals SET friend_id = ? WHERE friend_id = ?",
                (card.id, own.id),
            )
            db.execute(
                "UPDATE referrals SET referrer_id = ? WHERE referrer_id = ? AND friend_id != ?",
                (card.id, own.id, card.id),
            )
            if established:
                db.execute(
                    "UPDATE referrals SET status = ?, reason = ?, decided_at = ? "
                    "WHERE friend_id = ? AND status = ?",
                    (
                        ReferralStatus.REJECTED.value,
                        "existing_customer",
                        stamp,
                        card.id,
                        ReferralStatus.JOINED.value,
                    ),
                )
            return ClaimResult(rows.customer_by_id(db, card.id), card.legacy_number, own.balance)

        return await self._write(body)
