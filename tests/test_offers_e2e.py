"""Offers end to end: the owner creates one, it is announced, the cashier applies it to a
purchase, it is counted once; holdout customers never get it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import Application
from storage import Audience, OfferKind, Segment, SQLiteStorage
from storage.sqlite import utcnow
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
