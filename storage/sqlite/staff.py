"""Cashiers: invite links, joining through one, and removal."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.records import InviteOutcome, StaffInvite, StaffMember
from storage.sqlite.engine import Engine, one, ts, utcnow


class StaffStore(Engine):
    async def staff_member(self, telegram_id: int) -> StaffMember | None:
        row = await self._fetch_one(
            "SELECT telegram_id, name, added_by, added_at FROM staff "
            "WHERE telegram_id = ? AND revoked_at IS NULL",
            (telegram_id,),
        )
        return StaffMember(row[0], row[1], row[2], datetime.fromisoformat(row[3])) if row else None

    async def staff(self) -> list[StaffMember]:
        found = await self._fetch(
            "SELECT telegram_id, name, added_by, added_at FROM staff WHERE revoked_at IS NULL "
            "ORDER BY added_at"
        )
        return [StaffMember(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in found]

    async def revoke_staff(self, telegram_id: int) -> bool:
        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE staff SET revoked_at = ? WHERE telegram_id = ? AND revoked_at IS NULL",
                (ts(utcnow()), telegram_id),
            )
            return cursor.rowcount > 0

        return await self._write(body)

    async def create_invite(self, payload: str, created_by: int, expires_at: datetime) -> None:
        await self._update(
            "INSERT INTO staff_invites (payload, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            payload,
            created_by,
            ts(utcnow()),
            ts(expires_at),
        )

    async def open_invites(self, now: datetime) -> list[StaffInvite]:
        found = await self._fetch(
            "SELECT payload, created_by, created_at, expires_at FROM staff_invites "
            "WHERE used_by IS NULL AND expires_at > ? ORDER BY created_at",
            (ts(now),),
        )
        return [
            StaffInvite(r[0], r[1], datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3]))
            for r in found
        ]

    async def revoke_invite(self, payload: str, now: datetime) -> bool:
        """End an open invite now; False when it was used, expired or unknown."""

        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE staff_invites SET expires_at = ? "
                "WHERE payload = ? AND used_by IS NULL AND expires_at > ?",
                (ts(now), payload, ts(now)),
            )
            return cursor.rowcount == 1

        return await self._write(body)

    async def use_invite(
        self, payload: str, telegram_id: int, name: str, now: datetime
    ) -> InviteOutcome:
        def body(db: sqlite3.Connection) -> InviteOutcome:
            row = one(
                db, "SELECT expires_at, used_by FROM staff_invites WHERE payload = ?", (payload,)
            )
            if row is None:
                return InviteOutcome.UNKNOWN
            if row[1] is not None:
                return InviteOutcome.USED
            if datetime.fromisoformat(row[0]) <= now:
                return InviteOutcome.EXPIRED
            found = one(
                db,
                "SELECT 1 FROM staff WHERE telegram_id = ? AND revoked_at IS NULL",
                (telegram_id,),
            )
            if found:
                return InviteOutcome.ALREADY_STAFF
            db.execute(
                "UPDATE staff_invites SET used_by = ?, used_at = ? WHERE payload = ?",
                (telegram_id, ts(now), payload),
            )
            db.execute(
                "INSERT INTO staff (telegram_id, name, added_by, added_at) "
                "SELECT ?, ?, created_by, ? FROM staff_invites WHERE payload = ? "
                "ON CONFLICT (telegram_id) DO UPDATE SET revoked_at = NULL, name = excluded.name, "
                "added_by = excluded.added_by, added_at = excluded.added_at",
                (telegram_id, name, ts(now), payload),
            )
            return InviteOutcome.JOINED

        return await self._write(body)
