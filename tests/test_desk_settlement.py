"""What the desk tells both chats is what the ledger holds: confirming races cancelling and
expiry, limits hold across drafts opened side by side, refunds and undos take back only
what is left, each button settles only its own kind, and every message is edited once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Application
from bot.domain import desk
from bot.domain.clock import utcnow
from bot.shop import Shop
from storage import EntryKind, NothingToReverse, PendingStatus
from tests.conftest import TEST_PROGRAM
from tests.fakeapi import FakeTelegram, SentMessage
from tests.test_desk_e2e import (
    CASHIER_ID,
    book_purchase,
    customer_with_card,
    hire_cashier,
    open_by_link,
)

REDEEM_BUTTON = frozenset({EntryKind.REDEEM})


@pytest.fixture
async def shop_app(start_app: Any, fake: FakeTelegram) -> Application:
    """The bot with one customer (Telegram id 5005) holding the 50-point welcome bonus."""
    app: Application = await start_app()
    await customer_with_card(app, fake, 5005)
    return app


class SlowWriter:
    """Holds every write transaction open a while on the writer's thread (a busy writer: a
    backup, a large outbox fill), so a press arriving meanwhile waits inside the race."""

    def __init__(self, shop: Shop, seconds: float) -> None:
        self.storage: Any = shop.storage
        self.seconds = seconds
        self.on = False
        self._write = self.storage._write
        self.storage._write = self.write

    async def write(self, body: Any) -> Any:
        def slowed(db: Any) -> Any:
            if self.on:
                time.sleep(self.seconds)
            return body(db)

        return await self._write(slowed)


async def request_spending(
    fake: FakeTelegram, cashier: dict, customer_chat: int, payload: str, amount: int
) -> tuple[SentMessage, SentMessage]:
    """The cashier asks the customer to spend `amount` points on a 100.00 bill."""
    view = await open_by_link(fake, cashier, payload)
    fake.press(cashier, view, view.callback("Spend"))
    await fake.next_message(CASHIER_ID)
    fake.send_message(cashier, "100")
    await fake.next_message(CASHIER_ID)
    fake.send_message(cashier, str(amount))
    waiting = await fake.next_message(CASHIER_ID)
    request = await fake.next_message(customer_chat)
    return request, waiting


async def test_confirm_racing_cancel_ends_one_way_in_both_chats(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 5001)
    await app.shop.storage.book(customer.id, EntryKind.PURCHASE, 950, "seed", bill_minor=95000)
    slow = SlowWriter(app.shop, 0.05)
    booked_rounds = 0
    for _round in range(12):
        request, waiting = await request_spending(fake, cashier, 5001, customer.card_payload, 10)
        operation_id = request.callback("Yes").split(":")[1]
        slow.on = True
        yes = fake.press(ann, request, request.callback("Yes"))
        cancel = fake.press(cashier, waiting, waiting.callback("Cancel"))
        await fake.wait_for(lambda y=yes, c=cancel: {y, c} <= fake.callback_answers.keys())
        await fake.idle(quiet=0.3)
        slow.on = False
        entry = await app.shop.storage.entry_by_operation(operation_id)
        pending = await app.shop.storage.pending(operation_id)
        assert pending is not None
        if entry is not None:
            booked_rounds += 1
            assert pending.status is PendingStatus.CONFIRMED
            assert "You spent 10 points" in request.content, request.content
            assert "confirmed" in waiting.content, waiting.content
        else:
            assert pending.status is PendingStatus.CANCELLED
            assert "not spent" in request.content, request.content
            assert "Nothing was booked" in waiting.content, waiting.content
    balance = (await app.shop.storage.customer(customer.id)).balance  # type: ignore[union-attr]
    assert balance == 1000 - 10 * booked_rounds
    assert not [call for call in fake.requests if call.status == 400]


async def test_expiry_is_decided_in_the_booking_transaction(
    app: Application, fake: FakeTelegram
) -> None:
    """A Yes pressed in the last moment, whose booking runs only after the request expired
    (the writer was busy), books nothing, and the expiry tells both chats once."""
    _ann, customer, _ = await customer_with_card(app, fake, 5002)
    shop = app.shop
    operation = await desk.draft_redeem(shop.context, customer, CASHIER_ID, 20, None)
    await shop.storage.create_pending(
        replace(operation, id=operation.id + "x", expires_at=utcnow() + timedelta(seconds=0.1))
    )
    slow = SlowWriter(shop, 0.2)
    slow.on = True
    pressed = asyncio.create_task(
        desk.confirm(shop.context, operation.id + "x", customer.telegram_id, REDEEM_BUTTON)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0)  # the press is in before the request expires
    result = await pressed
    slow.on = False
    assert result.outcome is desk.Outcome.EXPIRED
    assert await shop.storage.entry_by_operation(operation.id + "x") is None
    stored = await shop.storage.pending(operation.id + "x")
    assert stored is not None and stored.status is PendingStatus.EXPIRED
    assert (await shop.storage.customer(customer.id)).balance == 50  # type: ignore[union-attr]


async def test_drafts_opened_side_by_side_share_the_daily_cap(
    start_app: Any, fake: FakeTelegram
) -> None:
    app: Application = await start_app(replace(TEST_PROGRAM, daily_cap=15))
    cashier = await hire_cashier(fake)
    _, customer, _ = await customer_with_card(app, fake, 5003)
    await open_by_link(fake, cashier, customer.card_payload)
    first = await book_purchase(fake, cashier, "10")
    second = await book_purchase(fake, cashier, "10")
    assert "+10 points" in first.content and "+10 points" in second.content
    fake.press(cashier, first, first.callback("Confirm"))
    assert "+10 points" in (await fake.next_message(5003)).content
    fake.press(cashier, second, second.callback("Confirm"))
    receipt = await fake.next_message(5003)
    assert "+5 points" in receipt.content and "65 points" in receipt.content, receipt.content
    await fake.wait_for(lambda: "Booked" in second.content)
    assert "+5 points" in second.content, second.content
    purchases = [
        e.amount
        for e in await app.shop.storage.history(customer.id, 10)
        if e.kind is EntryKind.PURCHASE
    ]
    assert sorted(purchases) == [5, 10]


async def test_cooldown_holds_across_drafts(start_app: Any, fake: FakeTelegram) -> None:
    app: Application = await start_app(replace(TEST_PROGRAM, visit_cooldown=timedelta(hours=1)))
    cashier = await hire_cashier(fake)
    _, customer, _ = await customer_with_card(app, fake, 5004)
    await open_by_link(fake, cashier, customer.card_payload)
    first = await book_purchase(fake, cashier, "10")
    second = await book_purchase(fake, cashier, "20")
    fake.press(cashier, first, first.callback("Confirm"))
    await fake.next_message(5004)
    fake.press(cashier, second, second.callback("Confirm"))
    receipt = await fake.next_message(5004)
    assert "+0 points" in receipt.content and "60 points" in receipt.content, receipt.content


async def test_refund_after_expiry_takes_nothing_twice(shop_app: Application) -> None:
    storage = shop_app.shop.storage
    customer = await storage.customer_by_telegram(5005)
    assert customer is not None
    past = utcnow() - timedelta(days=1)
    bought = await storage.book(
        customer.id, EntryKind.PURCHASE, 100, "buy-1", bill_minor=10000, expires_at=past
    )
    await storage.book(customer.id, EntryKind.PURCHASE, 200, "buy-2", bill_minor=20000)
    expired = await storage.expire_due(utcnow())
    assert [b.entry.amount for b in expired] == [-100]
    refund = await storage.reverse(
        bought.entry.id, None, "refund-1", CASHIER_ID, desk.reversal_points
    )
    assert (refund.entry.amount, refund.entry.shortfall) == (0, 100)
    assert refund.balance == 250  # the welcome bonus and the second purchase stay whole
    assert await storage.lot_mismatches() == []


async def test_undone_redemption_leaves_the_list_and_cannot_be_undone_again(
    shop_app: Application,
) -> None:
    storage = shop_app.shop.storage
    customer = await storage.customer_by_telegram(5005)
    assert customer is not None
    spent = await storage.book(customer.id, EntryKind.REDEEM, -30, "r-1", bill_minor=1000)
    await storage.reverse(spent.entry.id, None, "undo-1", CASHIER_ID, desk.reversal_points)
    try:
        again = await storage.reverse(
            spent.entry.id, None, "undo-2", CASHIER_ID, desk.reversal_points
        )
    except NothingToReverse:
        again = None
    assert again is None
    refunds = [e for e in await storage.history(customer.id, 10) if e.kind is EntryKind.REFUND]
    assert [e.amount for e in refunds] == [30]
    operation = await storage.operation(spent.entry.id)
    assert operation is not None and not operation.reversible  # so it is not listed either


async def test_no_booking_on_ones_own_card(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    # The cashier is a customer too.
    fake.send_message(cashier, "/start")
    for _ in range(3):
        await fake.next_message(CASHIER_ID)
    own = await app.shop.storage.customer_by_telegram(CASHIER_ID)
    assert own is not None
    await app.shop.storage.set_phone(own.id, "+380501112233")
    for typed in (own.card_number, "+380 50 111 22 33"):
        fake.send_message(cashier, typed)
        reply = await fake.next_message(CASHIER_ID)
        assert "your own card" in reply.content, (typed, reply.content)
        fake.send_message(cashier, "10")  # no customer is open: no purchase is drafted
        assert "Confirm?" not in (await fake.next_message(CASHIER_ID)).content
    # A draft on one's own card (say, from before this rule) cannot be confirmed.
    draft, _ = await desk.draft_purchase(app.shop.context, own, CASHIER_ID, 1000)
    result = await desk.confirm(app.shop.context, draft.id, CASHIER_ID, desk.STAFF_BUTTON)
    assert result.outcome is desk.Outcome.FORBIDDEN
    assert await app.shop.storage.entry_by_operation(draft.id) is None


async def test_a_redemption_is_confirmed_only_by_its_own_button(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 5006)
    request, waiting = await request_spending(fake, cashier, 5006, customer.card_payload, 20)
    operation_id = request.callback("Yes").split(":")[1]
    forged = fake.press(ann, request, f"give:{operation_id}:1")  # the donation's Yes
    await fake.wait_for(lambda: forged in fake.callback_answers)
    assert await app.shop.storage.entry_by_operation(operation_id) is None
    assert "Waiting" in waiting.content
    fake.press(ann, request, request.callback("Yes"))
    await fake.wait_for(lambda: "confirmed" in waiting.content)
    assert (await app.shop.storage.customer(customer.id)).balance == 30  # type: ignore[union-attr]


async def test_a_quick_yes_edits_each_message_once(app: Application, fake: FakeTelegram) -> None:
    """The customer answers while the cashier's message is still on its way (a slow link):
    each message is edited once, and Telegram never answers 400 "not modified"."""
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 5007)
    fake.delay("sendMessage", lambda p: "Waiting" in str(p.get("text", "")), 0.5)
    start = len(fake.requests)
    view = await open_by_link(fake, cashier, customer.card_payload)
    fake.press(cashier, view, view.callback("Spend"))
    await fake.next_message(CASHIER_ID)
    fake.send_message(cashier, "100")
    await fake.next_message(CASHIER_ID)
    fake.send_message(cashier, "20")
    request = await fake.next_message(5007)
    fake.press(ann, request, request.callback("Yes"))  # at once
    waiting = await fake.wait_for(
        lambda: next((m for m in fake.messages(CASHIER_ID) if "Waiting" in m.raw["text"]), None)
    )
    await fake.wait_for(lambda: "confirmed" in waiting.content and "You spent" in request.content)
    await fake.idle(quiet=0.8)
    calls = fake.requests[start:]
    assert not [call for call in calls if call.status == 400], [c.description for c in calls]
    edits = [
        (call.params["chat_id"], call.params["message_id"])
        for call in calls
        if call.method == "editMessageText"
    ]
    assert sorted(edits) == sorted({(5007, request.message_id), (CASHIER_ID, waiting.message_id)})
    assert request.edits == 1 and waiting.edits == 1


async def test_expiry_tells_both_chats_once_and_a_late_yes_changes_nothing(
    app: Application, fake: FakeTelegram, monkeypatch: Any
) -> None:
    monkeypatch.setattr(desk, "CUSTOMER_CONFIRM_TTL", timedelta(seconds=0.2))
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 5008)
    request, waiting = await request_spending(fake, cashier, 5008, customer.card_payload, 20)
    yes = request.callback("Yes")
    await fake.wait_for(lambda: "did not answer" in waiting.content, timeout=5)
    late = fake.press(ann, request, yes)
    await fake.wait_for(lambda: late in fake.callback_answers)
    await fake.idle(quiet=0.3)
    assert request.edits == 1 and waiting.edits == 1
    assert not [call for call in fake.requests if call.status == 400]
