"""The owner's figures against hand-computed values (time-zone edges included), charts,
CSV exports, and the owner's tools through the bot."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.app import Application
from bot.domain import insights
from bot.i18n import build_i18n
from bot.media.charts import bar_chart
from bot.services import reports
from bot.shop import Shop
from storage import EntryKind, SQLiteStorage
from tests.conftest import OWNER_ID, TEST_PROGRAM, make_settings
from tests.fakeapi import FakeTelegram
from tests.test_desk_e2e import book_purchase, customer_with_card, hire_cashier, open_by_link

Start = Callable[..., Any]
KYIV = ZoneInfo("Europe/Kyiv")  # UTC+2 in November


def seed(path: Path) -> None:
    """Two customers and a few days of entries with known answers (times in UTC)."""
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO customers (id, telegram_id, name, card_number, card_payload, balance, "
            "tier, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, 11, "Оксана", "11111111", "c_a" + "x" * 20, 135, "Bronze",
                 "2026-11-10T21:00:00+00:00", "2026-11-10T21:00:00+00:00"),
                (2, 12, "สมชาย", "22222222", "c_b" + "x" * 20, 100, "Silver",
                 "2026-11-12T08:00:00+00:00", "2026-11-12T08:00:00+00:00"),
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO ledger (customer_id, kind, amount, operation_id, operator_id, "
            "bill_minor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                # 23:30 in Kyiv on 10 November: counts for the 10th, not the 11th.
                (1, "purchase", 100, "p1", 500, 10000, "2026-11-10T21:30:00+00:00"),
                (1, "purchase", 50, "p2", 500, 5000, "2026-11-12T10:00:00+00:00"),
                # 00:30 in Kyiv on 12 November.
                (2, "purchase", 200, "p3", 501, 20000, "2026-11-11T22:30:00+00:00"),
                (2, "redeem", -100, "r1", 501, None, "2026-11-12T11:00:00+00:00"),
                (1, "refund", -10, "f1", 500, 1000, "2026-11-12T12:00:00+00:00"),
                (1, "expire", -5, "e1", None, None, "2026-11-12T13:00:00+00:00"),
            ],
        )
        db.execute("INSERT INTO staff (telegram_id, name, added_at) VALUES (500, 'Carl', '')")
    db.close()


@pytest.fixture
async def shop(tmp_path: Path) -> Any:
    storage = await SQLiteStorage.open(str(tmp_path / "stats.db"))
    seed(tmp_path / "stats.db")
    settings = make_settings(tmp_path, "http://127.0.0.1:9", timezone=KYIV)
    yield Shop(settings, TEST_PROGRAM, storage, build_i18n())
    await storage.close()


async def figures(shop: Shop, first: date, last: date) -> Any:
    span = insights.between(shop.settings.timezone, first, last)
    return await shop.storage.period_figures(span.since, span.until, insights.REVENUE)


async def test_figures_match_hand_computed_values(shop: Shop) -> None:
    tenth = await figures(shop, date(2026, 11, 10), date(2026, 11, 10))
    assert (tenth.visits, tenth.revenue_minor, tenth.active_members) == (1, 10000, 1)
    assert tenth.new_members == 1 and tenth.issued == 100
    eleventh = await figures(shop, date(2026, 11, 11), date(2026, 11, 11))
    assert (eleventh.visits, eleventh.revenue_minor, eleventh.new_members) == (0, 0, 0)
    twelfth = await figures(shop, date(2026, 11, 12), date(2026, 11, 12))
    assert (twelfth.visits, twelfth.revenue_minor) == (2, 24000)  # 50.00 + 200.00 - 10.00
    assert (twelfth.issued, twelfth.redeemed, twelfth.expired) == (250, 100, 5)
    assert twelfth.checks_by_tier == {"Bronze": (1, 5000), "Silver": (1, 20000)}
    assert (twelfth.active_members, twelfth.repeat_members) == (2, 0)
    assert twelfth.cashiers == [(500, "Carl", 2), (501, "501", 2)]
    whole = await figures(shop, date(2026, 11, 10), date(2026, 11, 12))
    assert (whole.visits, whole.active_members, whole.repeat_members) == (3, 2, 1)
    assert whole.outstanding == 235 and whole.members == 2
    assert whole.tiers == {"Bronze": 1, "Silver": 1}


async def test_texts_and_charts_for_empty_and_busy_periods(shop: Shop) -> None:
    with shop.i18n.context(), shop.i18n.use_locale("uk"):
        empty = insights.between(shop.settings.timezone, date(2026, 1, 1), date(2026, 1, 7))
        text = reports.stats_text(shop, empty, await figures(shop, empty.first, empty.last))
        assert "2026-01-01" in text and "0,00" in text  # Ukrainian decimal comma
        busy = insights.between(shop.settings.timezone, date(2026, 11, 1), date(2026, 11, 30))
        text = reports.stats_text(shop, busy, await figures(shop, busy.first, busy.last))
        assert "340,00" in text and "Carl 3" in text  # 100.00 + 50.00 + 200.00 - 10.00
        busy_figures = await figures(shop, busy.first, busy.last)
        for chart in await reports.weekly_charts(shop, busy, busy_figures):
            image = Image.open(BytesIO(chart))
            image.verify()
            assert image.size == (1200, 700) and len(chart) < 200_000


@pytest.mark.parametrize(
    ("labels", "series"),
    [
        ([], [("A", [])]),
        (["1"], [("A", [7])]),
        ([str(i) for i in range(60)], [("A", list(range(60))), ("Б", [10**6] * 60)]),
    ],
)
def test_chart_is_a_sane_png(labels: list[str], series: list[tuple[str, list[int]]]) -> None:
    png = bar_chart("ยอดขาย / Продажі", labels, series, "Немає даних")
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 700)
    assert 5_000 < len(png) < 200_000


def test_csv_round_trips_non_latin_names() -> None:
    rows = [("12345678", "Оксана Петренко", "+380671234567"), ("87654321", "สมชาย ใจดี", None)]
    data = insights.to_csv(["card", "name", "phone"], rows)
    assert data.startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert read == [
        ["card", "name", "phone"],
        ["12345678", "Оксана Петренко", "'+380671234567"],  # text, never a formula
        ["87654321", "สมชาย ใจดี", ""],
    ]


async def test_owner_stats_export_adjust_and_alerts(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app(replace(TEST_PROGRAM, alert_customer_operations=2))
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 9001, name="Анна")
    owner = fake.user(OWNER_ID, "Olga")
    for _round in range(3):  # the third operation today crosses the threshold of 2
        await open_by_link(fake, cashier, customer.card_payload)
        confirmation = await book_purchase(fake, cashier, "10")
        fake.press(cashier, confirmation, confirmation.callback("Confirm"))
        await fake.wait_for(lambda c=confirmation: "Booked" in c.content)
    alert = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "Unusual" in m.content), None)
    )
    assert "3 operations" in alert.content and customer.card_number in alert.content

    fake.send_message(owner, "/stats")
    report = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "Figures for" in m.content), None)
    )
    assert "Visits: 3" in report.content and "30.00" in report.content
    await fake.wait_for(lambda: sum(1 for m in fake.messages(OWNER_ID) if m.kind == "photo") == 3)
    fake.send_message(owner, "/stats 2026-13-01 2026-12-01")
    await fake.wait_for(lambda: any("two dates" in m.content for m in fake.messages(OWNER_ID)))

    fake.send_message(owner, "/export")
    files = await fake.wait_for(
        lambda: (
            [m for m in fake.messages(OWNER_ID) if m.kind == "document"]
            if len([m for m in fake.messages(OWNER_ID) if m.kind == "document"]) == 2
            else None
        )
    )
    customers = files[0].file_bytes.decode("utf-8-sig")
    assert "Анна" in customers and customers.startswith("card_number,")
    assert files[1].file_bytes.decode("utf-8-sig").count("\n") == 1 + 3 + 1  # header, buys, welcome

    for bad in ("", "12345678 +5 x", f"{customer.card_number} 0 reason", "nonsense +5 gift"):
        fake.send_message(owner, f"/adjust {bad}")
        await fake.wait_for(
            lambda: (
                "the reason is required" in fake.messages(OWNER_ID)[-1].content
                or "No customer" in fake.messages(OWNER_ID)[-1].content
            )
        )
    sent = fake.send_message(owner, f"/adjust {customer.card_number} +25 sorry for the wait")
    ask = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "Confirm?" in m.content), None)
    )
    assert "+25 points" in ask.content and "sorry for the wait" in ask.content
    # The same update handled again (as after a restart, when Telegram redelivers what was
    # not acknowledged) only drafts again: nothing is booked before a button is pressed.
    fake._enqueue("message", sent)
    await fake.wait_for(lambda: sum("Confirm?" in m.content for m in fake.messages(OWNER_ID)) == 2)
    assert (await app.shop.storage.customer(customer.id)).balance == 80  # type: ignore[union-attr]
    fake.press(owner, ask, ask.callback("Confirm"))
    fake.press(owner, ask, ask.callback("Confirm"))  # a double tap
    await fake.wait_for(lambda: "Done: +25 points" in ask.content)
    told = await fake.wait_for(
        lambda: next((m for m in fake.messages(9001) if "sorry for the wait" in m.content), None)
    )
    assert "+25 points" in told.content
    fake.send_message(owner, f"/adjust {customer.card_number} -999999 mistake")
    await fake.wait_for(lambda: "nothing was changed" in fake.messages(OWNER_ID)[-1].content)
    await fake.idle(quiet=0.2)
    history = await app.shop.storage.history(customer.id, 10)
    assert history[0].reason == "sorry for the wait" and history[0].operator_id == OWNER_ID
    assert [e.kind for e in history].count(EntryKind.ADJUST) == 1
    assert (await app.shop.storage.customer(customer.id)).balance == 105  # type: ignore[union-attr]


async def test_weekly_series_follow_local_days(shop: Shop) -> None:
    zone = shop.settings.timezone
    from bot.domain.program.rules import local_midnight

    bounds = [local_midnight(date(2026, 11, d), zone) for d in (10, 11, 13)]
    series = await shop.storage.weekly_series(bounds)
    # The purchase at 23:30 local on the 10th is in the first bucket; 00:30 on the 12th in
    # the second.
    assert series.visits == [1, 2]
    assert series.issued == [100, 250] and series.spent == [0, 100]
    assert series.joins == [1, 1]


async def test_weekly_digest_goes_out_once_a_week(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app()
    fake.user(OWNER_ID, "Olga")
    monday = date(2026, 11, 23)
    await app.jobs.weekly_digest(monday)
    digest = await fake.next_message(OWNER_ID)
    assert "Your week at" in digest.content and "2026-11-16 to 2026-11-22" in digest.content
    assert (await fake.next_message(OWNER_ID)).kind == "photo"
    await app.jobs.weekly_digest(monday + timedelta(days=2))  # same week: nothing more
    await app.jobs.weekly_digest(monday)
    assert len(fake.messages(OWNER_ID)) == 2
    await app.jobs.weekly_digest(monday + timedelta(days=7))
    await fake.wait_for(lambda: len(fake.messages(OWNER_ID)) == 4)


async def test_forgetting_a_customer_leaves_the_figures_unchanged(shop: Shop) -> None:
    before = await figures(shop, date(2026, 11, 1), date(2026, 11, 30))
    await shop.storage.forget_customer(1)
    after = await figures(shop, date(2026, 11, 1), date(2026, 11, 30))
    assert (after.visits, after.revenue_minor, after.issued, after.outstanding) == (
        before.visits,
        before.revenue_minor,
        before.issued,
        before.outstanding,
    )
    assert after.members == before.members - 1  # no longer a member, still in the ledger
    exported = await shop.storage.export_customers()
    assert all("Оксана" not in str(row) for row in exported)
