"""Promotions re-check each recipient when it is claimed, and never send twice after a send
that got no answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.domain.clock import utcnow
from bot.domain.promotions import audience_filter
from storage import Audience, Segment, SQLiteStorage
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram
from tests.helpers import seed_customers

Start = Callable[..., Any]


def sends_to(fake: FakeTelegram, chat_ids: set[int]) -> list[int]:
    return [
        int(call.params["chat_id"])
        for call in fake.requests
        if call.method == "sendMessage" and int(call.params["chat_id"]) in chat_ids
    ]


async def outbox(database: str, broadcast_id: int) -> dict[int, tuple[str, str]]:
    store = await SQLiteStorage.open(database)
    try:
        rows = await store._reader.execute_fetchall(  # type: ignore[attr-defined]
            "SELECT c.telegram_id, c.id, o.status, o.error FROM outbox o "
            "JOIN customers c ON c.id = o.customer_id WHERE o.broadcast_id = ?",
            (broadcast_id,),
        )
    finally:
        await store.close()
    return {row[1]: (row[2], row[3]) for row in rows}


async def test_recipients_who_changed_their_mind_are_skipped(
    tmp_path: Path,
    start_app: Start,
    fake: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = str(tmp_path / "loyalty.db")
    # The outbox is filled (sending has begun) before the bot runs; then, as if while it
    # was sending, one customer turns promotions off, one is forgotten, one becomes
    # unreachable. The bot resumes the broadcast.
    store = await SQLiteStorage.open(database, audiences=audience_filter)
    ids = seed_customers(database, 6, 7000)
    created = await store.create_broadcast(
        OWNER_ID, "Sale, {name}!", None, None, Audience(Segment.EVERYONE), 0, utcnow()
    )
    started = await store.start_due_broadcast(utcnow() + timedelta(seconds=1))
    assert started is not None and started.id == created.id
    customer = {tid: (await store.customer_by_telegram(tid)).id for tid in ids}  # type: ignore[union-attr]
    await store.set_promotions(customer[7000], False)
    await store.forget_customer(customer[7001])
    await store.mark_unreachable(customer[7002])
    await store.close()

    for user_id in ids:
        fake.user(user_id, f"Guest {user_id}")
    fake.user(OWNER_ID, "Olga")
    with caplog.at_level(logging.ERROR):
        await start_app()
        report = await fake.wait_for(
            lambda: next((m for m in fake.messages(OWNER_ID) if "sent." in m.content), None)
        )
    assert sorted(sends_to(fake, set(ids))) == [7003, 7004, 7005]
    assert "Sent: 3 of 3" in report.content and "100%" in report.content
    assert "unreachable): 3" in report.content
    assert not [r for r in caplog.records if "broadcast loop failed" in r.getMessage()]
    rows = await outbox(database, created.id)
    assert rows[customer[7000]] == ("skipped", "promotions off")
    assert rows[customer[7001]] == ("skipped", "forgotten")
    assert rows[customer[7002]] == ("skipped", "unreachable")
    assert {rows[customer[t]][0] for t in (7003, 7004, 7005)} == {"sent"}


async def test_a_send_without_an_answer_is_unknown_and_never_retried(
    tmp_path: Path, start_app: Start, fake: FakeTelegram
) -> None:
    app: Application = await start_app()
    app.bot.session.timeout = 1  # seconds: the hung send below outlives it
    app.broadcaster.backoff = 0.05
    ids = seed_customers(app.shop.settings.database_path, 3, 7000)
    for user_id in ids:
        fake.user(user_id, f"Guest {user_id}")
    fake.user(OWNER_ID, "Olga")
    send = fake._m_send_message
    reached: list[int] = []

    async def slow_for_7001(params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        chat = int(params.get("chat_id", 0))
        if chat == 7001:
            reached.append(chat)
            result = await send(params, uploads)  # delivered, but the answer comes too late
            await asyncio.sleep(3)
            return result
        return await send(params, uploads)

    fake._m_send_message = slow_for_7001  # type: ignore[method-assign]
    created = await app.shop.storage.create_broadcast(
        OWNER_ID, "Sale, {name}!", None, None, Audience(Segment.EVERYONE), 0, utcnow()
    )
    app.broadcaster.wake()
    report = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "sent." in m.content), None),
        timeout=20,
    )
    assert reached == [7001]  # one attempt, no retry
    assert "not sent again: 1" in report.content and "Sent: 2 of 3" in report.content
    rows = await outbox(app.shop.settings.database_path, created.id)
    statuses = sorted(status for status, _error in rows.values())
    assert statuses == ["sent", "sent", "unknown"]
