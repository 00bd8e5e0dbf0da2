"""Where new customers joined from: a poster's source tag, a friend, or a plain /start."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.ports_branding import DIRECT_SOURCE, REFERRAL_SOURCE
from storage.sqlite.engine import Engine, ts, utcnow
from storage.sqlite.rows import new_member


class JoinSourceStore(Engine):
    async def record_join_source(self, customer_id: int, source: str) -> None:
        await self._update(
            "INSERT INTO join_sources (customer_id, source, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (customer_id) DO NOTHING",
            customer_id,
            source,
            ts(utcnow()),
        )

    async def join_sources(self, since: datetime, until: datetime) -> dict[str, int]:
        def body(db: sqlite3.Connection) -> dict[str, int]:
            found = db.execute(
                "SELECT coalesce(j.source, CASE WHEN r.friend_id IS NOT NULL THEN ? ELSE ? END) "
                "AS joined_from, count(*) FROM customers c "
                "LEFT JOIN join_sources j ON j.customer_id = c.id "
                "LEFT JOIN referrals r ON r.friend_id = c.id "
                f"WHERE {new_member('c')} "
                "AND c.created_at >= ? AND c.created_at < ? GROUP BY joined_from",
                (REFERRAL_SOURCE, DIRECT_SOURCE, ts(since), ts(until)),
            ).fetchall()
            return {str(source): int(count) for source, count in found}

        return await self._read(body)
