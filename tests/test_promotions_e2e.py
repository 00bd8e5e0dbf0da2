"""Promotions end to end: compose, preview and send from the bot; delivery at the set rate,
through a 429 and blocked chats, each reachable customer exactly once; opt-out respected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.app import Application
from bot.domain.clock import utcnow
from storage import Audience, BroadcastStatus, Segment
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram
from tests.helpers import seed_customers

Start = Callable[..., Any]


def promotions_to(fake: FakeTelegram, chat_ids: set[int]) -> list[Any]:
    return [
        call
        for call in fake.requests
        if call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) in chat_ids
    ]


async def test_owner_composes_previews_and_sends(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app()
    ids = seed_customers(app.shop.settings.database_path, 5, 7000)
    seed_customers(app.shop.settings.database_path, 2, 7100, promotions=0)  # opted out
    for user_id in [*ids, 7100, 7101]:
        fake.user(user_id, f"Guest {user_id}")
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/broadcast")
    assert "Personalize" in (await fake.next_message(OWNER_ID)).content
    fake.send_message(owner, "Hi {name}! You have {balance}. {unknown}")
    refused = await fake.next_message(OWNER_ID)
    assert "Unknown placeholder {unknown}" in refused.content
    fake.send_message(owner, "Hi <b>{name}</b>! Double points this weekend. <i>oops")
    assert "not allowed or not closed" in (await fake.next_message(OWNER_ID)).content
    fake.send_message(owner, "Hi <b>{name}</b>! You have {balance}. Double points this weekend.")
    await fake.next_message(OWNER_ID)  # the button question
    fake.send_message(owner, "Menu | ftp://nope")
    assert "like" in (await fake.next_message(OWNER_ID)).content
    fake.send_message(owner, "See the menu | https://example.com/menu")
    choose = await fake.next_message(OWNER_ID)
    fake.press(owner, choose, choose.callback("Everyone"))
    sample = await fake.next_message(OWNER_ID)
    assert "Hi Guest 7000! You have 0 points." in sample.content
    assert next(b.get("url") for b in sample.buttons()) == "https://example.com/menu"
    summary = await fake.next_message(OWNER_ID)
    assert "5 customers" in summary.content
    fake.press(owner, summary, summary.callback("Send now"))
    await fake.wait_for(lambda: len(promotions_to(fake, set(ids))) == 5)
    report = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "sent." in m.content), None)
    )
    assert "100%" in report.content and "Sent: 5 of 5" in report.content
    assert promotions_to(fake, {7100, 7101}) == []
    fake.send_message(owner, "/broadcasts")
    listing = await fake.wait_for(
        lambda: next(
            (m for m in fake.messages(OWNER_ID) if "Results of #1" in str(m.buttons())), None
        )
    )
    fake.press(owner, listing, listing.callback("Results"))
    results = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "Received it" in m.content), None)
    )
    assert "5 customers" in results.content and "holdout next time" in results.content
    # A customer stops promotions from the button; the next broadcast skips them.
    received = fake.messages(7000)[-1]
    fake.press(fake.user(7000, "Guest"), received, received.callback("Stop promotions"))
    await fake.wait_for(
        lambda: any(
            "not receive promotions" in (a.get("text") or "")
            for a in fake.callback_answers.values()
        )
    )
    assert await app.shop.storage.audience_size(Audience(Segment.EVERYONE), utcnow()) == 4


async def test_a_thousand_customers_through_429_and_blocked_chats(
    start_app: Start, fake: FakeTelegram
) -> None:
    rate = 120.0
    app: Application = await start_app(broadcast_rate=rate)
    # Faster than Telegram allows, to keep the test short: the bot's overall pace too.
    app.bot.session.pacer.limit = 200  # type: ignore[attr-defined]
    ids = seed_customers(app.shop.settings.database_path, 1000, 10_000)
    for user_id in ids:
        fake.user(user_id, f"Guest {user_id}")
    fake.user(OWNER_ID, "Olga")
    blocked = set(ids[::50])  # 20 customers blocked the bot
    for user_id in blocked:
        fake.block(user_id)
    created = await app.shop.storage.create_broadcast(
        OWNER_ID, "Sale, {name}!", None, None, Audience(Segment.EVERYONE), 0, utcnow()
    )

    async def inject_429() -> None:
        await fake.wait_for(lambda: len(promotions_to(fake, set(ids))) >= 300, timeout=60)
        fake.fail_next("sendMessage", 429, retry_after=1)

    injector = asyncio.create_task(inject_429())
    app.broadcaster.wake()
    await fake.wait_for(
        lambda: any("sent." in m.content for m in fake.messages(OWNER_ID)), timeout=120
    )
    await injector
    reachable = set(ids) - blocked
    delivered = [int(call.params["chat_id"]) for call in promotions_to(fake, reachable)]
    assert sorted(delivered) == sorted(reachable)  # everyone reachable, exactly once
    sends = [
        call
        for call in fake.requests
        if call.method == "sendMessage" and int(call.params["chat_id"]) in set(ids)
    ]
    limited = [call for call in sends if call.status == 429]
    assert len(limited) == 1
    window_end = limited[0].at + 1
    assert not [c for c in sends if limited[0].at < c.at < window_end - 0.02]
    times = sorted(call.at for call in sends)
    for index, moment in enumerate(times):  # never more than the rate in any second
        in_second = sum(1 for t in times[index : index + int(rate) + 5] if t < moment + 1)
        assert in_second <= rate + 1, in_second
    counts = await app.shop.storage.outbox_counts(created.id)
    assert (counts.sent, counts.blocked, counts.pending) == (980, 20, 0)
    for user_id in list(blocked)[:3]:
        customer = await app.shop.storage.customer_by_telegram(user_id)
        assert customer is not None
    # Blocked customers are skipped next time.
    assert await app.shop.storage.audience_size(Audience(Segment.EVERYONE), utcnow()) == 980
    report = [m for m in fake.messages(OWNER_ID) if "sent." in m.content][-1]
    assert "100%" in report.content and "blocked the bot: 20" in report.content


async def test_receipts_are_not_held_up_by_a_running_broadcast(
    start_app: Start, fake: FakeTelegram
) -> None:
    from tests.test_desk_e2e import book_purchase, customer_with_card, hire_cashier, open_by_link

    app: Application = await start_app(broadcast_rate=30.0)
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 7500)
    ids = seed_customers(app.shop.settings.database_path, 300, 30_000)
    for user_id in ids:
        fake.user(user_id, f"Guest {user_id}")
    created = await app.shop.storage.create_broadcast(
        OWNER_ID, "News for {name}", None, None, Audience(Segment.EVERYONE), 0, utcnow()
    )
    app.broadcaster.wake()
    await fake.wait_for(lambda: len(promotions_to(fake, set(ids))) >= 30, timeout=30)
    await open_by_link(fake, cashier, customer.card_payload)
    confirmation = await book_purchase(fake, cashier, "12")
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    receipt = await fake.wait_for(
        lambda: next((m for m in fake.messages(7500) if "+12 points" in m.content), None)
    )
    assert receipt is not None
    # The receipt went out while the promotion was still on its way to most customers.
    assert (await app.shop.storage.outbox_counts(created.id)).pending > 100
    assert await app.shop.storage.cancel_broadcast(created.id)


async def test_schedule_list_and_cancel(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app()
    ids = seed_customers(app.shop.settings.database_path, 3, 7600)
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/broadcast")
    await fake.next_message(OWNER_ID)
    fake.send_message(owner, "Weekend sale")
    await fake.next_message(OWNER_ID)
    fake.send_message(owner, "/skip")
    choose = await fake.next_message(OWNER_ID)
    fake.press(owner, choose, choose.callback("Everyone"))
    await fake.next_message(OWNER_ID)  # the preview
    summary = await fake.next_message(OWNER_ID)
    fake.press(owner, summary, summary.callback("Holdout 10%: off"))
    await fake.next_message(OWNER_ID)
    summary = await fake.next_message(OWNER_ID)
    assert "will not receive it" in summary.content
    fake.press(owner, summary, summary.callback("Schedule"))
    await fake.next_message(OWNER_ID)
    for bad in ("tomorrow", "2020-01-01 10:00", "2026-02-30 10:00", "2026-13-01 10:00"):
        fake.send_message(owner, bad)
        assert "future date" in (await fake.next_message(OWNER_ID)).content
    moment = (app.shop.now() + timedelta(days=2)).strftime("%Y-%m-%d 09:30")
    fake.send_message(owner, moment)
    assert "is scheduled for" in (await fake.next_message(OWNER_ID)).content
    scheduled = await app.shop.storage.broadcasts((BroadcastStatus.SCHEDULED,))
    assert len(scheduled) == 1 and scheduled[0].holdout_percent == 10
    assert (
        scheduled[0].send_at.astimezone(app.shop.settings.timezone).strftime("%Y-%m-%d %H:%M")
        == moment
    )
    fake.send_message(owner, "/broadcasts")
    listing = await fake.next_message(OWNER_ID)
    fake.press(owner, listing, listing.callback("Cancel #1"))
    await fake.wait_for(
        lambda: any("cancelled" in (a.get("text") or "") for a in fake.callback_answers.values())
    )
    assert await app.shop.storage.broadcasts((BroadcastStatus.SCHEDULED,)) == []
    assert promotions_to(fake, set(ids)) == []


async def test_photo_promotion_reuses_the_owners_photo(
    start_app: Start, fake: FakeTelegram
) -> None:
    from io import BytesIO

    from PIL import Image

    app: Application = await start_app()
    ids = seed_customers(app.shop.settings.database_path, 2, 7700)
    for user_id in ids:
        fake.user(user_id, f"Guest {user_id}")
    owner = fake.user(OWNER_ID, "Olga")
    picture = BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(picture, format="PNG")
    fake.send_message(owner, "/broadcast")
    await fake.next_message(OWNER_ID)
    fake.send_photo(owner, picture.getvalue(), caption="New cakes for {name}")
    await fake.next_message(OWNER_ID)
    fake.send_message(owner, "/skip")
    choose = await fake.next_message(OWNER_ID)
    fake.press(owner, choose, choose.callback("Everyone"))
    preview = await fake.next_message(OWNER_ID)
    assert preview.kind == "photo" and "New cakes for Guest 7700" in preview.content
    summary = await fake.next_message(OWNER_ID)
    fake.press(owner, summary, summary.callback("Send now"))
    photos = await fake.wait_for(
        lambda: (
            [
                call
                for call in fake.requests
                if call.method == "sendPhoto" and call.ok and int(call.params["chat_id"]) in ids
            ]
            if len([c for c in fake.requests if c.method == "sendPhoto"]) >= 3
            else None
        )
    )
    assert sorted(int(c.params["chat_id"]) for c in photos) == ids
    assert all(c.params["photo"] == photos[0].params["photo"] for c in photos)  # one file_id
