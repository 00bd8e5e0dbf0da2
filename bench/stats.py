"""`/stats` for 30 days on a large database: the figures and the charts, timed.

.venv/bin/python -m bench.stats --customers 100000 --entries 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain import insights
from bot.domain.program.model import DEFAULT_PROGRAM
from bot.domain.tokens import distinct_card_identities
from bot.i18n import build_i18n
from bot.services import reports
from bot.shop import Shop
from storage import SQLiteStorage
from tests.conftest import make_settings

KINDS = ("purchase",) * 7 + ("redeem", "welcome", "refund")


def seed(path: Path, customers: int, entries: int, now: datetime) -> None:
    """A year of history: customers joining over it, entries spread evenly across it."""
    rng = random.Random(11)
    db = sqlite3.connect(path)
    year = 365 * 86400

    def at(offset: float) -> str:
        return (now - timedelta(seconds=offset)).isoformat(timespec="microseconds")

    with db:
        db.executemany(
            "INSERT INTO customers (id, telegram_id, name, card_number, card_payload, balance, "
            "tier, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (index + 1, 1_000_000 + index, f"Customer {index}", number, payload,
                 rng.randint(0, 500), rng.choice(("Bronze", "Silver", "Gold")),
                 at(rng.uniform(0, year)), at(0))
                for index, (number, payload) in enumerate(distinct_card_identities(customers))
            ),
        )  # fmt: skip
        rows = []
        for index in range(entries):
            kind = rng.choice(KINDS)
            amount = rng.randint(1, 300) * (-1 if kind in ("redeem", "refund") else 1)
            bill = rng.randint(100, 30_000) if kind in ("purchase", "refund") else None
            rows.append(
                (rng.randint(1, customers), kind, amount, f"b{index}",
                 rng.randint(1, 20) if kind != "welcome" else None, bill,
                 at(rng.uniform(0, year)))
            )  # fmt: skip
        db.executemany(
            "INSERT INTO ledger (customer_id, kind, amount, operation_id, operator_id, "
            "bill_minor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stats-bench-"))
    storage = await SQLiteStorage.open(str(folder / "stats.db"))
    began = time.perf_counter()
    seed(folder / "stats.db", args.customers, args.entries, datetime.now(UTC))
    print(f"seeded {args.customers} customers, {args.entries} entries in "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip
    shop = Shop(make_settings(folder, ""), DEFAULT_PROGRAM, storage, build_i18n())
    for run in range(args.runs):
        began = time.perf_counter()
        span = insights.period(shop.settings.timezone, 30, shop.now().date())
        figures = await storage.period_figures(span.since, span.until, insights.REVENUE)
        with shop.i18n.context(), shop.i18n.use_locale("en"):
            text = reports.stats_text(shop, span, figures)
            counted = time.perf_counter() - began
            charts = await reports.weekly_charts(shop, span, figures)
        total = time.perf_counter() - began
        print(
            f"run {run + 1}: figures {counted:.2f} s, with {len(charts)} charts {total:.2f} s "
            f"({figures.visits} visits, {len(text)} characters)"
        )
    await storage.close()


if __name__ == "__main__":
    asyncio.run(main())
