"""Rows to records: the column lists every query selects, and the mapping back."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from storage.errors import NotFound
from storage.records import (
    Audience,
    Broadcast,
    BroadcastStatus,
    Customer,
    EntryKind,
    LedgerEntry,
    Offer,
    OfferKind,
    PendingOperation,
    PendingStatus,
    Referral,
    ReferralStatus,
)
from storage.sqlite.engine import one

Row = sqlite3.Row | tuple[Any, ...]

CUSTOMER_COLUMNS = (
    "id, telegram_id, name, language, phone, birthday, card_number, card_payload, promotions, "
    "balance, card_file_id, card_file_key, created_at, last_seen_at, forgotten_at, tier, "
    "unreachable_at, legacy_number"
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
# Spend that counts for tiers: purchases less what was refunded of them. Refund entries carry
# the refunded amount in bill_minor; undoing a redemption carries none. An imported card's
# lifetime spend rides on its import entry, and a claim carries the claimant's spend along.
SPEND_KINDS = "('purchase', 'refund', 'import', 'claim')"
SPEND_SQL = (
    "coalesce(sum(CASE kind WHEN 'purchase' THEN coalesce(bill_minor, 0) "
    "WHEN 'import' THEN coalesce(bill_minor, 0) WHEN 'claim' THEN coalesce(bill_minor, 0) "
    "WHEN 'refund' THEN -coalesce(bill_minor, 0) ELSE 0 END), 0)"
)


def prefixed(columns: str, alias: str) -> str:
    """`CUSTOMER_COLUMNS` as `c.id, c.telegram_id, ...` for a query that joins."""
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


def customer(row: Row) -> Customer:
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
        legacy_number=row[17],
    )


def entry(row: Row) -> LedgerEntry:
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


def referral(row: Row) -> Referral:
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


def broadcast(row: Row) -> Broadcast:
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


def offer(row: Row) -> Offer:
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


def pending(row: Row) -> PendingOperation:
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


def customer_by_id(db: sqlite3.Connection, customer_id: int) -> Customer:
    row = one(db, f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,))
    if row is None:
        raise NotFound(customer_id)
    return customer(row)


def referral_of(db: sqlite3.Connection, friend_id: int) -> Referral:
    row = one(db, f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ?", (friend_id,))
    if row is None:
        raise NotFound(friend_id)
    return referral(row)


def new_member(alias: str = "") -> str:
    """The customers rows that count as members joining: not a plastic card brought over
    (its holder was a member already) and not a card retired into another by a claim (the
    card that stays counts, once)."""
    prefix = f"{alias}." if alias else ""
    # Forgetting clears the legacy number; the card's import entry stays in the ledger.
    row = alias or "customers"
    return (
        f"{prefix}legacy_number IS NULL AND {prefix}merged_into IS NULL AND NOT EXISTS "
        f"(SELECT 1 FROM ledger imported WHERE imported.customer_id = {row}.id "
        f"AND imported.kind = '{EntryKind.IMPORT.value}')"
    )
