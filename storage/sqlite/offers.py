"""Offers: granted to an audience (a share held out) or to chosen customers, used with a
purchase, and how those who got one behaved."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.errors import OfferUnavailable
from storage.records import Audience, Offer, OfferKind, OfferResults
from storage.sqlite import rows
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.rows import OFFER_COLUMNS, prefixed
from storage.sqlite.segments import audience_where

# The customer's offers valid at a moment and not used up: (customer, now, now).
USABLE_OFFERS_SQL = (
    f"SELECT {prefixed(OFFER_COLUMNS, 'o')} "
    "FROM offers o JOIN offer_grants g ON g.offer_id = o.id AND g.status = 'granted' "
    "WHERE g.customer_id = ? AND o.valid_from <= ? AND o.valid_until > ? "
    "AND (SELECT count(*) FROM offer_uses u WHERE u.offer_id = o.id "
    "AND u.customer_id = g.customer_id) < o.per_customer"
)


def use_offer(
    db: sqlite3.Connection,
    offer_id: int,
    customer_id: int,
    operation_id: str,
    operator_id: int | None,
) -> None:
    """Record one use, inside the booking's transaction; refused when it is not usable."""
    now = ts(utcnow())
    usable = one(db, USABLE_OFFERS_SQL + " AND o.id = ?", (customer_id, now, now, offer_id))
    if usable is None:
        raise OfferUnavailable(offer_id)  # rolls the whole booking back
    db.execute(
        "INSERT INTO offer_uses (offer_id, customer_id, operation_id, operator_id, "
        "created_at) VALUES (?, ?, ?, ?, ?)",
        (offer_id, customer_id, operation_id, operator_id, now),
    )


def offer_by_id(db: sqlite3.Connection, offer_id: int | None) -> Offer:
    return rows.offer(one(db, f"SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?", (offer_id,)))


class OfferStore(Engine):
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
                    ts(valid_from),
                    ts(valid_until),
                    per_customer,
                    holdout_percent,
                    created_by,
                    ts(now),
                ),
            )
            offer_id = cursor.lastrowid
            where, args = audience_where(self._audiences, audience, now)
            db.execute(
                "INSERT OR IGNORE INTO offer_grants (offer_id, customer_id, status, created_at) "
                "SELECT ?, c.id, CASE WHEN abs(random()) % 100 < ? THEN 'holdout' "
                f"ELSE 'granted' END, ? FROM customers c WHERE {where}",
                [offer_id, holdout_percent, ts(now), *args],
            )
            return offer_by_id(db, offer_id)

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
            now = ts(utcnow())
            cursor = db.execute(
                "INSERT INTO offers (title, kind, value, valid_from, valid_until, per_customer, "
                "holdout_percent, created_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?)",
                (title, kind.value, value, ts(valid_from), ts(valid_until), now),
            )
            offer_id = cursor.lastrowid
            db.executemany(
                "INSERT OR IGNORE INTO offer_grants (offer_id, customer_id, status, created_at) "
                "VALUES (?, ?, 'granted', ?)",
                [(offer_id, customer_id, now) for customer_id in customer_ids],
            )
            return offer_by_id(db, offer_id)

        return await self._write(body)

    async def offer(self, offer_id: int) -> Offer | None:
        row = await self._fetch_one(f"SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?", (offer_id,))
        return rows.offer(row) if row else None

    async def offers_for(self, customer_id: int, now: datetime) -> list[Offer]:
        """The customer's offers valid now and not used up, soonest ending first."""
        stamp = ts(now)
        sql = USABLE_OFFERS_SQL + " ORDER BY o.valid_until, o.id"
        found = await self._peek(lambda db: db.execute(sql, (customer_id, stamp, stamp)).fetchall())
        return [rows.offer(row) for row in found]

    async def recent_offers(self, limit: int) -> list[Offer]:
        found = await self._fetch(
            f"SELECT {OFFER_COLUMNS} FROM offers ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [rows.offer(row) for row in found]

    async def offer_results(self, offer_id: int) -> OfferResults:
        def body(db: sqlite3.Connection) -> OfferResults:
            offer = offer_by_id(db, offer_id)
            window = (ts(offer.valid_from), ts(offer.valid_until))
            counts = {}
            for status in ("granted", "holdout"):
                customers, visitors = one(
                    db,
                    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ledger l "
                    "WHERE l.customer_id = g.customer_id AND l.kind = 'purchase' "
                    "AND l.created_at >= ? AND l.created_at < ?)) FROM offer_grants g "
                    "WHERE g.offer_id = ? AND g.status = ?",
                    (*window, offer_id, status),
                )
                counts[status] = (int(customers), int(visitors))
            users, uses = one(
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
