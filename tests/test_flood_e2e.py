"""Telegram's flood limit: a burst of new customers all get their card, exactly once, and a
429 on any call (an upload or a plain one) is waited out and tried again."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from io import BytesIO
from typing import Any

import pytest
from PIL import Image

from bot.services import delivery
from tests.fakeapi import FakeTelegram

Start = Callable[..., Any]
SORRY = "something went wrong"


def delivered(fake: FakeTelegram, method: str) -> Counter[int]:
    return Counter(
        int(call.params["chat_id"]) for call in fake.requests if call.method == method and call.ok
    )


def small_png() -> bytes:
    picture = BytesIO()
    Image.new("RGB", (64, 40), (30, 90, 160)).save(picture, format="PNG")
    return picture.getvalue()


async def test_forty_customers_at_once_each_get_their_card_once(
    start_app: Start,
    fake: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Drawing forty cards takes this shared test machine seconds, which would spread the
    # sends out by itself; a server with more cores draws them at once. A ready picture
    # keeps the burst a burst.
    png = small_png()
    monkeypatch.setattr(delivery, "render_card", lambda view, logo=None: png)
    await start_app()
    fake.limit_sends(30)
    users = [fake.user(20_000 + index, f"Guest {index}") for index in range(40)]
    chats = [user["id"] for user in users]
    with caplog.at_level(logging.ERROR):
        for user in users:  # a poster at the door: everyone within the same moment
            fake.send_message(user, "/start")
        # The card, the welcome and the phone question: three messages each.
        await fake.wait_for(
            lambda: all(len(fake.messages(chat)) >= 3 for chat in chats), timeout=60
        )
        await fake.idle(quiet=0.3, timeout=30)
    photos = delivered(fake, "sendPhoto")
    assert {chat: photos[chat] for chat in chats} == dict.fromkeys(chats, 1)
    texts = delivered(fake, "sendMessage")
    assert {chat: texts[chat] for chat in chats} == dict.fromkeys(chats, 2)
    assert not [m for chat in chats for m in fake.messages(chat) if SORRY in m.content]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # A message holds its place from its request until a second after its answer, so the
    # server (on the same clock) never saw one over the limit.
    assert [c for c in fake.requests if c.status == 429] == []
