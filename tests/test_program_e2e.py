"""The program through the real bot: a stamp card filled and redeemed, tier upgrades, the
cooldown, a birthday granted once across a restart, expiry reminders and giving back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.app import Application
from bot.domain.clock import utcnow
from bot.domain.program.model import Earning, Program, Tier
from storage import EntryKind
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

STAMP_CARD = Program(
    welcome_bonus=0,
    tiers=(Tier("Bronze", 0),),
    earning=Earning.STAMPS,
    stamps_for_reward=10,
    stamp_reward="Free coffee",
    min_purchase_minor=300,
)

Start = Callable[..., Any]


async def visit(fake: FakeTelegram, cashier: dict, payload: str, amount: str) -> str:
    """One purchase at the till; returns the customer's receipt."""
    await open_by_link(fake, cashier, payload)
    confirmation = await book_purchase(fake, cashier, amount)
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.wait_for(lambda: "Booked" in confirmation.content)
    return confirmation.content


async def test_ten_stamps_then_the_reward(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app(STAMP_CARD)
    cashier = await hire_cashier(fake)
    _ann, customer, card = await customer_with_card(app, fake, 4001)
    assert "Stamps" in card.content and "○○○○○○○○○○" in card.content

    # Below the qualifying minimum: booked, but no stamp, and the cashier is told why.
    await open_by_link(fake, cashier, customer.card_payload)
    small = await book_purchase(fake, cashier, "2.50")
    assert "+0 stamps" in small.content and "minimum purchase" in small.content
    fake.press(cashier, small, small.callback("Cancel"))
    await fake.wait_for(lambda: "Cancelled" in small.content)

    for index in range(1, 11):
        await visit(fake, cashier, customer.card_payload, "4.20")
        receipt = await fake.next_message(4001)
        assert "+1 stamp" in receipt.content, receipt.content
        assert f"{index} stamp" in receipt.content
    assert "Reward ready: Free coffee" in receipt.content

    view = await open_by_link(fake, cashier, customer.card_payload)
    assert "●●●●●●●●●●" in view.content and "Reward ready: Free coffee" in view.content
    fake.press(cashier, view, view.callback("Give reward"))
    request = await fake.next_message(4001)
    assert "10 stamps" in request.content and "Free coffee" in request.content
    waiting = await fake.next_message(CASHIER_ID)
    assert "Waiting" in waiting.content
    fake.press(fake.user(4001, "Ann"), request, request.callback("Yes"))
    await fake.wait_for(lambda: "Give: Free coffee" in waiting.content)
    await fake.wait_for(lambda: "You spent 10 stamps" in request.content)
    stored = await app.shop.storage.customer(customer.id)
    assert stored is not None and stored.balance == 0
    redeemed = [e for e in await app.shop.storage.history(customer.id, 20) if e.amount < 0]
    assert [(e.kind, e.amount, e.reason) for e in redeemed] == [
        (EntryKind.REDEEM, -10, "redeem: Free coffee")
    ]


async def test_cooldown_stops_a_second_stamp(start_app: Start, fake: FakeTelegram) -> None:
    program = Program(
        welcome_bonus=0,
        tiers=(Tier("Bronze", 0),),
        earning=Earning.STAMPS,
        stamp_reward="Bagel",
        visit_cooldown=timedelta(hours=2),
    )
    app: Application = await start_app(program)
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 4002)
    await visit(fake, cashier, customer.card_payload, "5")
    await fake.next_message(4002)
    await open_by_link(fake, cashier, customer.card_payload)
    again = await book_purchase(fake, cashier, "5")
    assert "+0 stamps" in again.content and "does not count" in again.content


async def test_spend_lifts_the_tier_at_once(start_app: Start, fake: FakeTelegram) -> None:
    program = Program(
        welcome_bonus=0,
        tiers=(Tier("Bronze", 0), Tier("Silver", 100_00, 150), Tier("Gold", 1_000_00, 200)),
    )
    app: Application = await start_app(program)
    cashier = await hire_cashier(fake)
    _ann, customer, card = await customer_with_card(app, fake, 4003)
    assert "Spend 100.00 more to reach Silver" in card.content
    await visit(fake, cashier, customer.card_payload, "60")
    assert "+60 points" in (await fake.next_message(4003)).content
    await visit(fake, cashier, customer.card_payload, "50")
    await fake.next_message(4003)  # receipt
    congratulation = await fake.next_message(4003)
    assert "reached Silver" in congratulation.content, congratulation.content
    assert "1.5 times" in congratulation.content
    fake.send_message(fake.user(4003, "Ann"), "/balance")
    balance = await fake.next_message(4003)
    assert "Silver" in balance.content and "Spend 890.00 more to reach Gold" in balance.content
    # Silver's multiplier applies to the next purchase: 10.00 earns 15.
    await visit(fake, cashier, customer.card_payload, "10")
    assert "+15 points" in (await fake.next_message(4003)).content


async def test_birthday_granted_once_across_a_restart(start_app: Start, fake: FakeTelegram) -> None:
    program = Program(welcome_bonus=0, tiers=TEST_PROGRAM.tiers, birthday_bonus=25)
    app: Application = await start_app(program)
    _ann, customer, _ = await customer_with_card(app, fake, 4004)
    today = app.shop.now().date()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today
    await app.shop.storage.set_birthday(customer.id, born)
    await app.jobs.run_daily()
    gift = await fake.next_message(4004)
    assert "Happy birthday" in gift.content and "+25 points" in gift.content
    await app.jobs.run_daily()  # a second run the same day
    await app.dispatcher.stop_polling()
    assert await app.shop.storage.balance_mismatches() == []
    await app.close()

    restarted: Application = await start_app(program)  # same database; catches up on start
    await restarted.jobs.run_daily()
    birthdays = [
        e
        for e in await restarted.shop.storage.history(customer.id, 20)
        if e.kind is EntryKind.BIRTHDAY
    ]
    assert len(birthdays) == 1 and birthdays[0].amount == 25
    assert birthdays[0].reason == f"birthday {today.year}"
    assert [m for m in fake.messages(4004) if "Happy birthday" in m.content] == [gift]


async def test_no_second_birthday_after_forget_and_rejoin(
    start_app: Start, fake: FakeTelegram
) -> None:
    program = Program(welcome_bonus=0, tiers=TEST_PROGRAM.tiers, birthday_bonus=25)
    app: Application = await start_app(program)
    user, first, _ = await customer_with_card(app, fake, 4010)
    today = app.shop.now().date()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today
    await app.shop.storage.set_birthday(first.id, born)
    await app.jobs.birthdays(today)
    assert "Happy birthday" in (await fake.next_message(4010)).content

    fake.send_message(user, "/forget")
    ask = await fake.next_message(4010)
    fake.press(user, ask, ask.callback("Yes"))
    assert "deleted" in (await fake.next_message(4010)).content
    await join(fake, user)  # a new card for the same person, the same day
    second = await app.shop.storage.customer_by_telegram(4010)
    assert second is not None and second.id != first.id
    await app.shop.storage.set_birthday(second.id, born)
    await app.jobs.birthdays(today)
    await app.jobs.birthdays(today)

    assert await app.shop.storage.ledger_sum(second.id) == 0
    assert await app.shop.storage.history(second.id, 20) == []
    assert len([m for m in fake.messages(4010) if "Happy birthday" in m.content]) == 1
    # Someone who never left still gets theirs the same day.
    _bo, other, _ = await customer_with_card(app, fake, 4011, name="Bo")
    await app.shop.storage.set_birthday(other.id, born)
    await app.jobs.birthdays(today)
    assert "Happy birthday" in (await fake.next_message(4011)).content


async def test_missed_birthday_is_caught_up_on_start(start_app: Start, fake: FakeTelegram) -> None:
    program = Program(welcome_bonus=0, tiers=TEST_PROGRAM.tiers, birthday_bonus=10)
    app: Application = await start_app(program)
    _ann, customer, _ = await customer_with_card(app, fake, 4005)
    today = app.shop.now().date()
    yesterday = today - timedelta(days=1)
    await app.shop.storage.set_birthday(customer.id, yesterday.replace(year=1985))
    await app.shop.storage.set_job_day("daily", today - timedelta(days=3))
    await app.jobs.run_daily()
    gift = await fake.next_message(4005)
    assert "Happy birthday" in gift.content


async def test_expiry_reminder_and_expiry(start_app: Start, fake: FakeTelegram) -> None:
    program = Program(
        welcome_bonus=30, tiers=TEST_PROGRAM.tiers, expiry_days=10, expiry_reminder_days=14
    )
    app: Application = await start_app(program)
    await customer_with_card(app, fake, 4006)
    await app.jobs.run_daily()
    reminder = await fake.next_message(4006)
    assert "30 points" in reminder.content and "expire on" in reminder.content
    await app.jobs.remind()  # told once per expiry day
    fake.send_message(fake.user(4006, "Ann"), "/balance")
    balance = await fake.next_message(4006)
    assert "30 points expire on" in balance.content
    expired = await app.shop.storage.expire_due(utcnow() + timedelta(days=11))
    assert [b.entry.amount for b in expired] == [-30]
    assert await app.shop.storage.expire_due(utcnow() + timedelta(days=12)) == []


async def test_giving_points_to_the_cause(start_app: Start, fake: FakeTelegram) -> None:
    program = Program(welcome_bonus=50, tiers=TEST_PROGRAM.tiers, cause="Trees for our park")
    app: Application = await start_app(program)
    ann, customer, _ = await customer_with_card(app, fake, 4007)
    fake.send_message(ann, "/give")
    ask = await fake.next_message(4007)
    assert "Trees for our park" in ask.content and "0 points" in ask.content
    for bad in ("abc", "0", "51", "-3", "٣"):
        fake.send_message(ann, bad)
        assert "from 1 to 50" in (await fake.next_message(4007)).content
    fake.send_message(ann, "20")
    confirm = await fake.next_message(4007)
    data = confirm.callback("Yes")
    first = fake.press(ann, confirm, data)
    await fake.wait_for(lambda: "Thank you" in confirm.content)
    assert "20 points" in confirm.content
    again = fake.press(ann, confirm, data)  # a double tap gives nothing more
    await fake.wait_for(lambda: first in fake.callback_answers and again in fake.callback_answers)
    assert "Already done" in (fake.callback_answers[again].get("text") or "")
    stored = await app.shop.storage.customer(customer.id)
    assert stored is not None and stored.balance == 30
    assert await app.shop.storage.donations_total() == 20


async def test_program_summary_for_customers_and_owner(
    start_app: Start, fake: FakeTelegram
) -> None:
    await start_app(STAMP_CARD)
    ann = fake.user(4008, "Ann", language_code="uk")
    fake.send_message(ann, "/program")
    summary = await fake.next_message(4008)
    assert "Free coffee" in summary.content and "How our loyalty" not in summary.content
    owner = fake.user(1000, "Olga")
    fake.send_message(owner, "/program")
    rules = await fake.next_message(1000)
    assert "press Change" in rules.content and "10 stamps" in rules.content
    assert rules.button("Change") and rules.button("History")


async def test_daily_review_lowers_a_tier_kindly(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app()
    _ann, customer, _ = await customer_with_card(app, fake, 4009)
    await app.shop.storage.set_tier(customer.id, "Gold")  # reached a year ago, nothing since
    await app.jobs.run_daily()
    notice = await fake.next_message(4009)
    assert "Bronze" in notice.content and "points stay yours" in notice.content
    stored = await app.shop.storage.customer(customer.id)
    assert stored is not None and stored.tier == "Bronze"
    await app.jobs.review_tiers()  # already lowered: nothing more to say
    assert fake.messages(4009)[-1] is notice
