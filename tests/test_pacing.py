"""The bot's one pace for messages, and retrying 429s, with a fake clock."""

from __future__ import annotations

import math
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.telegram.pacing import ATTEMPTS, RetryAfter, SendPacer, paced


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_place_is_held_from_the_request_until_a_window_after_its_answer() -> None:
    clock = Clock()
    pacer = SendPacer(limit=3, window=1.0, reserve=1, clock=clock)
    assert [pacer.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.take() == math.inf  # all three still in flight: wait for an answer
    clock.now = 100.5
    pacer.release()  # answered at 100.5: its place comes back at 101.5
    assert pacer.take() == pytest.approx(1.0)
    clock.now = 101.5
    assert pacer.take() == 0.0
    assert pacer.take() == math.inf


def test_promotions_leave_a_reserve_and_give_way_to_waiting_replies() -> None:
    clock = Clock()
    pacer = SendPacer(limit=3, window=1.0, reserve=1, clock=clock)
    assert pacer.take(is_background=True) == 0.0
    assert pacer.take(is_background=True) == 0.0
    assert pacer.take(is_background=True) > 0  # the last place is kept for replies
    assert pacer.take() == 0.0  # a reply takes it
    for _ in range(3):
        pacer.release()
    clock.now += 5  # every answer is out of the window
    pacer._waiting = 1  # a reply is waiting for a place
    assert pacer.take(is_background=True) > 0  # room now, but the reply goes first
    pacer._waiting = 0
    assert pacer.take(is_background=True) == 0.0


def test_a_429_pauses_every_message() -> None:
    clock = Clock()
    pacer = SendPacer(limit=30, clock=clock)
    pacer.pause(2)
    assert pacer.take() == pytest.approx(2.0)
    assert pacer.take(is_background=True) == pytest.approx(2.0)
    clock.now += 2
    assert pacer.take() == 0.0


def test_which_calls_count_as_messages() -> None:
    assert paced("sendMessage") and paced("sendPhoto") and paced("copyMessage")
    assert not paced("sendChatAction")
    assert not paced("answerCallbackQuery") and not paced("editMessageText")


@pytest.mark.parametrize(
    "method", [SendMessage(chat_id=1, text="hi"), AnswerCallbackQuery(callback_query_id="q")]
)
async def test_retries_through_429s_a_bounded_number_of_times(method: Any) -> None:
    pacer = SendPacer()
    calls: list[int] = []

    async def refused(bot: Any, sent: Any) -> Any:
        calls.append(1)
        raise TelegramRetryAfter(method=sent, message="Too Many Requests", retry_after=0)

    with pytest.raises(TelegramRetryAfter):
        await RetryAfter(pacer)(refused, None, method)  # type: ignore[arg-type]
    assert len(calls) == ATTEMPTS
    assert pacer.in_flight == 0  # every place taken was given back

    async def second_time_lucky(bot: Any, sent: Any) -> Any:
        calls.append(1)
        if len(calls) == ATTEMPTS + 1:
            raise TelegramRetryAfter(method=sent, message="Too Many Requests", retry_after=0)
        return "ok"

    assert await RetryAfter(pacer)(second_time_lucky, None, method) == "ok"  # type: ignore[arg-type]
    assert len(calls) == ATTEMPTS + 2
