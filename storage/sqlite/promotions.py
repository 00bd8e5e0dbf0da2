"""Broadcasts and their outbox: scheduled, filled from the audience when due, each recipient
claimed before the send and settled after it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta

from storage.records import (
    Audience,
    Broadcast,
    BroadcastStatus,
    Claim,
    Customer,
    GroupResponse,
    OutboxCounts,
    skip_reason,
)
from storage.sqlite import rows
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.rows import BROADCAST_COLUMNS, CUSTOMER_COLUMNS, SPEND_SQL, prefixed
from storage.sqlite.segments import audience_where


class PromotionStore(Engine):
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
                    ts(send_at),
                    ts(utcnow()),
                ),
            )
            return rows.broadcast(
                one(
                    db,
                    f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?",
                    (cursor.lastrowid,),
                )
            )

        return await self._write(body)

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        row = await self._fetch_one(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        return rows.broadcast(row) if row else None

    async def broadcasts(self, statuses: tuple[BroadcastStatus, ...]) -> list[Broadcast]:
        marks = ", ".join("?" for _ in statuses)
        found = await self._fetch(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status IN ({marks}) ORDER BY id",
            [status.value for status in statuses],
        )
        return [rows.broadcast(row) for row in found]

    async def recent_broadcasts(self, limit: int) -> list[Broadcast]:
        found = await self._fetch(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'done' "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [rows.broadcast(row) for row in found]

    async def cancel_broadcast(self, broadcast_id: int) -> bool:
        """Stop a scheduled or running broadcast; what was sent stays sent."""

        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ? "
                "WHERE id = ? AND status IN ('scheduled', 'sending')",
                (ts(utcnow()), broadcast_id),
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
            row = one(
                db,
                f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'sending' "
                "ORDER BY id LIMIT 1",
            )
            if row is not None:
                broadcast = rows.broadcast(row)
                db.execute(
                    "UPDATE outbox SET status = 'unknown' WHERE broadcast_id = ? "
                    "AND status = 'sending'",
                    (broadcast.id,),
                )
                return broadcast
            row = one(
                db,
                f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'scheduled' "
                "AND send_at <= ? ORDER BY send_at, id LIMIT 1",
                (ts(now),),
            )
            if row is None:
                return None
            broadcast = rows.broadcast(row)
            where, args = audience_where(self._audiences, broadcast.audience, now)
            db.execute(
                "INSERT OR IGNORE INTO outbox (broadcast_id, customer_id, status) "
                "SELECT ?, c.id, CASE WHEN abs(random()) % 100 < ? THEN 'holdout' "
                f"ELSE 'pending' END FROM customers c WHERE {where}",
                [broadcast.id, broadcast.holdout_percent, *args],
            )
            db.execute(
                "UPDATE broadcasts SET status = 'sending', started_at = ? WHERE id = ?",
                (ts(now), broadcast.id),
            )
            return replace(broadcast, status=BroadcastStatus.SENDING)

        return await self._write(body)

    async def next_recipients(self, broadcast_id: int, limit: int) -> list[Customer]:
        found = await self._fetch(
            f"SELECT {prefixed(CUSTOMER_COLUMNS, 'c')} FROM outbox o JOIN customers c "
            "ON c.id = o.customer_id WHERE o.broadcast_id = ? AND o.status = 'pending' "
            "ORDER BY o.customer_id LIMIT ?",
            (broadcast_id, limit),
        )
        return [rows.customer(row) for row in found]

    async def claim_recipient(self, broadcast_id: int, customer_id: int) -> Claim:
        """Mark a recipient as being sent to, committed before the send: a crash after this
        leaves the row 'sending', and a restart never sends to it again.

        The recipient is read again in the same transaction: who turned promotions off, was
        forgotten or became unreachable since the outbox was filled is settled as skipped
        (with the reason) instead, and the customer returned is the record as it is now."""
        columns = prefixed(CUSTOMER_COLUMNS, "c")

        def body(db: sqlite3.Connection) -> Claim:
            row = one(
                db,
                f"SELECT {columns} FROM outbox o JOIN customers c ON c.id = o.customer_id "
                "WHERE o.broadcast_id = ? AND o.customer_id = ? AND o.status = 'pending' "
                "AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ? AND status = 'sending')",
                (broadcast_id, customer_id, broadcast_id),
            )
            if row is None:
                return Claim()
            customer = rows.customer(row)
            reason = skip_reason(customer)
            db.execute(
                "UPDATE outbox SET status = ?, error = ?, sent_at = ? "
                "WHERE broadcast_id = ? AND customer_id = ?",
                (
                    "skipped" if reason else "sending",
                    reason,
                    ts(utcnow()) if reason else None,
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
            ts(utcnow()),
            broadcast_id,
            customer_id,
        )

    async def outbox_counts(self, broadcast_id: int) -> OutboxCounts:
        # Skipped rows with a reason left the audience while it was sent to; those without
        # one were still waiting when the broadcast was cancelled.
        found = await self._fetch(
            "SELECT CASE WHEN status = 'skipped' AND error != '' THEN 'left' ELSE status END "
            "AS kind, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY kind",
            (broadcast_id,),
        )
        by = {row[0]: int(row[1]) for row in found}
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
            ts(utcnow()),
            broadcast_id,
        )

    async def broadcast_response(
        self, broadcast_id: int, days: int
    ) -> tuple[GroupResponse, GroupResponse] | None:
        """(receivers, holdout): visits and spend in the `days` after sending started."""

        def body(db: sqlite3.Connection) -> tuple[GroupResponse, GroupResponse] | None:
            row = one(db, "SELECT started_at FROM broadcasts WHERE id = ?", (broadcast_id,))
            if row is None or row[0] is None:
                return None
            start = datetime.fromisoformat(row[0])
            window = (ts(start), ts(start + timedelta(days=days)))
            groups = []
            for status in ("sent", "holdout"):
                customers, visitors, spend = one(
                    db,
                    "SELECT count(*), count(*) FILTER (WHERE visits > 0), "
                    "coalesce(sum(spend), 0) FROM (SELECT o.customer_id, "
                    "(SELECT count(*) FROM ledger l WHERE l.customer_id = o.customer_id "
                    "AND l.kind = 'purchase' AND l.created_at >= ? AND l.created_at < ?) "
                    f"AS visits, (SELECT {SPEND_SQL} FROM ledger WHERE "
                    "ledger.customer_id = o.customer_id AND created_at >= ? "
                    "AND created_at < ?) AS spend FROM outbox o "
                    "WHERE o.broadcast_id = ? AND o.status = ?)",
                    (*window, *window, broadcast_id, status),
                )
                groups.append(GroupResponse(int(customers), int(visitors), int(spend)))
            return groups[0], groups[1]

        return await self._read(body)
