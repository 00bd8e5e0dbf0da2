"""Operations drafted at the desk and settled exactly once: confirmed (booked) or closed."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from storage.errors import InsufficientPoints, NothingToReverse, OfferUnavailable
from storage.ports import BookingRules
from storage.records import (
    Booking,
    Customer,
    EntryKind,
    PendingOperation,
    PendingStatus,
    Settled,
    Settlement,
)
from storage.sqlite import rows
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.grants import earning_context_of
from storage.sqlite.ledger import already_booked, book_entry, reverse_entry
from storage.sqlite.rows import PENDING_COLUMNS

REFUSALS = {
    InsufficientPoints: Settlement.INSUFFICIENT,
    OfferUnavailable: Settlement.OFFER_GONE,
    NothingToReverse: Settlement.NOTHING_LEFT,
}


def pending_of(db: sqlite3.Connection, operation_id: str) -> PendingOperation | None:
    row = one(db, f"SELECT {PENDING_COLUMNS} FROM pending_operations WHERE id = ?", (operation_id,))
    return rows.pending(row) if row else None


def set_status(
    db: sqlite3.Connection, operation: PendingOperation, status: PendingStatus
) -> PendingOperation:
    db.execute(
        "UPDATE pending_operations SET status = ? WHERE id = ?", (status.value, operation.id)
    )
    return replace(operation, status=status)


def settle_open(db: sqlite3.Connection, operation_id: str) -> Settled | PendingOperation:
    """The checks confirming and closing share, inside their transaction: the pending row to
    act on, or how it already ended (an expired draft is marked expired here)."""
    operation = pending_of(db, operation_id)
    if operation is None:
        return Settled(Settlement.UNKNOWN, None)
    booked = already_booked(db, operation_id)
    if booked is not None or operation.status is PendingStatus.CONFIRMED:
        return Settled(Settlement.ALREADY, operation, booked)
    if operation.status is PendingStatus.EXPIRED:
        return Settled(Settlement.EXPIRED, operation)
    if operation.status is not PendingStatus.PENDING:
        return Settled(Settlement.CLOSED, operation)
    if utcnow() > operation.expires_at:  # the time the transaction runs, not the press
        expired = set_status(db, operation, PendingStatus.EXPIRED)
        return Settled(Settlement.EXPIRED, expired, moved=True)
    return operation


def book_pending(
    db: sqlite3.Connection, operation: PendingOperation, customer: Customer, rules: BookingRules
) -> Booking | None:
    if operation.kind is EntryKind.REFUND:
        assert operation.reverses_id is not None
        return reverse_entry(
            db,
            operation.reverses_id,
            operation.bill_minor,
            operation.id,
            operation.operator_id,
            rules.reversal,
            rules.lot_expires_at,
        )
    context = (
        earning_context_of(db, customer.id, rules.window_start, rules.day_start)
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
    return book_entry(
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


class PendingStore(Engine):
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
            ts(operation.created_at),
            ts(operation.expires_at),
            operation.rules,
            operation.reward,
            operation.offer_id,
        )

    async def pending(self, operation_id: str) -> PendingOperation | None:
        row = await self._peek_one(
            f"SELECT {PENDING_COLUMNS} FROM pending_operations WHERE id = ?", (operation_id,)
        )
        return rows.pending(row) if row else None

    async def move_pending(
        self, operation_id: str, expected: PendingStatus, new: PendingStatus
    ) -> bool:
        """Compare-and-set of the status: only one of two racing presses wins."""

        def body(db: sqlite3.Connection) -> bool:
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
            return pending_of(db, operation_id)

        return await self._write(body)

    async def confirm_pending(self, operation_id: str, rules: BookingRules) -> Settled:
        """Book a pending operation and mark it confirmed in one transaction.

        The status, the expiry, the earning (daily cap, cooldown), the balance and the
        redemption's share are all decided here, so a cancel, an expiry or another booking
        for the same customer lands either wholly before or wholly after this one.
        """

        def body(db: sqlite3.Connection) -> Settled:
            found = settle_open(db, operation_id)
            if isinstance(found, Settled):
                return found
            customer = rows.customer_by_id(db, found.customer_id)
            db.execute("SAVEPOINT booking")
            try:
                booking = book_pending(db, found, customer, rules)
            except (InsufficientPoints, OfferUnavailable, NothingToReverse) as error:
                db.execute("ROLLBACK TO booking")
                db.execute("RELEASE booking")
                refused = set_status(db, found, PendingStatus.REFUSED)
                return Settled(REFUSALS[type(error)], refused, moved=True)
            db.execute("RELEASE booking")
            if booking is None:
                refused = set_status(db, found, PendingStatus.REFUSED)
                return Settled(Settlement.OVER_LIMIT, refused, moved=True)
            booked = set_status(db, found, PendingStatus.CONFIRMED)
            return Settled(Settlement.DONE, booked, booking, moved=True)

        return await self._write(body)

    async def close_pending(self, operation_id: str, status: PendingStatus) -> Settled:
        """Cancel, decline or expire a pending operation, in one transaction that also sees
        whether its entry was booked: an operation in the ledger is never closed."""

        def body(db: sqlite3.Connection) -> Settled:
            found = settle_open(db, operation_id)
            if isinstance(found, Settled):
                return found
            closed = set_status(db, found, status)
            return Settled(Settlement.DONE, closed, moved=True)

        return await self._write(body)
