"""Offers end to end: the owner creates one, it is announced, the cashier applies it to a
purchase, it is counted once; holdout customers never get it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.domain.clock import utcnow
from storage import Audience, EntryKind, OfferKind, Segment, SQLiteStorage
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram
from tests.helpers import seed_customers
from tests.test_desk_e2e import (
    book_purchase,
    customer_with_card,
    hire_cashier,
    open_by_link,
)

Start = Callable[..., Any]


async def test_offer_created_announced_applied_and_counted_once(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 8001)
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/offer")
    await fake.next_message(OWNER_ID)
    fake.send_message(owner, "Double treat")
    kinds = await fake.next_message(OWNER_ID)
    fake.press(owner, kinds, kinds.callback("Bonus points"))
    await fake.next_message(OWNER_ID)
    for bad in ("-5", "lots", "0"):
        fake.send_message(owner, bad)
        assert "does not fit" in (await fake.next_message(OWNER_ID)).content
    fake.send_message(owner, "30")
    await fake.next_message(OWNER_ID)
    fake.send_message(owner, "7 days")
    assert "like" in (await fake.next_message(OWNER_ID)).content
    fake.send_message(owner, "7 1")
    choose = await fake.next_message(OWNER_ID)
    fake.press(owner, choose, choose.callback("Everyone"))
    summary = await fake.next_message(OWNER_ID)
    assert "Double treat" in summary.content and "+30 points" in summary.content
    fake.press(owner, summary, summary.callback("Send the offer"))
    announced = await fake.wait_for(
        lambda: next((m for m in fake.messages(8001) if "Double treat" in m.content), None)
    )
    assert "/offers" in announced.content
    fake.send_message(ann, "/offers")
    listed = await fake.wait_for(
        lambda: next((m for m in fake.messages(8001) if "Your offers" in m.content), None)
    )
    assert "Double treat" in listed.content

    view = await open_by_link(fake, cashier, customer.card_payload)
    assert "Double treat" in view.content
    fake.press(cashier, view, view.callback("Apply"))
    await fake.wait_for(
        lambda: any(
            "next purchase" in (a.get("text") or "") for a in fake.callback_answers.values()
        )
    )
    confirmation = await book_purchase(fake, cashier, "20")
    assert "+50 points" in confirmation.content and "Offer applied" in confirmation.content
    data = confirmation.callback("Confirm")
    fake.press(cashier, confirmation, data)
    fake.press(cashier, confirmation, data)  # a double tap
    await fake.wait_for(lambda: "Booked" in confirmation.content)
    offer = (await app.shop.storage.recent_offers(1))[0]
    results = await app.shop.storage.offer_results(offer.id)
    assert (results.uses, results.users) == (1, 1)
    assert await app.shop.storage.offers_for(customer.id, utcnow()) == []  # used up
    # Drafting again with the stale choice books a plain purchase, not the offer.
    again = await open_by_link(fake, cashier, customer.card_payload)
    assert "Apply" not in str(again.buttons())
    fake.send_message(owner, "/offer_results")
    pick = await fake.next_message(OWNER_ID)
    while "Which offer" not in pick.content:
        pick = await fake.next_message(OWNER_ID)
    fake.press(owner, pick, pick.buttons()[0]["callback_data"])
    report = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "used by 1" in m.content), None)
    )
    assert "1 uses in all" in report.content


async def test_holdout_customers_never_get_the_offer(
    storage: SQLiteStorage, tmp_path: Path
) -> None:
    seed_customers(str(tmp_path / "test.db"), 200, 90_000)
    now = utcnow()
    offer = await storage.create_offer(
        "Free bagel", OfferKind.ITEM, 0, now, now + timedelta(days=3), 1, 50,
        Audience(Segment.EVERYONE), 1,
    )  # fmt: skip
    results = await storage.offer_results(offer.id)
    assert results.granted + results.held_out == 200 and results.held_out > 0
    receivers = await storage.audience_size(Audience(Segment.OFFER, str(offer.id)), now)
    assert receivers == results.granted
    everyone = await storage.spends(None)
    holding = [c for c, _ in everyone if await storage.offers_for(c.id, now)]
    assert len(holding) == results.granted  # the held-out ones have nothing to use
    expired = await storage.offers_for(holding[0].id, now + timedelta(days=4))
    assert expired == []


async def test_automatic_offers_once_per_period(start_app: Start, fake: FakeTelegram) -> None:
    from dataclasses import replace

    from bot.domain.program.model import AutoOffer, AutoTrigger
    from tests.conftest import TEST_PROGRAM

    program = replace(
        TEST_PROGRAM,
        auto_offers=(
            AutoOffer(AutoTrigger.WIN_BACK, "We miss you: free coffee", "item", 0, 7, days=60),
            AutoOffer(AutoTrigger.NEAR_TIER, "Almost Silver", "multiplier", 200, 7,
                      amount_minor=100_00),
            AutoOffer(AutoTrigger.WELCOME, "Welcome treat", "percent", 10, 14),
        ),
    )  # fmt: skip
    app: Application = await start_app(program)
    lapsed = seed_customers(app.shop.settings.database_path, 2, 8100)  # joined 2026-01-01
    quiet = seed_customers(app.shop.settings.database_path, 1, 8200, promotions=0)
    for user_id in [*lapsed, *quiet]:
        fake.user(user_id, f"Guest {user_id}")
    _ann, ann, _ = await customer_with_card(app, fake, 8300)  # new: gets the welcome offer
    await app.shop.storage.book(ann.id, EntryKind.PURCHASE, 450, "big", bill_minor=450_00)
    await app.jobs.run_daily()
    for user_id in lapsed:
        got = await fake.wait_for(
            lambda u=user_id: next(
                (m for m in fake.messages(u) if "We miss you" in m.content), None
            )
        )
        assert "Stop promotions" in str(got.buttons())
    await fake.wait_for(lambda: any("Welcome treat" in m.content for m in fake.messages(8300)))
    await fake.wait_for(lambda: any("Almost Silver" in m.content for m in fake.messages(8300)))
    assert [m for m in fake.messages(8200)] == []  # opted out: nothing
    before = sum(len(fake.messages(u)) for u in [*lapsed, 8300])
    await app.jobs.run_daily()  # the same day again: nothing new
    await app.jobs.auto_offers(app.shop.now().date())
    assert sum(len(fake.messages(u)) for u in [*lapsed, 8300]) == before
    mine = await app.shop.storage.offers_for(ann.id, utcnow())
    assert {o.title for o in mine} == {"Welcome treat", "Almost Silver"}
