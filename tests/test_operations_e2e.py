"""Running it for real: errors reported without internals, throttling, staff operation logs."""

from __future__ import annotations

import asyncio
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


async def test_a_cashier_booking_too_fast_is_stopped(
    start_app: Any, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.domain.desk")
    from tests.test_desk_e2e import (
        CASHIER_ID,
        book_purchase,
        customer_with_card,
        hire_cashier,
        open_by_link,
    )

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
    # One readable log line per booking: who, what, which customer, how much, which operation.
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("booked")]
    assert len(lines) == 2
    assert f"operator {CASHIER_ID}" in lines[0] and f"customer {customer.id}" in lines[0]
    assert purchases[0].operation_id in " ".join(lines)


async def test_webhook_checks_the_secret_and_handles_an_update_once(
    start_app: Any, fake: FakeTelegram, tmp_path: Any
) -> None:
    import socket

    import aiohttp

    from bot.app import Application
    from bot.webhook import WEBHOOK_PATH

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from tests.conftest import TEST_PROGRAM, make_settings

    settings = make_settings(
        tmp_path, fake.base_url, webhook_url="https://shop.example.com",
        webhook_secret="s3cret-token-for-tests", webhook_host="127.0.0.1", webhook_port=port,
    )  # fmt: skip
    app = await Application.create(settings, TEST_PROGRAM)
    await app.prepare()
    runner = await app.start_webhook()
    try:
        assert fake.webhook == {
            "url": "https://shop.example.com" + WEBHOOK_PATH,
            "secret_token": "s3cret-token-for-tests",
        }
        user = fake.user(9801, "Web")
        update = {"update_id": 777, "message": fake.send_message(user, "/start")}
        url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 401
            await asyncio.sleep(0.3)  # the queued copy is never polled
            assert fake.messages(9801) == []  # refused requests changed nothing
            good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token-for-tests"}
            for _ in range(2):  # Telegram retrying the same update
                async with http.post(url, json=update, headers=good) as response:
                    assert response.status == 200
        await fake.wait_for(lambda: any(m.kind == "photo" for m in fake.messages(9801)))
        await asyncio.sleep(0.3)  # the queued copy is never polled
        assert [m.kind for m in fake.messages(9801)].count("photo") == 1
        customers = [c for c, _ in await app.shop.storage.spends(None)]
        assert len(customers) == 1
    finally:
        await runner.cleanup()
        await app.close()


async def test_harmless_telegram_errors_pass_quietly(
    app: Application, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.methods import EditMessageText

    user = fake.user(9901, "Quiet")
    await join(fake, user)

    async def not_modified(*_args: Any, **_kwargs: Any) -> Any:
        method = EditMessageText(text="x", chat_id=9901, message_id=1)
        raise TelegramBadRequest(method, "Bad Request: message is not modified")

    app.shop.storage.referral_stats = not_modified  # type: ignore[method-assign]
    before = len(fake.messages(9901))
    with caplog.at_level(logging.ERROR):
        fake.send_message(user, "/invite")
        fake.send_message(user, "/help")  # answered, so the /invite update was handled
        await fake.wait_for(lambda: len(fake.messages(9901)) > before)
        await fake.idle(quiet=0.3)
    assert not any("Sorry" in m.content for m in fake.messages(9901)[before:])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
