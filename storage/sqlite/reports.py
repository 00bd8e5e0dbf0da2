"""The owner's figures (a period, the weekly series) and the CSV exports."""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections import Counter
from datetime import datetime
from typing import Any

from storage.ports import Revenue
from storage.records import PeriodFigures, WeeklySeries
from storage.sqlite.engine import Engine, one, ts
from storage.sqlite.rows import new_member


class ReportStore(Engine):
    async def period_figures(
        self, since: datetime, until: datetime, revenue: Revenue
    ) -> PeriodFigures:
        """Figures for [since, until); revenue as the domain defines it (`Revenue`)."""
        window = (ts(since), ts(until))
        adds = {kind.value for kind in revenue.adds}
        takes = {kind.value for kind in revenue.takes}

        def body(db: sqlite3.Connection) -> PeriodFigures:
            (members,) = one(db, "SELECT count(*) FROM customers WHERE forgotten_at IS NULL")
            (new,) = one(
                db,
                f"SELECT count(*) FROM customers WHERE {new_member()} "
                "AND created_at >= ? AND created_at < ?",
                window,
            )
            # One pass over the period's entries (an index-only scan), summed here: cheaper
            # than a query per figure on a large ledger.
            tier_of = dict(db.execute("SELECT id, tier FROM customers").fetchall())
            visits_by: Counter[int] = Counter()
            by_tier: dict[str, tuple[int, int]] = {}
            operations: Counter[int] = Counter()
            taken = issued = redeemed = expired = 0
            for kind, customer_id, amount, bill, operator in db.execute(
                "SELECT kind, customer_id, amount, bill_minor, operator_id FROM ledger "
                "INDEXED BY ledger_time WHERE created_at >= ? AND created_at < ?",
                window,
            ):
                if kind in adds:
                    taken += bill or 0
                elif kind in takes:
                    taken -= bill or 0
                if kind == "purchase":
                    visits_by[customer_id] += 1
                    tier = tier_of.get(customer_id) or ""
                    count, total = by_tier.get(tier, (0, 0))
                    by_tier[tier] = (count + 1, total + (bill or 0))
                elif kind == "redeem":
                    redeemed -= amount
                elif kind == "expire":
                    expired -= amount
                if amount > 0 and kind != "refund":
                    issued += amount
                if operator is not None and kind in ("purchase", "redeem", "refund"):
                    operations[operator] += 1
            visits = sum(visits_by.values())
            active = len(visits_by)
            repeat = sum(1 for n in visits_by.values() if n >= 2)
            names = dict(db.execute("SELECT telegram_id, name FROM staff").fetchall())
            busiest = sorted(operations.items(), key=lambda item: (-item[1], item[0]))[:5]
            cashiers = [(op, names.get(op) or str(op), count) for op, count in busiest]
            (outstanding,) = one(db, "SELECT coalesce(sum(balance), 0) FROM customers")
            joined, qualified = one(
                db,
                "SELECT count(*) FILTER (WHERE created_at >= ? AND created_at < ?), "
                "count(*) FILTER (WHERE status = 'qualified' AND decided_at >= ? "
                "AND decided_at < ?) FROM referrals",
                (*window, *window),
            )
            (sent,) = one(
                db,
                "SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at >= ? "
                "AND sent_at < ?",
                window,
            )
            (uses,) = one(
                db,
                "SELECT count(*) FROM offer_uses WHERE created_at >= ? AND created_at < ?",
                window,
            )
            tiers = {
                (row[0] or ""): int(row[1])
                for row in db.execute(
                    "SELECT tier, count(*) FROM customers WHERE forgotten_at IS NULL GROUP BY tier"
                ).fetchall()
            }
            return PeriodFigures(
                members=int(members),
                new_members=int(new),
                active_members=int(active),
                repeat_members=int(repeat),
                visits=int(visits),
                revenue_minor=taken,
                checks_by_tier=by_tier,
                issued=int(issued),
                redeemed=int(redeemed),
                expired=int(expired),
                outstanding=int(outstanding),
                referrals_joined=int(joined),
                referrals_qualified=int(qualified),
                promotions_sent=int(sent),
                offer_uses=int(uses),
                cashiers=cashiers,
                tiers=tiers,
            )

        return await self._read(body)

    async def weekly_series(self, bounds: list[datetime]) -> WeeklySeries:
        """Joins, visits, points issued and spent between consecutive `bounds` (the shop's
        local week starts); entries are placed by comparing their UTC timestamps as text."""
        edges = [ts(bound) for bound in bounds]
        buckets = len(edges) - 1

        def body(db: sqlite3.Connection) -> WeeklySeries:
            series = WeeklySeries([0] * buckets, [0] * buckets, [0] * buckets, [0] * buckets)
            for (created,) in db.execute(
                f"SELECT created_at FROM customers WHERE {new_member()} "
                "AND created_at >= ? AND created_at < ?",
                (edges[0], edges[-1]),
            ):
                series.joins[bisect_right(edges, created) - 1] += 1
            for created, kind, amount in db.execute(
                "SELECT created_at, kind, amount FROM ledger INDEXED BY ledger_time "
                "WHERE created_at >= ? AND created_at < ?",
                (edges[0], edges[-1]),
            ):
                week = bisect_right(edges, created) - 1
                if kind == "purchase":
                    series.visits[week] += 1
                if kind == "redeem":
                    series.spent[week] -= amount
                elif amount > 0 and kind != "refund":
                    series.issued[week] += amount
            return series

        return await self._read(body)

    async def export_customers(self) -> list[tuple[Any, ...]]:
        found = await self._fetch(
            "SELECT card_number, name, phone, birthday, language, tier, balance, promotions, "
            "created_at FROM customers WHERE forgotten_at IS NULL ORDER BY id"
        )
        return [tuple(row) for row in found]

    async def export_ledger(self) -> list[tuple[Any, ...]]:
        found = await self._fetch(
            "SELECT l.id, l.created_at, c.card_number, l.kind, l.amount, l.bill_minor, l.reason, "
            "l.operator_id, l.reverses_id, l.shortfall FROM ledger l JOIN customers c "
            "ON c.id = l.customer_id ORDER BY l.id"
        )
        return [tuple(row) for row in found]
