"""Buttons pressed where the bot does not expect them (what the fuzz test found): in a group
or a channel, on the card's photo, or again on a message that already shows the answer.
Each is one press through the real bot against the fake Bot API."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.app import Application
from tests.conftest import OWNER_ID, TEST_PROGRAM
from tests.fakeapi import ApiCall, SentMessage
from tests.fuzzing import FuzzTelegram
from tests.helpers import join
from tests.test_desk_e2e import book_purchase, customer_with_card, open_by_link

REPLIES = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption")
REPLIES += ("editMessageReplyMarkup",)


@pytest.fixture
async def fake() -> AsyncIterator[FuzzTelegram]:
    """The fake server that can also deliver presses from messages in groups and channels."""
    server = FuzzTelegram()
    await server.start()
    yield server
    await server.stop()


async def press(
    fake: FuzzTelegram, user: dict[str, Any], message: SentMessage, data: str
) -> list[ApiCall]:
    """Press a button and wait until the bot answered it; every call it made meanwhile."""
    start = len(fake.requests)
    query = fake.press(user, message, data)
    await answered(fake, query)
    return fake.requests[start:]


async def answered(fake: FuzzTelegram, query: str) -> ApiCall:
    call = await fake.wait_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    await fake.idle()
    return call


@pytest.mark.parametrize("chat_type", ["supergroup", "channel"])
@pytest.mark.parametrize("data", ["lang:ru", "set:phone", "forget:1", "hist:0"])
async def test_a_press_in_a_group_or_channel_only_stops_the_spinner(
    app: Application,
    fake: FuzzTelegram,
    caplog: pytest.LogCaptureFixture,
    chat_type: str,
    data: str,
) -> None:
    user = fake.user(7101, "Olena", language_code="en")
    await join(fake, user)
    group = {"id": -100_555, "type": chat_type, "title": "Shop fans"}
    message = {
        "message_id": 42,
        "chat": group,
        "date": 1_700_000_000,
        "from": fake.bot_user,
        "text": "Choose your language:",
    }
    start = len(fake.requests)
    with caplog.at_level(logging.ERROR):
        update = fake.press_anywhere(user, message, data)
        answer = await answered(fake, update["callback_query"]["id"])
    # Answered quietly: no alert, no "something went wrong".
    assert "text" not in answer.params, answer.params
    calls = fake.requests[start:]
    assert [c.method for c in calls if c.method != "getUpdates"] == ["answerCallbackQuery"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    customer = await app.shop.storage.customer_by_telegram(user["id"])
    assert customer is not None and customer.language == "en" and not customer.forgotten


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        ("lang:mk", "Готово"),  # the confirmation, in the new language
        ("set:promotions", "Settings"),  # the settings, with promotions switched
        ("hist:0", "History"),
    ],
)
async def test_a_text_answer_to_a_press_on_the_card_photo_comes_as_a_new_message(
    app: Application, fake: FuzzTelegram, caplog: pytest.LogCaptureFixture, data: str, expect: str
) -> None:
    user = fake.user(7102, "Petar", language_code="en")
    card = await join(fake, user)
    caption = card.content
    with caplog.at_level(logging.ERROR):
        calls = await press(fake, user, card, data)
    assert [c for c in calls if not c.ok] == []
    assert not [c for c in calls if c.method.startswith("edit")], "the card was edited"
    assert card.content == caption and card.edits == 0
    sent = [m for c in calls if c.method == "sendMessage" and (m := fake.sent(c))]
    assert len(sent) == 1 and expect.lower() in sent[0].content.lower(), [m.content for m in sent]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_replayed_language_press_edits_nothing(
    app: Application, fake: FuzzTelegram
) -> None:
    user = fake.user(7103, "Ivan", language_code="en")
    await join(fake, user)
    fake.send_message(user, "/language")
    chooser = await fake.next_message(user["id"])
    first = await press(fake, user, chooser, "lang:uk")
    assert [c.method for c in first if c.method in REPLIES] == ["editMessageText", "sendMessage"]
    assert chooser.edits == 1
    # The same button again, on the list as it now is: the list stays, the choice is told.
    again = await press(fake, user, chooser, "lang:uk")
    assert [c for c in again if not c.ok] == []
    assert [c.method for c in again if c.method in REPLIES] == ["sendMessage"]
    assert chooser.edits == 1


async def test_a_replayed_answer_to_forget_edits_nothing(
    app: Application, fake: FuzzTelegram
) -> None:
    user = fake.user(7104, "Mila", language_code="en")
    await join(fake, user)
    fake.send_message(user, "/forget")
    question = await fake.next_message(user["id"])
    first = await press(fake, user, question, "forget:0")
    assert [c.method for c in first if c.method in REPLIES] == [
        "editMessageReplyMarkup",
        "sendMessage",
    ]
    again = await press(fake, user, question, "forget:0")
    assert [c for c in again if not c.ok] == []
    assert [c.method for c in again if c.method in REPLIES] == ["sendMessage"]
    assert question.edits == 1


async def test_turning_promotions_twice_edits_the_settings_each_time(
    app: Application, fake: FuzzTelegram
) -> None:
    """The settings message is still edited when the press changes it."""
    user = fake.user(7105, "Dana", language_code="en")
    await join(fake, user)
    fake.send_message(user, "/settings")
    settings = await fake.next_message(user["id"])
    for expect in ("Promotions: off", "Promotions: on"):
        calls = await press(fake, user, settings, "set:promotions")
        assert [c.method for c in calls if c.method in REPLIES] == ["editMessageText"]
        assert expect in settings.content
    assert settings.edits == 2


async def test_a_donation_confirmed_from_the_card_photo_is_thanked_below_it(
    start_app: Callable[..., Any], fake: FuzzTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """The donation is booked whichever message the press came from; its thanks must then
    reach the customer, not fail on the photo with "something went wrong"."""
    app = await start_app(dataclasses.replace(TEST_PROGRAM, cause="the animal shelter"))
    user = fake.user(7106, "Sara", language_code="en")
    card = await join(fake, user)
    fake.send_message(user, "/give")
    await fake.next_message(user["id"])
    fake.send_message(user, "10")
    question = await fake.next_message(user["id"])
    caption = card.content
    with caplog.at_level(logging.ERROR):
        calls = await press(fake, user, card, question.callback("Yes"))
    assert [c for c in calls if not c.ok] == []
    assert card.content == caption and card.edits == 0
    sent = [m for c in calls if c.method == "sendMessage" and (m := fake.sent(c))]
    assert len(sent) == 1 and "Thank you" in sent[0].content, [m.content for m in sent]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    customer = await app.shop.storage.customer_by_telegram(user["id"])
    assert customer is not None and customer.balance == TEST_PROGRAM.welcome_bonus - 10


async def test_a_purchase_confirmed_from_the_card_photo_is_told_below_it(
    app: Application, fake: FuzzTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """The owner at the till presses a draft's Confirm as it reached them on their own card's
    photo: the purchase is booked once, and what was booked is told in a new message."""
    owner = fake.user(OWNER_ID, "Olga", language_code="en")
    fake.send_message(owner, "/card")
    card = await fake.next_message(OWNER_ID)
    assert card.kind == "photo"
    _, customer, _ = await customer_with_card(app, fake, 3012)
    await open_by_link(fake, owner, customer.card_payload)
    confirmation = await book_purchase(fake, owner, "10")
    caption = card.content
    with caplog.at_level(logging.ERROR):
        calls = await press(fake, owner, card, confirmation.callback("Confirm"))
    assert [c for c in calls if not c.ok] == []
    assert card.content == caption and card.edits == 0
    told = [m for c in calls if c.method == "sendMessage" and (m := fake.sent(c))]
    assert [m.chat_id for m in told] == [OWNER_ID, customer.telegram_id]
    assert "Booked" in told[0].content, told[0].content
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    booked = await app.shop.storage.customer(customer.id)
    assert booked is not None and booked.balance > customer.balance
