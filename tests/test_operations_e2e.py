"""Running it for real: errors reported without internals, throttling, staff operation logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import Application
from tests.fakeapi import FakeTelegram
from tests.helpers import join


async def test_a_failing_handler_says_sorry_in_the_users_language(
    app: Application, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    user = fake.user(9501, "Оля", language_code="uk")
    await join(fake, user)

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    app.shop.storage.referral_stats = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        fake.send_message(user, "/invite")
        reply = await fake.next_message(9501)
    assert "Вибачте" in reply.content and "secret" not in reply.content
    assert any("failed" in record.getMessage() and "update" in record.getMessage()
               for record in caplog.records)  # fmt: skip
    fake.send_message(user, "/balance")  # the bot carries on
    assert "Ваш баланс" in (await fake.next_message(9501)).content


async def test_a_flooding_customer_is_slowed_down_and_others_are_not(
    app: Application, fake: FakeTelegram
) -> None:
    flood = fake.user(9601, "Flood")
    calm = fake.user(9602, "Calm")
    await join(fake, flood)
    await join(fake, calm)
    before = len(fake.messages(9601))
    for _ in range(30):
        fake.send_message(flood, "/balance")
    fake.send_message(calm, "/balance")
    await fake.wait_for(lambda: any("balance" in m.content for m in fake.messages(9602)[-1:]))
    await fake.idle(quiet=0.3)
    replies = [m.content for m in fake.messages(9601)[before:]]
    slow = [r for r in replies if "Slow down" in r]
    # join used a few updates of the 10-second budget; the rest of the 30 were dropped
    assert len(slow) == 1 and len(replies) < 30 and len(replies) >= 10


async def test_a_cashier_booking_too_fast_is_stopped(start_app: Any, fake: FakeTelegram) -> None:
    from tests.test_desk_e2e import book_purchase, customer_with_card, hire_cashier, open_by_link

    app: Application = await start_app(cashier_bookings_per_minute=2)
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 9701)
    for attempt in range(3):
        await open_by_link(fake, cashier, customer.card_payload)
        confirmation = await book_purchase(fake, cashier, "5")
        pressed = fake.press(cashier, confirmation, confirmation.callback("Confirm"))
        await fake.wait_for(lambda p=pressed: p in fake.callback_answers)
        if attempt < 2:
            await fake.wait_for(lambda c=confirmation: "Booked" in c.content)
    assert "usually makes" in (fake.callback_answers[pressed].get("text") or "")
    purchases = [e for e in await app.shop.storage.history(customer.id, 10) if e.bill_minor]
    assert len(purchases) == 2
