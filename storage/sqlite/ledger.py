"""The append-only ledger and its lots: booking, reversing, reading entries back."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from storage.errors import InsufficientPoints, NotFound, NothingToReverse, OperationConflict
from storage.ports import ReversalRule
from storage.records import Booking, EntryKind, LedgerEntry, Operation
from storage.sqlite import rows
from storage.sqlite.claimed_lots import held_lot
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.offers import use_offer
from storage.sqlite.rows import LEDGER_COLUMNS

REVERSIBLE = (EntryKind.PURCHASE.value, EntryKind.REDEEM.value)


def append(
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
    """Insert an entry and move the balance and the lots with it; (entry, new balance)."""
    row = one(db, "SELECT balance FROM customers WHERE id = ?", (customer_id,))
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
        consume_lots(db, customer_id, -amount, lot_first)
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


def consume_lots(
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


def already_booked(db: sqlite3.Connection, operation_id: str) -> Booking | None:
    row = one(db, f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?", (operation_id,))
    if row is None:
        return None
    entry = rows.entry(row)
    (balance,) = one(db, "SELECT balance FROM customers WHERE id = ?", (entry.customer_id,))
    return Booking(entry, False, balance)


def book_entry(
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
    """Book once per operation id: the same id again returns the first booking."""
    booked = already_booked(db, operation_id)
    if booked is not None:
        existing = booked.entry
        if (existing.customer_id, existing.kind, existing.amount) != (customer_id, kind, amount):
            raise OperationConflict(operation_id)
        return booked
    entry, balance = append(
        db,
        customer_id,
        kind,
        amount,
        operation_id,
        reason,
        operator_id,
        reverses_id,
        bill_minor,
        ts(utcnow()),
        rules=rules,
        expires_at=ts(expires_at) if expires_at else None,
    )
    if offer_id is not None:
        use_offer(db, offer_id, customer_id, operation_id, operator_id)
    return Booking(entry, True, balance)


def operation_of(db: sqlite3.Connection, entry_id: int) -> Operation | None:
    row = one(
        db,
        f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE id = ? AND kind IN (?, ?)",
        (entry_id, *REVERSIBLE),
    )
    if row is None:
        return None
    refunded, reversed_points = one(
        db,
        "SELECT coalesce(sum(bill_minor), 0), coalesce(sum(abs(amount) + shortfall), 0) "
        "FROM ledger WHERE reverses_id = ?",
        (entry_id,),
    )
    entry = rows.entry(row)
    holder, _lot = held_lot(db, entry.id)
    return Operation(entry, int(refunded), int(reversed_points), holder)


def lot_left_of(db: sqlite3.Connection, entry_id: int) -> int:
    """Points an earning's lot still holds (where a claim moved it). An earning from before
    lots existed has none of its own: what it earned is then taken from the balance, as it
    always was."""
    _holder, lot = held_lot(db, entry_id)
    if lot is None:
        return 0
    if lot != entry_id:
        moved = one(db, "SELECT remaining FROM lots WHERE entry_id = ?", (lot,))
        return int(moved[0]) if moved else 0
    row = one(db, "SELECT remaining FROM lots WHERE entry_id = ?", (entry_id,))
    if row is not None:
        return int(row[0])
    (balance,) = one(
        db,
        "SELECT balance FROM customers WHERE id = (SELECT customer_id FROM ledger WHERE id = ?)",
        (entry_id,),
    )
    return int(balance)


def reverse_entry(
    db: sqlite3.Connection,
    original_id: int,
    refund_minor: int | None,
    operation_id: str,
    operator_id: int,
    rule: ReversalRule,
    expires_at: datetime | None,
) -> Booking:
    booked = already_booked(db, operation_id)
    if booked is not None:
        if booked.entry.reverses_id != original_id:
            raise OperationConflict(operation_id)
        return booked
    original = operation_of(db, original_id)
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
    # Booked on the card holding the points now (the claimed one after a claim).
    holder, lot = held_lot(db, entry.id)
    if entry.kind is EntryKind.REDEEM:
        amount, shortfall = points, 0
    else:
        taken = min(points, lot_left_of(db, entry.id))
        amount, shortfall = -taken, points - taken
    new_entry, new_balance = append(
        db,
        holder,
        EntryKind.REFUND,
        amount,
        operation_id,
        f"reverses #{entry.id}",
        operator_id,
        entry.id,
        bill,
        ts(utcnow()),
        shortfall,
        expires_at=ts(expires_at) if expires_at and amount > 0 else None,
        lot_first=lot,
    )
    return Booking(new_entry, True, new_balance)


class LedgerStore(Engine):
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
            lambda db: book_entry(
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
            lambda db: reverse_entry(
                db, original_id, refund_minor, operation_id, operator_id, rule, expires_at
            )
        )

    async def operation(self, entry_id: int) -> Operation | None:
        return await self._peek(lambda db: operation_of(db, entry_id))

    async def operations(self, customer_id: int, limit: int) -> list[Operation]:
        def body(db: sqlite3.Connection) -> list[Operation]:
            # Also those of the cards retired into this one by claims: refunded from here.
            ids = db.execute(
                "WITH RECURSIVE cards(id) AS (SELECT ? UNION "
                "SELECT c.id FROM customers c JOIN cards ON c.merged_into = cards.id) "
                "SELECT id FROM ledger WHERE customer_id IN (SELECT id FROM cards) "
                "AND kind IN (?, ?) ORDER BY id DESC LIMIT ?",
                (customer_id, *REVERSIBLE, limit),
            ).fetchall()
            found = [operation_of(db, row[0]) for row in ids]
            return [operation for operation in found if operation is not None]

        return await self._read(body)

    async def lot_left(self, entry_id: int) -> int:
        return await self._peek(lambda db: lot_left_of(db, entry_id))

    async def entry_by_operation(self, operation_id: str) -> LedgerEntry | None:
        row = await self._peek_one(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?", (operation_id,)
        )
        return rows.entry(row) if row else None

    async def operator_entries(self, operator_id: int, since: datetime) -> list[LedgerEntry]:
        found = await self._fetch(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operator_id = ? AND created_at >= ? "
            "ORDER BY id",
            (operator_id, ts(since)),
        )
        return [rows.entry(row) for row in found]

    async def history(self, customer_id: int, limit: int, offset: int = 0) -> list[LedgerEntry]:
        found = await self._fetch(
            f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE customer_id = ? "
            "ORDER BY id DESC LIMIT ? OFFSET ?",
            (customer_id, limit, offset),
        )
        return [rows.entry(row) for row in found]

    async def count_entries(self, customer_id: int) -> int:
        (count,) = await self._fetch_one(
            "SELECT count(*) FROM ledger WHERE customer_id = ?", (customer_id,)
        )
        return int(count)

    async def ledger_sum(self, customer_id: int) -> int:
        (total,) = await self._fetch_one(
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ?", (customer_id,)
        )
        return int(total)

    async def balance_mismatches(self) -> list[tuple[int, int, int]]:
        """(customer id, cached balance, ledger sum) for every card where the two disagree."""
        found = await self._fetch(
            "SELECT c.id, c.balance, coalesce(sum(l.amount), 0) AS total FROM customers c "
            "LEFT JOIN ledger l ON l.customer_id = c.id GROUP BY c.id HAVING c.balance != total"
        )
        return [(row[0], row[1], row[2]) for row in found]

    async def lot_mismatches(self) -> list[tuple[int, int, int]]:
        """(customer id, cached balance, points left in lots) wherever the two disagree."""
        found = await self._fetch(
            "SELECT c.id, c.balance, coalesce(sum(l.remaining), 0) AS held FROM customers c "
            "LEFT JOIN lots l ON l.customer_id = c.id GROUP BY c.id HAVING c.balance != held"
        )
        return [(row[0], row[1], row[2]) for row in found]

    async def operations_since(
        self, since: datetime, customer_id: int | None, operator_id: int | None
    ) -> int:
        # One query per case, so each walks its own index (ledger_kind_time, ledger_operator)
        # over today's entries of one person, never the whole day's ledger.
        kinds = "kind IN ('purchase', 'redeem', 'refund')"
        args: tuple[Any, ...]
        if customer_id is not None:
            sql = (
                f"SELECT count(*) FROM ledger WHERE customer_id = ? AND {kinds} AND created_at >= ?"
                " AND (? IS NULL OR operator_id = ?)"
            )
            args = (customer_id, ts(since), operator_id, operator_id)
        elif operator_id is not None:
            sql = (
                f"SELECT count(*) FROM ledger WHERE operator_id = ? AND created_at >= ? AND {kinds}"
            )
            args = (operator_id, ts(since))
        else:
            sql, args = (
                f"SELECT count(*) FROM ledger WHERE created_at >= ? AND {kinds}",
                (ts(since),),
            )
        (count,) = await self._peek_one(sql, args)
        return int(count)
