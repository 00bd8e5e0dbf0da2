"""Audiences in SQL: the domain's `AudienceFilter` translated into a WHERE clause over
`customers c`. What each audience means is not decided here (see `storage.ports.AudienceRule`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.ports import AudienceFilter, AudienceRule
from storage.records import Audience, Customer
from storage.sqlite import rows
from storage.sqlite.engine import Engine, ts
from storage.sqlite.rows import CUSTOMER_COLUMNS, SPEND_SQL, prefixed

# Promotions reach only customers who are still here, opted in and reachable.
REACHABLE = (
    "c.forgotten_at IS NULL AND c.promotions = 1 AND c.unreachable_at IS NULL "
    "AND c.telegram_id IS NOT NULL"
)


def filter_sql(spec: AudienceFilter) -> tuple[str, list[Any]]:
    """WHERE clause over `customers c` choosing the reachable customers the filter holds."""
    where: list[str] = [REACHABLE]
    args: list[Any] = []
    if spec.tiers:
        marks = ", ".join("?" for _ in spec.tiers)
        either = " OR c.tier IS NULL" if spec.untiered else ""
        where.append(f"(c.tier IN ({marks}){either})")
        args += list(spec.tiers)
    elif spec.untiered:
        where.append("c.tier IS NULL")
    if spec.joined_since is not None:
        where.append("c.created_at >= ?")
        args.append(ts(spec.joined_since))
    if spec.no_purchase_since is not None:
        where.append(
            "coalesce((SELECT max(created_at) FROM ledger l WHERE l.customer_id = c.id "
            "AND l.kind = 'purchase'), c.created_at) < ?"
        )
        args.append(ts(spec.no_purchase_since))
    if spec.birthday_month is not None:
        where.append("substr(c.birthday, 6, 2) = ?")
        args.append(f"{spec.birthday_month:02d}")
    if spec.top_spend_percent is not None:
        since = ts(spec.spend_since) if spec.spend_since else ""
        spend = (
            f"(SELECT {SPEND_SQL} FROM ledger WHERE ledger.customer_id = c.id AND created_at >= ?)"
        )
        # The top share of the reachable customers with any spend, by that spend.
        where.append(
            f"c.id IN (SELECT c.id FROM customers c WHERE {REACHABLE} AND {spend} > 0 "
            f"ORDER BY {spend} DESC, c.id LIMIT max(1, (SELECT (count(*) * ? + 99) / 100 "
            f"FROM customers c WHERE {REACHABLE} AND {spend} > 0)))"
        )
        args += [since, since, spec.top_spend_percent, since]
    if spec.referred_friends:
        where.append("EXISTS (SELECT 1 FROM referrals r WHERE r.referrer_id = c.id)")
    if spec.granted_offer is not None:
        where.append(
            "EXISTS (SELECT 1 FROM offer_grants g WHERE g.customer_id = c.id "
            "AND g.offer_id = ? AND g.status = 'granted')"
        )
        args.append(spec.granted_offer)
    if spec.points_expiring is not None:
        start, end = spec.points_expiring
        where.append(
            "EXISTS (SELECT 1 FROM lots WHERE lots.customer_id = c.id "
            "AND remaining > 0 AND expires_at > ? AND expires_at <= ?)"
        )
        args += [ts(start), ts(end)]
    return " AND ".join(where), args


def audience_where(rule: AudienceRule, audience: Audience, now: datetime) -> tuple[str, list[Any]]:
    return filter_sql(rule(audience, now))


class SegmentStore(Engine):
    async def audience_size(self, audience: Audience, now: datetime) -> int:
        where, args = audience_where(self._audiences, audience, now)
        (count,) = await self._fetch_one(f"SELECT count(*) FROM customers c WHERE {where}", args)
        return int(count)

    async def sample_customer(self, audience: Audience, now: datetime) -> Customer | None:
        where, args = audience_where(self._audiences, audience, now)
        columns = prefixed(CUSTOMER_COLUMNS, "c")
        row = await self._fetch_one(
            f"SELECT {columns} FROM customers c WHERE {where} LIMIT 1", args
        )
        return rows.customer(row) if row else None

    async def audience_customers(self, audience: Audience, now: datetime) -> list[Customer]:
        where, args = audience_where(self._audiences, audience, now)
        columns = prefixed(CUSTOMER_COLUMNS, "c")
        found = await self._fetch(
            f"SELECT {columns} FROM customers c WHERE {where} ORDER BY c.id", args
        )
        return [rows.customer(row) for row in found]
