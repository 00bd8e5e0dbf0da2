"""The cashier's desk end to end: invites, the four ways to find a card, booking exactly once."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from bot.app import Application
from storage import EntryKind
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram, SentMessage
from tests.helpers import join

CASHIER_ID = 2000


async def hire_cashier(fake: FakeTelegram, user_id: int = CASHIER_ID) -> dict:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/staff")
    overview = await fake.next_message(OWNER_ID)
    fake.press(owner, overview, overview.callback("Invite"))
    invite = await fake.next_message(OWNER_ID)
    link = invite.content.split()[-1]
    assert link.startswith(f"https://t.me/{fake.bot_username}?start=s_")
    cashier = fake.user(user_id, "Carl")
    fake.send_message(cashier, "/start " + link.split("start=")[1])
    assert "cashier" in (await fake.next_message(user_id)).content
    assert "Carl joined" in (await fake.next_message(OWNER_ID)).content
    return cashier


async def customer_with_card(app: Application, fake: FakeTelegram, user_id: int, **kw):  # type: ignore[no-untyped-def]
    user = fake.user(user_id, kw.pop("name", "Ann"), **kw)
    card = await join(fake, user)
    customer = await app.shop.storage.customer_by_telegram(user_id)
    assert customer is not None
    return user, customer, card


async def open_by_link(fake: FakeTelegram, cashier: dict, payload: str) -> SentMessage:
    fake.send_message(cashier, f"/start {payload}")
    view = await fake.next_message(cashier["id"])
    assert "Type the purchase amount" in view.content, view.content
    return view


async def book_purchase(fake: FakeTelegram, cashier: dict, amount: str) -> SentMessage:
    fake.send_message(cashier, amount)
    confirmation = await fake.next_message(cashier["id"])
    assert "Confirm?" in confirmation.content, confirmation.content
    return confirmation


async def ask_to_spend_all(
    fake: FakeTelegram, cashier: dict, customer_chat: int, payload: str
) -> tuple[SentMessage, SentMessage]:
    """Open the card, spend every point on a 100.00 bill; (customer's request, cashier's wait)."""
    view = await open_by_link(fake, cashier, payload)
    fake.press(cashier, view, view.callback("Spend"))
    await fake.next_message(cashier["id"])
    fake.send_message(cashier, "100")
    ask = await fake.next_message(cashier["id"])
    fake.press(cashier, ask, ask.callback("Spend 50"))
    request = await fake.next_message(customer_chat)
    waiting = await fake.next_message(cashier["id"])
    return request, waiting


async def test_scan_purchase_receipt_and_double_tap(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 3001)
    view = await open_by_link(fake, cashier, customer.card_payload)
    assert "Ann" in view.content and "50 points" in view.content
    confirmation = await book_purchase(fake, cashier, "12,50")
    assert "12.50" in confirmation.content and "+12 points" in confirmation.content
    data = confirmation.callback("Confirm")
    first = fake.press(cashier, confirmation, data)
    second = fake.press(cashier, confirmation, data)  # a double tap
    receipt = await fake.next_message(3001)
    assert "+12 points" in receipt.content and "62 points" in receipt.content
    assert "Corner <Café> & Co" in receipt.content
    await fake.wait_for(lambda: first in fake.callback_answers and second in fake.callback_answers)
    answers = {fake.callback_answers[first].get("text"), fake.callback_answers[second].get("text")}
    assert any("Already done" in (text or "") for text in answers)
    entries = [
        e for e in await app.shop.storage.history(customer.id, 10) if e.kind is EntryKind.PURCHASE
    ]
    assert (
        len(entries) == 1 and entries[0].bill_minor == 1250 and entries[0].operator_id == CASHIER_ID
    )
    assert "Booked" in fake.messages(CASHIER_ID)[-1].content
    # A replay long after changes nothing either.
    replay = fake.press(cashier, confirmation, data)
    await fake.wait_for(lambda: replay in fake.callback_answers)
    assert (await app.shop.storage.customer(customer.id)).balance == 62  # type: ignore[union-attr]


async def test_amount_typed_right_after_scan_and_bad_amounts(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    _, customer, _ = await customer_with_card(app, fake, 3002)
    await open_by_link(fake, cashier, customer.card_payload)
    bad = {
        "-5": "like 12.50",
        "abc": "like 12.50",
        "1e3": "like 12.50",
        "nan": "like 12.50",
        "inf": "like 12.50",
        "12.345": "two digits",
        "0": "more than zero",
        "0.00": "more than zero",
        "١٢": "like 12.50",
        "100000.01": "limit",
    }
    for text, hint in bad.items():
        fake.send_message(cashier, text)
        reply = await fake.next_message(CASHIER_ID)
        assert hint in reply.content, (text, reply.content)
    assert await app.shop.storage.count_entries(customer.id) == 1  # only the welcome bonus
    confirmation = await book_purchase(fake, cashier, "1 250")
    assert "1,250.00" in confirmation.content and "+1,250 points" in confirmation.content
    fake.press(cashier, confirmation, confirmation.callback("Cancel"))
    await fake.wait_for(lambda: "Cancelled" in fake.messages(CASHIER_ID)[-1].content)
    assert await app.shop.storage.count_entries(customer.id) == 1
    # Confirming after cancelling books nothing.
    late = fake.press(
        cashier,
        confirmation,
        confirmation.callback("Confirm") if confirmation.buttons() else "op:x:1",
    )
    await fake.wait_for(lambda: late in fake.callback_answers)
    assert await app.shop.storage.count_entries(customer.id) == 1


@pytest.mark.parametrize("variant", ["plain", "rotated", "small"])
async def test_photo_of_the_card_opens_the_customer(
    app: Application, fake: FakeTelegram, variant: str
) -> None:
    cashier = await hire_cashier(fake)
    _, _customer, card = await customer_with_card(app, fake, 3003, name="Bea")
    image = Image.open(BytesIO(card.file_bytes or b""))
    if variant == "rotated":
        image = image.rotate(90, expand=True)
    elif variant == "small":
        image = image.resize((image.width // 2, image.height // 2))
    out = BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    fake.send_photo(cashier, out.getvalue())
    view = await fake.next_message(CASHIER_ID)
    assert "Bea" in view.content and "Type the purchase amount" in view.content


async def test_unreadable_photo_gets_tips(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    blank = BytesIO()
    Image.new("RGB", (400, 300), "white").save(blank, format="PNG")
    fake.send_photo(cashier, blank.getvalue())
    assert "Tips" in (await fake.next_message(CASHIER_ID)).content


async def test_card_number_and_phone_typed(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    _user, customer, _ = await customer_with_card(app, fake, 3004, name="Cleo")
    fake.send_message(cashier, f"{customer.card_number[:4]} {customer.card_number[4:]}")
    assert "Cleo" in (await fake.next_message(CASHIER_ID)).content
    await app.shop.storage.set_phone(customer.id, "+380671234567")
    for typed in ("+380 67 123 45 67", "067 123 45 67"):
        fake.send_message(cashier, typed)
        view = await fake.next_message(CASHIER_ID)
        assert "Cleo" in view.content, typed
        # The phone is masked for cashiers. (Not "1234" absent: the random card number on
        # the same view may contain it.) No other nine-digit run is ever shown.
        assert "+38067•••••67" in view.content
        assert "671234567" not in view.content.replace(" ", "")
    fake.send_message(cashier, "+44 20 7946 0000")
    assert "No customer" in (await fake.next_message(CASHIER_ID)).content
    wrong = customer.card_number[:-1] + str((int(customer.card_number[-1]) + 1) % 10)
    fake.send_message(cashier, wrong)
    reply = await fake.next_message(CASHIER_ID)
    assert "Cleo" not in reply.content


async def test_redeem_needs_the_customer(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 3005)
    await app.shop.storage.book(customer.id, EntryKind.PURCHASE, 250, "seed-1", bill_minor=25000)
    view = await open_by_link(fake, cashier, customer.card_payload)
    fake.press(cashier, view, view.callback("Spend"))
    assert "300 points" in (await fake.next_message(CASHIER_ID)).content
    fake.send_message(cashier, "40")  # bill 40.00: at most 50% = 20.00 = 400 points, balance 300
    ask = await fake.next_message(CASHIER_ID)
    assert "Up to 300 points" in ask.content
    fake.send_message(cashier, "301")
    assert "from 1 to 300" in (await fake.next_message(CASHIER_ID)).content
    fake.send_message(cashier, "200")
    request = await fake.next_message(3005)
    assert "200 points" in request.content and "10.00" in request.content
    waiting = await fake.next_message(CASHIER_ID)
    assert "Waiting" in waiting.content
    # The cashier cannot confirm for the customer, and nobody else can either.
    forged = fake.press(cashier, waiting, request.callback("Yes"))
    stranger = fake.user(3999, "Eve")
    fake.send_message(stranger, "/start")
    for _ in range(3):
        await fake.next_message(3999)
    forged2 = fake.press(stranger, fake.messages(3999)[-1], request.callback("Yes"))
    await fake.wait_for(
        lambda: forged in fake.callback_answers and forged2 in fake.callback_answers
    )
    assert (await app.shop.storage.customer(customer.id)).balance == 300  # type: ignore[union-attr]
    yes = request.callback("Yes")
    fake.press(ann, request, yes)
    fake.press(ann, request, yes)
    await fake.wait_for(lambda: "You spent" in fake.messages(3005)[-1].content)
    await fake.wait_for(lambda: "confirmed" in waiting.content)
    assert "10.00" in waiting.content and "100 points" in waiting.content
    entries = [
        e for e in await app.shop.storage.history(customer.id, 10) if e.kind is EntryKind.REDEEM
    ]
    assert [(e.amount, e.bill_minor) for e in entries] == [(-200, 4000)]


async def test_redeem_declined_books_nothing(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 3006)
    request, waiting = await ask_to_spend_all(fake, cashier, 3006, customer.card_payload)
    fake.press(ann, request, request.callback("No"))
    await fake.wait_for(lambda: "declined" in waiting.content)
    assert "not spent" in request.content
    assert (await app.shop.storage.customer(customer.id)).balance == 50  # type: ignore[union-attr]


async def test_refund_full_partial_and_shortfall(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 3007)
    await open_by_link(fake, cashier, customer.card_payload)
    confirmation = await book_purchase(fake, cashier, "100")
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.next_message(3007)  # receipt: 150 points
    # Partial refund of 25.00 of the 100.00 purchase takes back 25 points.
    view = await open_by_link(fake, cashier, customer.card_payload)
    fake.press(cashier, view, view.callback("Refund"))
    choices = await fake.next_message(CASHIER_ID)
    fake.press(cashier, choices, choices.callback("purchase"))
    prompt = await fake.next_message(CASHIER_ID)
    assert "100.00" in prompt.content
    fake.send_message(cashier, "150")
    assert "At most 100.00" in (await fake.next_message(CASHIER_ID)).content
    fake.send_message(cashier, "25")
    draft = await fake.next_message(CASHIER_ID)
    assert "25 points" in draft.content
    fake.press(cashier, draft, draft.callback("Confirm"))
    receipt = await fake.next_message(3007)
    assert "125 points" in receipt.content
    # The customer spends most points elsewhere; a full refund then cannot take back all 75.
    await app.shop.storage.book(customer.id, EntryKind.REDEEM, -100, "spent-1")
    view = await open_by_link(fake, cashier, customer.card_payload)
    fake.press(cashier, view, view.callback("Refund"))
    choices = await fake.next_message(CASHIER_ID)
    fake.press(cashier, choices, choices.callback("purchase"))
    prompt = await fake.next_message(CASHIER_ID)
    assert "75.00" in prompt.content
    fake.press(cashier, prompt, prompt.callback("Refund"))
    draft = await fake.next_message(CASHIER_ID)
    assert "-25 points" in draft.content  # what is left of the purchase's points, not 75
    fake.press(cashier, draft, draft.callback("Confirm"))
    await fake.next_message(3007)
    booked = fake.messages(CASHIER_ID)[-1]
    assert "50 points had already been spent" in booked.content
    refreshed = await app.shop.storage.customer(customer.id)
    assert refreshed and refreshed.balance == 0
    refunds = [
        e for e in await app.shop.storage.history(customer.id, 20) if e.kind is EntryKind.REFUND
    ]
    assert sorted((e.amount, e.shortfall, e.bill_minor) for e in refunds) == [
        (-25, 0, 2500),
        (-25, 50, 7500),
    ]
    # Nothing left to refund: the purchase no longer appears, the second confirm does nothing.
    again = fake.press(cashier, draft, draft.callback("Confirm") if draft.buttons() else "op:zz:1")
    await fake.wait_for(lambda: again in fake.callback_answers)
    assert (await app.shop.storage.customer(customer.id)).balance == 0  # type: ignore[union-attr]


async def test_undo_a_redemption(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 3008)
    await app.shop.storage.book(
        customer.id, EntryKind.REDEEM, -30, "r-1", operator_id=CASHIER_ID, bill_minor=1000
    )
    view = await open_by_link(fake, cashier, customer.card_payload)
    fake.press(cashier, view, view.callback("Refund"))
    choices = await fake.next_message(CASHIER_ID)
    fake.press(cashier, choices, choices.callback("spent"))
    draft = await fake.next_message(CASHIER_ID)
    assert "30 points back" in draft.content
    fake.press(cashier, draft, draft.callback("Confirm"))
    assert "50 points" in (await fake.next_message(3008)).content


async def test_invite_is_single_use_and_expires(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/staff")
    overview = await fake.next_message(OWNER_ID)
    assert "Nobody yet" in overview.content
    fake.press(owner, overview, overview.callback("Invite"))
    link = (await fake.next_message(OWNER_ID)).content.split()[-1]
    payload = link.split("start=")[1]
    first, second = fake.user(2101, "Ivy"), fake.user(2102, "Jay")
    fake.send_message(first, f"/start {payload}")
    assert "now a cashier" in (await fake.next_message(2101)).content
    fake.send_message(second, f"/start {payload}")
    assert "already been used" in (await fake.next_message(2102)).content
    assert await app.shop.storage.staff_member(2102) is None
    from datetime import timedelta

    from bot.domain.clock import utcnow

    await app.shop.storage.create_invite("s_" + "E" * 22, OWNER_ID, utcnow() - timedelta(seconds=1))
    fake.send_message(second, "/start s_" + "E" * 22)
    assert "expired" in (await fake.next_message(2102)).content
    fake.send_message(second, "/start s_" + "U" * 22)
    assert "not valid" in (await fake.next_message(2102)).content


async def test_non_staff_cannot_act_and_revoked_cashier_loses_access(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    _ann, customer, _ = await customer_with_card(app, fake, 3009)
    mallory, _, _ = await customer_with_card(app, fake, 3010, name="Mal")
    # A customer opening someone's card link only sees their own card.
    fake.send_message(mallory, f"/start {customer.card_payload}")
    assert "another customer's card" in (await fake.next_message(3010)).content
    assert (await fake.next_message(3010)).kind == "photo"
    # Typing amounts, card numbers or /staff as a customer does nothing staff-like.
    for text in ("12.50", customer.card_number, "/staff", "/shift"):
        fake.send_message(mallory, text)
        reply = await fake.next_message(3010)
        assert "Confirm" not in reply.content and "Ann" not in reply.content, text
    # Forged desk and operation callbacks from a customer are refused.
    view = await open_by_link(fake, cashier, customer.card_payload)
    confirmation = await book_purchase(fake, cashier, "10")
    target = fake.messages(3010)[-1]
    for data in (
        view.callback("Purchase"),
        confirmation.callback("Confirm"),
        confirmation.callback("Cancel"),
    ):
        query = fake.press(mallory, target, data)
        await fake.wait_for(lambda q=query: q in fake.callback_answers)
    assert await app.shop.storage.count_entries(customer.id) == 1
    assert (
        await app.shop.storage.pending(confirmation.callback("Confirm").split(":")[1])
    ).status == "pending"  # type: ignore[union-attr]
    # The owner removes the cashier: the old confirmation button stops working for them.
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/staff")
    overview = await fake.next_message(OWNER_ID)
    fake.press(owner, overview, overview.callback("Carl"))
    await fake.wait_for(lambda: "Nobody yet" in overview.content)
    query = fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.wait_for(lambda: query in fake.callback_answers)
    assert await app.shop.storage.count_entries(customer.id) == 1


async def test_owner_can_book_and_shift_totals(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    _, customer, _ = await customer_with_card(app, fake, 3011)
    await open_by_link(fake, owner, customer.card_payload)
    for amount in ("10", "20.50"):
        confirmation = await book_purchase(fake, owner, amount)
        fake.press(owner, confirmation, confirmation.callback("Confirm"))
        await fake.next_message(3011)
    fake.send_message(owner, "/shift")
    shift = await fake.next_message(OWNER_ID)
    assert "Purchases: 2 for 30.50, 30 points" in shift.content


async def test_other_cashier_cannot_confirm_my_draft(app: Application, fake: FakeTelegram) -> None:
    first = await hire_cashier(fake, 2201)
    second = await hire_cashier(fake, 2202)
    _, customer, _ = await customer_with_card(app, fake, 3012)
    await open_by_link(fake, first, customer.card_payload)
    confirmation = await book_purchase(fake, first, "10")
    fake.send_message(second, "/start")
    for _ in range(3):
        await fake.next_message(2202)
    query = fake.press(second, fake.messages(2202)[-1], confirmation.callback("Confirm"))
    await fake.wait_for(lambda: query in fake.callback_answers)
    assert "not yours" in fake.callback_answers[query].get("text", "")
    assert await app.shop.storage.count_entries(customer.id) == 1


async def test_unanswered_spending_request_expires(
    app: Application, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from bot.domain import desk

    monkeypatch.setattr(desk, "CUSTOMER_CONFIRM_TTL", timedelta(seconds=1))
    cashier = await hire_cashier(fake)
    ann, customer, _ = await customer_with_card(app, fake, 3013)
    request, waiting = await ask_to_spend_all(fake, cashier, 3013, customer.card_payload)
    yes = request.callback("Yes")
    await fake.wait_for(lambda: "did not answer" in waiting.content, timeout=10)
    assert "expired" in request.content
    late = fake.press(ann, request, yes)
    await fake.wait_for(lambda: late in fake.callback_answers)
    assert "expired" in fake.callback_answers[late].get("text", "")
    assert (await app.shop.storage.customer(customer.id)).balance == 50  # type: ignore[union-attr]
