"""Referrals end to end: both sides paid once on the friend's first qualifying purchase,
nothing for self-referrals or existing customers, refunds take it back, the cap holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.app import Application
from storage import EntryKind, ReferralStatus
from tests.conftest import OWNER_ID, TEST_PROGRAM
from tests.fakeapi import FakeTelegram
from tests.helpers import join
from tests.test_desk_e2e import (
    CASHIER_ID,
    book_purchase,
    customer_with_card,
    hire_cashier,
    open_by_link,
)

Start = Callable[..., Any]


async def invitation(app: Application, fake: FakeTelegram, user: dict) -> tuple[str, str]:
    """The /invite page: (the personal link's payload, the page's text)."""
    fake.send_message(user, "/invite")
    page = await fake.next_message(user["id"])
    while "personal link" not in page.content:  # skip notices that arrived before it
        page = await fake.next_message(user["id"])
    link = next(word for word in page.content.split() if "?start=r_" in word)
    share = page.buttons()[0]["url"]
    assert share.startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2F")
    return link.split("start=")[1], page.content


async def join_via(fake: FakeTelegram, user_id: int, payload: str, name: str = "Ben") -> dict:
    friend = fake.user(user_id, name)
    fake.send_message(friend, f"/start {payload}")
    card = await fake.next_message(user_id)
    assert card.kind == "photo"
    welcome = await fake.next_message(user_id)
    assert "friend's invitation" in welcome.content, welcome.content
    await fake.next_message(user_id)  # phone question
    return friend


async def purchase(
    app: Application, fake: FakeTelegram, cashier: dict, payload: str, amount: str
) -> None:
    await open_by_link(fake, cashier, payload)
    confirmation = await book_purchase(fake, cashier, amount)
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.wait_for(lambda: "Booked" in confirmation.content)


def referral_entries(history: list) -> list[int]:  # type: ignore[type-arg]
    return [e.amount for e in history if e.kind is EntryKind.REFERRAL]


async def test_friend_first_purchase_pays_both_once(app: Application, fake: FakeTelegram) -> None:
    cashier = await hire_cashier(fake)
    ann, a, _ = await customer_with_card(app, fake, 5001)
    payload, page = await invitation(app, fake, ann)
    assert "Friends joined: 0" in page
    await join_via(fake, 5002, payload)
    b = await app.shop.storage.customer_by_telegram(5002)
    assert b is not None
    assert (await app.shop.storage.referral(b.id)).status is ReferralStatus.JOINED  # type: ignore[union-attr]

    # Joining pays nothing; a purchase below the minimum (10.00) qualifies nobody.
    await purchase(app, fake, cashier, b.card_payload, "9.99")
    assert referral_entries(await app.shop.storage.history(a.id, 50)) == []
    await purchase(app, fake, cashier, b.card_payload, "25")
    told = await fake.wait_for(
        lambda: next(
            (m for m in fake.messages(5001) if "made their first purchase" in m.content), None
        )
    )
    assert "Ben" in told.content and "+50 points" in told.content
    await fake.wait_for(lambda: any("invitation gift" in m.content for m in fake.messages(5002)))
    await purchase(app, fake, cashier, b.card_payload, "40")  # a second purchase: nothing more
    assert referral_entries(await app.shop.storage.history(a.id, 50)) == [50]
    assert referral_entries(await app.shop.storage.history(b.id, 50)) == [50]
    _, page = await invitation(app, fake, ann)
    assert "Friends joined: 1" in page and "made a purchase: 1" in page and "earned: 50" in page


async def test_own_link_and_existing_customers_pay_nothing(
    app: Application, fake: FakeTelegram
) -> None:
    ann, a, _ = await customer_with_card(app, fake, 5011)
    payload, _ = await invitation(app, fake, ann)
    fake.send_message(ann, f"/start {payload}")
    assert "your own invitation link" in (await fake.next_message(5011)).content
    carl = fake.user(5012, "Carl")
    await join(fake, carl)
    fake.send_message(carl, f"/start {payload}")
    assert "changes nothing" in (await fake.next_message(5012)).content
    c = await app.shop.storage.customer_by_telegram(5012)
    assert c is not None and await app.shop.storage.referral(c.id) is None
    fake.send_message(fake.user(5013, "Dan"), "/start r_" + "x" * 22)
    await fake.next_message(5013)  # the card
    notes = [m.content for m in fake.messages(5013)]
    await fake.wait_for(lambda: len(fake.messages(5013)) >= 3)
    assert any("not valid any more" in m.content for m in fake.messages(5013)), notes
    assert (await app.shop.storage.referral_stats(a.id)).joined == 0


async def test_refund_of_the_qualifying_purchase_reverses_both(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    ann, a, _ = await customer_with_card(app, fake, 5021)
    payload, _ = await invitation(app, fake, ann)
    await join_via(fake, 5022, payload)
    b = await app.shop.storage.customer_by_telegram(5022)
    assert b is not None
    await purchase(app, fake, cashier, b.card_payload, "30")
    view = await open_by_link(fake, cashier, b.card_payload)
    fake.press(cashier, view, view.callback("Refund"))
    choices = await fake.next_message(CASHIER_ID)
    fake.press(cashier, choices, choices.buttons()[0]["callback_data"])
    await fake.next_message(CASHIER_ID)  # "type the refunded amount"
    fake.send_message(cashier, "25")  # 5.00 left: below the 10.00 minimum
    confirmation = await fake.next_message(CASHIER_ID)
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.wait_for(lambda: "Booked" in confirmation.content)
    await fake.wait_for(lambda: any("taken back" in m.content for m in fake.messages(5021)))
    referral = await app.shop.storage.referral(b.id)
    assert referral is not None and referral.status is ReferralStatus.REVERSED
    assert referral_entries(await app.shop.storage.history(a.id, 50)) == [-50, 50]
    assert sum(referral_entries(await app.shop.storage.history(b.id, 50))) == 0
    reversal = (await app.shop.storage.history(a.id, 1))[0]
    assert reversal.reverses_id is not None
    # Another purchase does not pay the referral again.
    await purchase(app, fake, cashier, b.card_payload, "50")
    assert referral_entries(await app.shop.storage.history(a.id, 50)) == [-50, 50]


async def test_monthly_cap_and_self_referral_by_phone(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app(replace(TEST_PROGRAM, referral_monthly_cap=1))
    cashier = await hire_cashier(fake)
    ann, a, _ = await customer_with_card(app, fake, 5031)
    payload, _ = await invitation(app, fake, ann)
    for user_id, name in ((5032, "Ben"), (5033, "Cat"), (5034, "Dee")):
        await join_via(fake, user_id, payload, name)
    ben, cat, dee = [await app.shop.storage.customer_by_telegram(i) for i in (5032, 5033, 5034)]
    await app.shop.storage.set_phone(a.id, "+380671112233")
    await app.shop.storage.set_phone(dee.id, "+380671112233")  # type: ignore[union-attr]
    for friend in (ben, cat, dee):
        await purchase(app, fake, cashier, friend.card_payload, "20")  # type: ignore[union-attr]
    statuses = [
        (await app.shop.storage.referral(f.id)).status  # type: ignore[union-attr]
        for f in (ben, cat, dee)
    ]
    assert statuses == [ReferralStatus.QUALIFIED, ReferralStatus.CAPPED, ReferralStatus.REJECTED]
    assert referral_entries(await app.shop.storage.history(a.id, 50)) == [50]
    await fake.wait_for(lambda: any("limit" in m.content for m in fake.messages(5031)))
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/referrals")
    report = await fake.next_message(OWNER_ID)
    assert (
        "Friends joined: 3" in report.content and "qualifying purchase: 1 (33%)" in report.content
    )
    assert "1 over the cap" in report.content
    assert "Cat ← Ann" in report.content and "monthly cap" in report.content
    assert "Dee ← Ann" in report.content and "same phone" in report.content


async def test_referrer_booking_their_friend_at_their_own_till_pays_nothing(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    # The cashier is also a customer who invites a friend, then books the friend's purchase.
    fake.send_message(cashier, "/invite")
    page = await fake.next_message(CASHIER_ID)
    payload = next(w for w in page.content.split() if "?start=r_" in w).split("start=")[1]
    await join_via(fake, 5042, payload)
    friend = await app.shop.storage.customer_by_telegram(5042)
    assert friend is not None
    await purchase(app, fake, cashier, friend.card_payload, "50")
    referral = await app.shop.storage.referral(friend.id)
    assert referral is not None and referral.status is ReferralStatus.REJECTED
    assert referral.reason == "own_till"
    assert referral_entries(await app.shop.storage.history(friend.id, 50)) == []


async def test_newcomer_scanning_a_card_joins_as_that_customers_friend(
    app: Application, fake: FakeTelegram
) -> None:
    _ann, a, _ = await customer_with_card(app, fake, 5051)
    newcomer = fake.user(5052, "Eve")
    fake.send_message(newcomer, f"/start {a.card_payload}")
    await fake.wait_for(lambda: len(fake.messages(5052)) >= 4)  # note, card, welcome, phone
    sent = fake.messages(5052)
    assert [m.kind for m in sent].count("photo") == 1
    assert any("another customer's card" in m.content for m in sent)
    assert any("friend's invitation" in m.content for m in sent)
    eve = await app.shop.storage.customer_by_telegram(5052)
    referral = await app.shop.storage.referral(eve.id)  # type: ignore[union-attr]
    assert referral is not None and referral.referrer_id == a.id and referral.source == "card"


async def test_card_has_an_invite_button(app: Application, fake: FakeTelegram) -> None:
    ann, _, _ = await customer_with_card(app, fake, 5061)
    fake.send_message(ann, "/card")
    card = await fake.next_message(5061)
    fake.press(ann, card, card.callback("Invite friends"))
    page = await fake.next_message(5061)
    assert "Your personal link" in page.content and "?start=r_" in page.content


async def test_coming_back_after_forget_me_pays_no_second_bonus(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    ann, a, _ = await customer_with_card(app, fake, 5071)
    payload, _ = await invitation(app, fake, ann)
    await join_via(fake, 5072, payload)
    first = await app.shop.storage.customer_by_telegram(5072)
    assert first is not None and first.balance == 50  # the welcome bonus
    await purchase(app, fake, cashier, first.card_payload, "20")
    await app.shop.storage.forget_customer(first.id)
    # The same person opens the same link again: a new card, but no welcome or referral.
    ben = fake.user(5072, "Ben")
    fake.send_message(ben, f"/start {payload}")
    await fake.wait_for(lambda: any(m.kind == "photo" for m in fake.messages(5072)[-3:]))
    again = await app.shop.storage.customer_by_telegram(5072)
    assert again is not None and again.id != first.id and again.balance == 0
    assert await app.shop.storage.referral(again.id) is None
    await purchase(app, fake, cashier, again.card_payload, "20")
    assert referral_entries(await app.shop.storage.history(a.id, 50)) == [50]


async def test_no_referral_program_when_both_bonuses_are_zero(
    start_app: Start, fake: FakeTelegram
) -> None:
    app: Application = await start_app(
        replace(TEST_PROGRAM, referral_bonus=0, referral_friend_bonus=0)
    )
    ann, _, _ = await customer_with_card(app, fake, 5081)
    fake.send_message(ann, "/invite")
    assert "no referral program" in (await fake.next_message(5081)).content
