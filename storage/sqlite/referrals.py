"""Referrals: the personal payload, the decision on the friend's purchase (made by the
domain's rule, acted on here in one transaction), its reversal, and the owner's views."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from storage.errors import NotFound
from storage.ports import ReferralCase, ReferralRule, ReferralTerms
from storage.records import (
    Booking,
    Customer,
    EntryKind,
    FlaggedReferral,
    LedgerEntry,
    Referral,
    ReferralDecision,
    ReferralStats,
    ReferralStatus,
    ReferrerRow,
)
from storage.sqlite import rows
from storage.sqlite.customers import CARD_ATTEMPTS
from storage.sqlite.engine import Engine, one, ts, utcnow
from storage.sqlite.ledger import append
from storage.sqlite.rows import CUSTOMER_COLUMNS, LEDGER_COLUMNS, REFERRAL_COLUMNS, prefixed


def decide(
    db: sqlite3.Connection,
    friend_id: int,
    status: ReferralStatus,
    reason: str,
    purchase_id: int | None,
    now: str,
) -> Referral:
    db.execute(
        "UPDATE referrals SET status = ?, reason = ?, purchase_entry_id = ?, decided_at = ? "
        "WHERE friend_id = ?",
        (status.value, reason, purchase_id, now, friend_id),
    )
    return rows.referral_of(db, friend_id)


class ReferralStore(Engine):
    async def referral_payload(self, customer_id: int, new_payload: Callable[[], str]) -> str:
        """The customer's personal referral payload, made on first use and kept."""

        def body(db: sqlite3.Connection) -> str:
            row = one(db, "SELECT referral_payload FROM customers WHERE id = ?", (customer_id,))
            if row is None:
                raise NotFound(customer_id)
            if row[0]:
                return str(row[0])
            for _attempt in range(CARD_ATTEMPTS):
                payload = new_payload()
                try:
                    db.execute(
                        "UPDATE customers SET referral_payload = ? WHERE id = ?",
                        (payload, customer_id),
                    )
                    return payload
                except sqlite3.IntegrityError:
                    continue
            raise RuntimeError("could not draw a free referral payload")

        return await self._write(body)

    async def customer_by_referral(self, payload: str) -> Customer | None:
        row = await self._peek_one(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers "
            "WHERE referral_payload = ? AND forgotten_at IS NULL",
            (payload,),
        )
        return rows.customer(row) if row else None

    async def referral(self, friend_id: int) -> Referral | None:
        row = await self._peek_one(
            f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ?", (friend_id,)
        )
        return rows.referral(row) if row else None

    async def qualify_referral(
        self,
        friend_id: int,
        purchase: LedgerEntry,
        operator_id: int,
        terms: ReferralTerms,
        rule: ReferralRule,
    ) -> ReferralDecision | None:
        """Decide a waiting referral on the friend's purchase, in one transaction: `rule`
        decides on what is read here; a qualified referral pays both sides once (operation
        ids per friend and side), any other decision is recorded with its reason."""

        def body(db: sqlite3.Connection) -> ReferralDecision | None:
            row = one(
                db,
                f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE friend_id = ? AND status = ?",
                (friend_id, ReferralStatus.JOINED.value),
            )
            if row is None:
                return None
            referral = rows.referral(row)
            (paid,) = one(
                db,
                "SELECT count(*) FROM referrals WHERE referrer_id = ? AND status = ? "
                "AND decided_at >= ?",
                (referral.referrer_id, ReferralStatus.QUALIFIED.value, ts(terms.month_start)),
            )
            case = ReferralCase(
                referral=referral,
                friend=rows.customer_by_id(db, friend_id),
                referrer=rows.customer_by_id(db, referral.referrer_id),
                purchase=purchase,
                operator_id=operator_id,
                paid_this_month=int(paid),
            )
            verdict = rule(case, terms)
            if verdict is None:
                return None
            status, reason = verdict
            now = ts(utcnow())
            if status is not ReferralStatus.QUALIFIED:
                return ReferralDecision(decide(db, friend_id, status, reason, purchase.id, now))
            expires = ts(terms.expires_at) if terms.expires_at else None
            bookings: dict[str, Booking | None] = {"friend": None, "referrer": None}
            for side, customer_id, amount in (
                ("friend", case.friend.id, terms.friend_bonus),
                ("referrer", case.referrer.id, terms.referrer_bonus),
            ):
                if amount <= 0:
                    continue
                entry, balance = append(
                    db,
                    customer_id,
                    EntryKind.REFERRAL,
                    amount,
                    f"referral:{friend_id}:{side}",
                    f"referral {side} #{friend_id}",
                    None,
                    None,
                    None,
                    now,
                    expires_at=expires,
                )
                bookings[side] = Booking(entry, True, balance)
            decided = decide(db, friend_id, ReferralStatus.QUALIFIED, reason, purchase.id, now)
            return ReferralDecision(decided, bookings["friend"], bookings["referrer"])

        return await self._write(body)

    async def reverse_referral(
        self, purchase_entry_id: int, open_minor: int, min_purchase_minor: int
    ) -> ReferralDecision | None:
        """When a refund leaves the qualifying purchase below the minimum, take both bonuses
        back with entries linked to them; what was already spent is recorded as shortfall."""

        def body(db: sqlite3.Connection) -> ReferralDecision | None:
            row = one(
                db,
                f"SELECT {REFERRAL_COLUMNS} FROM referrals "
                "WHERE purchase_entry_id = ? AND status = ?",
                (purchase_entry_id, ReferralStatus.QUALIFIED.value),
            )
            if row is None or open_minor >= min_purchase_minor:
                return None
            referral = rows.referral(row)
            now = ts(utcnow())
            bookings: dict[str, Booking | None] = {"friend": None, "referrer": None}
            for side in ("friend", "referrer"):
                bonus = one(
                    db,
                    f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE operation_id = ?",
                    (f"referral:{referral.friend_id}:{side}",),
                )
                if bonus is None:
                    continue
                original = rows.entry(bonus)
                (balance,) = one(
                    db, "SELECT balance FROM customers WHERE id = ?", (original.customer_id,)
                )
                taken = min(original.amount, balance)
                entry, new_balance = append(
                    db,
                    original.customer_id,
                    EntryKind.REFERRAL,
                    -taken,
                    f"referral-undo:{referral.friend_id}:{side}",
                    f"reverses #{original.id}",
                    None,
                    original.id,
                    None,
                    now,
                    original.amount - taken,
                    lot_first=original.id,
                )
                bookings[side] = Booking(entry, True, new_balance)
            decided = decide(
                db, referral.friend_id, ReferralStatus.REVERSED, "refunded", purchase_entry_id, now
            )
            return ReferralDecision(decided, bookings["friend"], bookings["referrer"])

        return await self._write(body)

    async def referral_stats(self, referrer_id: int) -> ReferralStats:
        def body(db: sqlite3.Connection) -> ReferralStats:
            joined, qualified = one(
                db,
                "SELECT count(*), count(*) FILTER (WHERE status = ?) FROM referrals "
                "WHERE referrer_id = ?",
                (ReferralStatus.QUALIFIED.value, referrer_id),
            )
            (points,) = one(
                db,
                "SELECT coalesce(sum(amount), 0) FROM ledger WHERE customer_id = ? AND kind = ?",
                (referrer_id, EntryKind.REFERRAL.value),
            )
            return ReferralStats(int(joined), int(qualified), int(points))

        return await self._read(body)

    async def referral_totals(self) -> tuple[int, int]:
        """(friends joined through a referral, of them qualified and paid)."""
        joined, qualified = await self._fetch_one(
            "SELECT count(*), count(*) FILTER (WHERE status = ?) FROM referrals",
            (ReferralStatus.QUALIFIED.value,),
        )
        return int(joined), int(qualified)

    async def top_referrers(self, limit: int) -> list[ReferrerRow]:
        found = await self._fetch(
            f"SELECT {prefixed(CUSTOMER_COLUMNS, 'c')}, "
            "count(*) AS joined, count(*) FILTER (WHERE r.status = 'qualified') AS qualified, "
            "count(*) FILTER (WHERE r.status = 'capped') "
            "FROM referrals r JOIN customers c ON c.id = r.referrer_id "
            "GROUP BY c.id ORDER BY qualified DESC, joined DESC, c.id LIMIT ?",
            (limit,),
        )
        return [
            ReferrerRow(rows.customer(row), int(row[-3]), int(row[-2]), int(row[-1]))
            for row in found
        ]

    async def flagged_referrals(
        self, burst_window: timedelta, burst_count: int, limit: int
    ) -> list[FlaggedReferral]:
        """Cases an owner should look at: capped and rejected referrals, bursts of joins
        for one referrer, and friends sharing a phone number with the referrer or another
        friend."""

        def body(db: sqlite3.Connection) -> list[FlaggedReferral]:
            found: dict[int, str] = {}
            for friend_id, status in db.execute(
                "SELECT friend_id, status FROM referrals WHERE status IN ('capped', 'rejected')"
            ).fetchall():
                found[friend_id] = status
            seconds = int(burst_window.total_seconds())
            for (friend_id,) in db.execute(
                "SELECT r1.friend_id FROM referrals r1 WHERE (SELECT count(*) FROM referrals r2 "
                "WHERE r2.referrer_id = r1.referrer_id AND abs(strftime('%s', r2.created_at) "
                "- strftime('%s', r1.created_at)) <= ?) >= ?",
                (seconds, burst_count),
            ).fetchall():
                found.setdefault(friend_id, "burst")
            for (friend_id,) in db.execute(
                "SELECT r.friend_id FROM referrals r JOIN customers f ON f.id = r.friend_id "
                "WHERE f.phone IS NOT NULL AND (f.phone = (SELECT phone FROM customers "
                "WHERE id = r.referrer_id) OR EXISTS (SELECT 1 FROM referrals r2 JOIN customers "
                "f2 ON f2.id = r2.friend_id WHERE r2.referrer_id = r.referrer_id "
                "AND r2.friend_id != r.friend_id AND f2.phone = f.phone))"
            ).fetchall():
                found.setdefault(friend_id, "shared_phone")
            flagged = []
            for friend_id in sorted(found, reverse=True)[:limit]:
                referral = rows.referral_of(db, friend_id)
                friend = rows.customer_by_id(db, friend_id)
                referrer = rows.customer_by_id(db, referral.referrer_id)
                flagged.append(FlaggedReferral(referral, friend, referrer, found[friend_id]))
            return flagged

        return await self._read(body)
