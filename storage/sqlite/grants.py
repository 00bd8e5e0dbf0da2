"""The program over time: tier spend and moves, birthdays, expiry, reminders' marks, the
daily run's progress, and what was given to the shop's cause."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from storage.records import Booking, Customer, EarningContext, EntryKind, ExpiringPoints
from storage.sqlite import rows
from storage.sqlite.customers import former_key
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.ledger import already_booked, append
from storage.sqlite.rows import CUSTOMER_COLUMNS, SPEND_KINDS, SPEND_SQL, prefixed


def earning_context_of(
    db: sqlite3.Connection, customer_id: int, window_start: datetime | None, day_start: datetime
) -> EarningContext:
    # Each query walks ledger_kind_time (customer, kind, time) over one customer's entries in
    # its window only: the spend over the tier window, today's earnings, and the newest
    # visit that earned.
    purchase = EntryKind.PURCHASE.value
    (spend,) = one(
        db,
        f"SELECT {SPEND_SQL} FROM ledger WHERE customer_id = ? "
        f"AND kind IN {SPEND_KINDS} AND created_at >= ?",
        (customer_id, ts(window_start) if window_start else ""),
    )
    (earned,) = one(
        db,
        "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ? AND kind = ? "
        "AND created_at >= ? AND amount > 0",
        (customer_id, purchase, ts(day_start)),
    )
    last = one(
        db,
        "SELECT created_at FROM ledger WHERE customer_id = ? AND kind = ? AND amount > 0 "
        "ORDER BY created_at DESC LIMIT 1",
        (customer_id, purchase),
    )
    return EarningContext(
        int(spend), int(earned), datetime.fromisoformat(last[0]) if last else None
    )


class GrantStore(Engine):
    async def earning_context(
        self, customer_id: int, window_start: datetime | None, day_start: datetime
    ) -> EarningContext:
        return await self._peek(
            lambda db: earning_context_of(db, customer_id, window_start, day_start)
        )

    async def spends(self, window_start: datetime | None) -> list[tuple[Customer, int]]:
        found = await self._fetch(
            f"SELECT {CUSTOMER_COLUMNS}, (SELECT {SPEND_SQL} FROM ledger "
            "WHERE ledger.customer_id = customers.id AND created_at >= ?) "
            "FROM customers WHERE forgotten_at IS NULL ORDER BY id",
            (ts(window_start) if window_start else "",),
        )
        return [(rows.customer(row), int(row[-1])) for row in found]

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

    async def grant_birthday(
        self, customer_id: int, points: int, year: int, expires_at: datetime | None = None
    ) -> Booking | None:
        """The year's birthday bonus, once per person: None when the same Telegram user
        already had this year's on a card they have since deleted ("forget me", then joining
        again), recognised by `former_key` like the welcome and referral bonuses."""
        operation_id = f"birthday:{customer_id}:{year}"

        def body(db: sqlite3.Connection) -> Booking | None:
            booked = already_booked(db, operation_id)
            if booked is not None:
                return booked
            row = one(
                db,
                "SELECT telegram_id FROM customers WHERE id = ? AND forgotten_at IS NULL",
                (customer_id,),
            )
            if row is None or row[0] is None:
                return None
            earlier = one(
                db,
                "SELECT 1 FROM customers c JOIN ledger l "
                "ON l.operation_id = 'birthday:' || c.id || ':' || ? "
                "WHERE c.former_key = ? LIMIT 1",
                (year, former_key(db, self._former_secret, row[0])),
            )
            if earlier:
                return None
            entry, balance = append(
                db,
                customer_id,
                EntryKind.BIRTHDAY,
                points,
                operation_id,
                f"birthday {year}",
                None,
                None,
                None,
                ts(utcnow()),
                expires_at=ts(expires_at) if expires_at else None,
            )
            return Booking(entry, True, balance)

        return await self._write(body)

    async def birthday_customers(self, month: int, day: int) -> list[Customer]:
        """Customers celebrating on this day; on 28 February in a year without the 29th,
        pass day=28 and those born on the 29th are included (see program.birthday_this_year)."""
        days = [f"-{month:02d}-{day:02d}"]
        if (month, day) == (2, 28):
            days.append("-02-29")
        marks = ", ".join("?" for _ in days)
        found = await self._fetch(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE forgotten_at IS NULL "
            f"AND birthday IS NOT NULL AND substr(birthday, 5) IN ({marks}) ORDER BY id",
            days,
        )
        return [rows.customer(row) for row in found]

    async def expire_due(self, now: datetime) -> list[Booking]:
        """Expire every lot due by `now`, one ledger entry per lot, keyed by the lot: a second
        run finds nothing left to expire and books nothing."""

        def body(db: sqlite3.Connection) -> list[Booking]:
            due = db.execute(
                "SELECT entry_id, customer_id, remaining FROM lots "
                "WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ? "
                "ORDER BY entry_id",
                (ts(now),),
            ).fetchall()
            bookings = []
            for entry_id, customer_id, remaining in due:
                operation_id = f"expire:{entry_id}"
                if already_booked(db, operation_id) is not None:
                    continue
                entry, balance = append(
                    db,
                    customer_id,
                    EntryKind.EXPIRE,
                    -remaining,
                    operation_id,
                    f"lot #{entry_id} expired",
                    None,
                    None,
                    None,
                    ts(now),
                    lot_first=entry_id,
                )
                bookings.append(Booking(entry, True, balance))
            return bookings

        return await self._write(body)

    async def expiring(
        self, now: datetime, until: datetime, customer_id: int | None = None
    ) -> list[ExpiringPoints]:
        """Points that expire in (now, until], summed per customer and expiry day."""
        found = await self._fetch(
            f"SELECT {prefixed(CUSTOMER_COLUMNS, 'c')}, "
            "sum(l.remaining), min(l.expires_at) FROM lots l JOIN customers c "
            "ON c.id = l.customer_id WHERE l.remaining > 0 AND l.expires_at > ? "
            "AND l.expires_at <= ? AND c.forgotten_at IS NULL AND (? IS NULL OR c.id = ?) "
            "GROUP BY c.id, substr(l.expires_at, 1, 10) ORDER BY c.id, min(l.expires_at)",
            (ts(now), ts(until), customer_id, customer_id),
        )
        return [
            ExpiringPoints(rows.customer(row), int(row[-2]), datetime.fromisoformat(row[-1]))
            for row in found
        ]

    async def claim_mark(self, customer_id: int, kind: str, period: str) -> bool:
        """True the first time (customer, kind, period) is claimed, False ever after."""

        def body(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT OR IGNORE INTO marks (customer_id, kind, period, created_at) "
                "VALUES (?, ?, ?, ?)",
                (customer_id, kind, period, ts(utcnow())),
            )
            return cursor.rowcount == 1

        return await self._write(body)

    async def job_day(self, name: str) -> date | None:
        row = await self._fetch_one("SELECT last_day FROM job_runs WHERE name = ?", (name,))
        return date.fromisoformat(row[0]) if row else None

    async def set_job_day(self, name: str, day: date) -> None:
        def body(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO job_runs (name, last_day) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET last_day = excluded.last_day",
                (name, day.isoformat()),
            )

        await self._write(body)

    async def donations_total(self) -> int:
        (total,) = await self._fetch_one(
            "SELECT coalesce(-sum(amount), 0) FROM ledger WHERE kind = ?",
            (EntryKind.DONATION.value,),
        )
        return int(total)
