"""Claims and walk-ins end to end: an imported card found by its holder's phone, an old card
number that moves nothing by itself, and a card opened at the till for a walk-in, booked on,
then claimed by its holder."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.app import Application
from bot.domain import imports
from storage import EntryKind, unclaimed
from tests.conftest import TEST_PROGRAM
from tests.fakeapi import FakeTelegram
from tests.helpers import join
from tests.test_desk_e2e import (
    CASHIER_ID,
    book_purchase,
    customer_with_card,
    hire_cashier,
    open_by_link,
)

CARDS = (
    "card_number,name,phone,balance,spend\n"
    "004512,Olena Koval,+380671234567,340,1250.00\n"
    "004513,Ivan,+380501234567,25,\n"
)


async def import_cards(app: Application) -> None:
    run = await imports.dry_run(app.shop.context, CARDS.encode())
    assert (await imports.import_rows(app.shop.context, run)).created == 2


async def test_sharing_the_phone_claims_the_imported_card(
    app: Application, fake: FakeTelegram
) -> None:
    await import_cards(app)
    user = fake.user(5001, "Olena")
    await join(fake, user, skip_profile=False)
    fake.send_contact(user, "380671234567", 5001)
    found = await fake.next_message(5001)
    assert "We found your card 004512: 340 points moved to your new card" in found.content
    card = await fake.next_message(5001)
    assert card.kind == "photo" and "390" in card.content
    await fake.next_message(5001)  # the birthday question
    customer = await app.shop.storage.customer_by_telegram(5001)
    assert customer is not None and customer.legacy_number == "004512"
    assert customer.balance == 390 and customer.tier == "Silver"  # welcome 50 + 340, once
    kinds = [(e.kind, e.amount) for e in await app.shop.storage.history(customer.id, 10)]
    assert kinds == [(EntryKind.CLAIM, 50), (EntryKind.IMPORT, 340)]
    # Shared again (from settings): the card is already theirs, nothing moves twice.
    fake.send_message(user, "/phone")
    await fake.next_message(5001)
    fake.send_contact(user, "380671234567", 5001)
    assert "phone number is saved" in (await fake.next_message(5001)).content
    again = await app.shop.storage.customer_by_telegram(5001)
    assert again is not None and again.balance == 390
    # The history shows the plastic card's points, not its lifetime spend as a bill.
    await fake.next_message(5001)  # the question after the phone
    fake.send_message(user, "/history")
    history = await fake.next_message(5001)
    assert "Points from your plastic card" in history.content, history.content
    assert "bill" not in history.content and "1,250" not in history.content


async def test_an_old_number_alone_moves_nothing(app: Application, fake: FakeTelegram) -> None:
    await import_cards(app)
    user = fake.user(5002, "Ivan")
    await join(fake, user)
    fake.send_message(user, "004513")
    asked = await fake.next_message(5002)
    assert "share the phone number" in asked.content and "moves nothing" in asked.content
    assert fake.current_reply_keyboard(5002) is not None
    # Someone else's contact does not prove anything either.
    fake.send_contact(user, "380501234567", 9999, first_name="Ivan")
    assert "someone else's contact" in (await fake.next_message(5002)).content
    card = await app.shop.storage.customer_by_legacy_number("004513")
    assert card is not None and unclaimed(card) and card.balance == 25
    mine = await app.shop.storage.customer_by_telegram(5002)
    assert mine is not None and mine.balance == 50
    # A phone that matches no card is just saved.
    fake.send_contact(user, "380931112233", 5002)
    assert "phone number is saved" in (await fake.next_message(5002)).content
    mine = await app.shop.storage.customer_by_telegram(5002)
    assert mine is not None and mine.balance == 50 and mine.phone == "+380931112233"


async def test_cashier_finds_imported_cards_and_cannot_spend_there(
    app: Application, fake: FakeTelegram
) -> None:
    await import_cards(app)
    cashier = await hire_cashier(fake)
    fake.send_message(cashier, "#004512")
    view = await fake.next_message(cashier["id"])
    assert "Olena Koval" in view.content and "Plastic card 004512" in view.content, view.content
    query = fake.press(cashier, view, view.callback("Spend"))
    await fake.idle()
    answer = fake.callback_answers[query]
    assert "not opened in Telegram yet" in answer["text"] and answer["show_alert"]
    fake.send_message(cashier, "050 123 45 67")
    by_phone = await fake.next_message(cashier["id"])
    assert "Ivan" in by_phone.content and "Plastic card 004513" in by_phone.content


async def test_an_old_number_with_its_zeros_opens_that_card_while_a_customer_is_open(
    app: Application, fake: FakeTelegram
) -> None:
    await import_cards(app)
    cashier = await hire_cashier(fake)
    fake.send_message(cashier, "#004512")
    assert "Plastic card 004512" in (await fake.next_message(cashier["id"])).content
    fake.send_message(cashier, "004513")
    view = await fake.next_message(cashier["id"])
    assert "Ivan" in view.content and "Plastic card 004513" in view.content, view.content
    # Digits without leading zeros are still the amount of a purchase.
    fake.send_message(cashier, "45")
    confirm = await fake.next_message(cashier["id"])
    assert confirm.callback("Confirm") and "Plastic card" not in confirm.content


async def test_walk_in_booked_at_the_till_then_claimed(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    fake.send_message(cashier, "067 555 44 33")
    offer = await fake.next_message(cashier["id"])
    assert "No customer" in offer.content
    fake.press(cashier, offer, offer.callback("New card for +380 67 555 4433"))
    view = await fake.next_message(cashier["id"])
    assert f"https://t.me/{fake.bot_username}" in view.content, view.content
    card = await app.shop.storage.unclaimed_by_phone("+380675554433")
    assert card is not None and card.balance == 0
    confirmation = await book_purchase(fake, cashier, "120")
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    booked = await fake.wait_for(
        lambda: [m for m in fake.messages(cashier["id"]) if "No receipt was sent" in m.content]
    )
    assert "+120 points" in booked[0].content
    # Pressing the offer again opens the same card: one card per phone.
    fake.press(cashier, offer, offer.callback("New card for +380 67 555 4433"))
    await fake.idle()
    assert (await app.shop.storage.customers_by_phone("+380675554433")) == [
        await app.shop.storage.customer(card.id)
    ]
    user = fake.user(5003, "Walker")
    await join(fake, user, skip_profile=False)
    fake.send_contact(user, "+380675554433", 5003)
    found = await fake.next_message(5003)
    assert "120 points moved to your card" in found.content, found.content
    customer = await app.shop.storage.customer_by_telegram(5003)
    assert customer is not None and customer.id == card.id and customer.balance == 170


async def test_a_cashier_cannot_claim_a_walk_in_they_booked_on(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    fake.send_message(cashier, "067 555 44 33")
    offer = await fake.next_message(cashier["id"])
    fake.press(cashier, offer, offer.callback("New card for +380 67 555 4433"))
    await fake.next_message(cashier["id"])
    confirmation = await book_purchase(fake, cashier, "120")
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.wait_for(
        lambda: [m for m in fake.messages(cashier["id"]) if "No receipt was sent" in m.content]
    )
    card = await app.shop.storage.unclaimed_by_phone("+380675554433")
    assert card is not None and card.balance == 120
    fake.send_message(cashier, "/phone")
    await fake.next_message(cashier["id"])
    fake.send_contact(cashier, "+380675554433", cashier["id"])
    refused = await fake.wait_for(
        lambda: [m for m in fake.messages(cashier["id"]) if "ask an owner" in m.content]
    )
    assert "booked yourself" in refused[0].content
    still = await app.shop.storage.customer(card.id)
    assert still is not None and unclaimed(still) and still.balance == 120


async def test_a_purchase_booked_before_the_claim_is_refunded_from_the_claimed_card(
    app: Application, fake: FakeTelegram
) -> None:
    await import_cards(app)
    cashier = await hire_cashier(fake)
    user, customer, _ = await customer_with_card(app, fake, 5004, name="Olena")
    await open_by_link(fake, cashier, customer.card_payload)
    confirmation = await book_purchase(fake, cashier, "100")
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    receipt = await fake.next_message(5004)
    assert "+100 points" in receipt.content, receipt.content
    fake.send_message(user, "/phone")
    await fake.next_message(5004)
    fake.send_contact(user, "380671234567", 5004)
    assert "We found your card 004512" in (await fake.next_message(5004)).content
    claimed = await app.shop.storage.customer_by_telegram(5004)
    assert claimed is not None and claimed.balance == 490  # 340 + 50 welcome + 100
    view = await open_by_link(fake, cashier, claimed.card_payload)
    fake.press(cashier, view, view.callback("Refund"))
    choices = await fake.next_message(CASHIER_ID)
    fake.press(cashier, choices, choices.callback("purchase"))
    prompt = await fake.next_message(CASHIER_ID)
    assert "100.00" in prompt.content, prompt.content
    fake.press(cashier, prompt, prompt.callback("Refund"))
    draft = await fake.next_message(CASHIER_ID)
    assert "-100 points" in draft.content, draft.content
    fake.press(cashier, draft, draft.callback("Confirm"))
    booked = await fake.wait_for(
        lambda: [m for m in fake.messages(CASHIER_ID) if "Booked: -100 points" in m.content]
    )
    assert "Balance now 390 points" in booked[0].content
    told = await fake.wait_for(lambda: [m for m in fake.messages(5004) if "-100" in m.content])
    assert "Balance: 390 points" in told[0].content
    after = await app.shop.storage.customer(claimed.id)
    assert after is not None and after.balance == 390
    assert await app.shop.storage.balance_mismatches() == []
    assert await app.shop.storage.lot_mismatches() == []


async def test_jobs_never_message_an_unclaimed_card(start_app, fake: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    program = dataclasses.replace(
        TEST_PROGRAM, birthday_bonus=25, expiry_days=30, expiry_reminder_days=40
    )
    app: Application = await start_app(program)
    today = app.shop.context.today()
    born = f"{today.day:02d}.{today.month:02d}.1990"
    data = f"card_number,phone,birthday,balance\n7001,+380671234567,{born},100\n"
    run = await imports.dry_run(app.shop.context, data.encode())
    await imports.import_rows(app.shop.context, run)
    await app.jobs.run_daily()
    await app.jobs.remind()
    await fake.idle()
    card = await app.shop.storage.customer_by_legacy_number("7001")
    # No birthday bonus for a card nobody holds yet (nobody to celebrate with), and the
    # expiry reminder due for its imported points goes nowhere.
    assert card is not None and card.balance == 100
    assert await app.shop.storage.expiring(
        app.shop.context.now(), app.shop.context.now() + timedelta(days=40)
    )
    sent = [c for c in fake.requests if c.method.startswith("send")]
    assert sent == [], fake.dump()
