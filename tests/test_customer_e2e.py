"""The customer's card end to end: the real bot, the fake Bot API, real HTTP in between."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from bot.app import Application
from storage import EntryKind
from tests.fakeapi import FakeTelegram
from tests.helpers import decode_qr, join


async def test_start_sends_card_with_qr_deep_link(app: Application, fake: FakeTelegram) -> None:
    ann = fake.user(501, "Ann", language_code="en")
    fake.send_message(ann, "/start")
    card = await fake.next_message(501)
    assert card.kind == "photo" and card.file_bytes
    customer = await app.shop.storage.customer_by_telegram(501)
    assert customer is not None
    link = f"https://t.me/{fake.bot_username}?start={customer.card_payload}"
    assert decode_qr(card.file_bytes) == [link]
    # The picture is a real PNG; the caption names the shop (escaped) and the card number.
    assert Image.open(BytesIO(card.file_bytes)).format == "PNG"
    assert "Corner <Café> & Co" in card.content
    assert f"{customer.card_number[:4]} {customer.card_number[4:]}" in card.content
    assert "50 points" in card.content  # the test program's welcome bonus
    welcome = await fake.next_message(501)
    assert "Welcome" in welcome.content and "50 points" in welcome.content
    entries = await app.shop.storage.history(customer.id, 10)
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.WELCOME, 50)]


async def test_qr_survives_downscale_and_rotation(app: Application, fake: FakeTelegram) -> None:
    card = await join(fake, fake.user(502, "Bo"))
    image = Image.open(BytesIO(card.file_bytes or b""))
    for variant in (
        image.resize((image.width // 2, image.height // 2)),
        image.rotate(90, expand=True),
        image.resize((image.width // 2, image.height // 2)).rotate(270, expand=True),
    ):
        out = BytesIO()
        variant.save(out, format="PNG")
        assert decode_qr(out.getvalue()) and decode_qr(out.getvalue())[0].startswith(
            f"https://t.me/{fake.bot_username}?start=c_"
        )


async def test_card_again_reuses_file_id(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(503, "Cy")
    first = await join(fake, user)
    uploads_before = sum(1 for call in fake.requests if call.method == "sendPhoto" and call.files)
    fake.send_message(user, "/card")
    again = await fake.next_message(503)
    uploads_after = sum(1 for call in fake.requests if call.method == "sendPhoto" and call.files)
    assert again.kind == "photo" and again.file_id == first.file_id
    assert uploads_after == uploads_before  # sent by file_id, not uploaded again


async def test_card_redrawn_when_language_changes(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(504, "Di")
    first = await join(fake, user)
    fake.send_message(user, "/language")
    menu = await fake.next_message(504)
    fake.press(user, menu, menu.callback("Українська"))
    await fake.next_message(504)  # "done" in Ukrainian
    fake.send_message(user, "/card")
    again = await fake.next_message(504)
    assert again.file_id != first.file_id
    assert "Номер картки" in again.content


async def test_unknown_language_code_falls_back_to_default(
    app: Application, fake: FakeTelegram
) -> None:
    user = fake.user(505, "Eve", language_code="de")
    fake.send_message(user, "/start")
    card = await fake.next_message(505)
    assert "loyalty card" in card.content


async def test_replies_follow_telegram_language(app: Application, fake: FakeTelegram) -> None:
    expectations = {"uk": "Баланс", "ru": "Баланс", "mk": "Салдо", "th": "คะแนน"}
    for offset, (code, word) in enumerate(expectations.items()):
        user = fake.user(600 + offset, "Zed", language_code=code)
        fake.send_message(user, "/start")
        card = await fake.next_message(user["id"])
        assert word in card.content, (code, card.content)


async def test_saved_language_wins_over_telegram(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(506, "Fay", language_code="en")
    await join(fake, user)
    fake.send_message(user, "/language")
    menu = await fake.next_message(506)
    fake.press(user, menu, menu.callback("ไทย"))
    edited = await fake.wait_for(lambda: "ภาษา" in fake.messages(506)[-2].content)
    assert edited
    await fake.next_message(506)
    fake.send_message(user, "/balance")
    reply = await fake.next_message(506)
    assert "คะแนน" in reply.content


async def test_balance_and_history(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(507, "Gus")
    await join(fake, user)
    customer = await app.shop.storage.customer_by_telegram(507)
    assert customer
    for index in range(20):
        await app.shop.storage.book(
            customer.id, EntryKind.PURCHASE, 10, f"op-{index}", bill_minor=1000 + index
        )
    fake.send_message(user, "/balance")
    assert "250 points" in (await fake.next_message(507)).content
    fake.send_message(user, "/history")
    page = await fake.next_message(507)
    assert "page 1 of 3" in page.content and "+10" in page.content
    assert "10.19" in page.content  # the newest bill first
    fake.press(user, page, page.callback("Older"))
    await fake.wait_for(lambda: "page 2 of 3" in fake.messages(507)[-1].content)
    # A forged page number is clamped to the last page, never an error.
    fake.press(user, fake.messages(507)[-1], "hist:999")
    await fake.wait_for(lambda: "page 3 of 3" in fake.messages(507)[-1].content)
    assert "Welcome bonus" in fake.messages(507)[-1].content


async def test_menu_buttons_work_in_any_language(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(508, "Hal", language_code="ru")
    await join(fake, user)
    # An English keyboard left over from before a language change still works.
    fake.send_message(user, "⭐ Balance")
    assert "50" in (await fake.next_message(508)).content


async def test_own_contact_saved_foreign_refused(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(509, "Ida")
    fake.send_message(user, "/start")
    for _ in range(3):
        await fake.next_message(509)
    fake.send_contact(user, "+1 555 000 1111", contact_user_id=999)
    refusal = await fake.next_message(509)
    assert "someone else" in refusal.content
    customer = await app.shop.storage.customer_by_telegram(509)
    assert customer and customer.phone is None
    fake.send_contact(user, "380671234567", contact_user_id=509)
    assert "saved" in (await fake.next_message(509)).content
    assert "birthday" in (await fake.next_message(509)).content
    customer = await app.shop.storage.customer_by_telegram(509)
    assert customer and customer.phone == "+380671234567"


async def test_birthday_strict_parsing(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(510, "Jo")
    fake.send_message(user, "/start")
    for _ in range(3):
        await fake.next_message(510)
    fake.send_message(user, fake.current_reply_keyboard(510)[-1]["text"])  # type: ignore[index]
    await fake.next_message(510)  # birthday question
    for bad, hint in (
        ("yesterday", "day.month.year"),
        ("31.02.1990", "no such day"),
        ("29.02.2001", "no such day"),
        ("01.01.2999", "future"),
        ("01.01.1800", "too long ago"),
        ("\u0661\u0662.\u0660\u0661.\u0661\u0669\u0669\u0660", "day.month.year"),
    ):
        fake.send_message(user, bad)
        assert hint in (await fake.next_message(510)).content, bad
    customer = await app.shop.storage.customer_by_telegram(510)
    assert customer and customer.birthday is None
    fake.send_message(user, "29.02.2000")
    saved = await fake.next_message(510)
    assert "February 29, 2000" in saved.content
    customer = await app.shop.storage.customer_by_telegram(510)
    assert customer and str(customer.birthday) == "2000-02-29"
    assert "All set" in (await fake.next_message(510)).content


async def test_html_in_names_is_escaped(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(511, "<b>&Co", last_name="</i>")
    card = await join(fake, user)
    assert card.kind == "photo"
    fake.send_message(user, "/settings")
    settings = await fake.next_message(511)
    assert "Settings" in settings.content
    failures = [call for call in fake.requests if call.status == 400]
    assert failures == []


async def test_promotions_toggle(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(512, "Kim")
    await join(fake, user)
    fake.send_message(user, "/settings")
    menu = await fake.next_message(512)
    fake.press(user, menu, menu.callback("Promotions"))
    await fake.wait_for(lambda: "Promotions: off" in fake.messages(512)[-1].content)
    customer = await app.shop.storage.customer_by_telegram(512)
    assert customer and not customer.promotions


async def test_forget_me(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(513, "Lu")
    await join(fake, user)
    before = await app.shop.storage.customer_by_telegram(513)
    assert before
    fake.send_message(user, "/forget")
    ask = await fake.next_message(513)
    assert "50 points" in ask.content
    fake.press(user, ask, ask.callback("No"))
    assert "stays" in (await fake.next_message(513)).content
    assert await app.shop.storage.customer_by_telegram(513) is not None
    fake.send_message(user, "/forget")
    ask = await fake.next_message(513)
    yes = ask.callback("Yes")
    fake.press(user, ask, yes)
    assert "deleted" in (await fake.next_message(513)).content
    assert await app.shop.storage.customer_by_telegram(513) is None
    gone = await app.shop.storage.customer(before.id)
    assert gone and gone.forgotten and gone.name == "" and gone.phone is None
    assert await app.shop.storage.ledger_sum(before.id) == 50
    # Replaying the confirmation changes nothing and answers politely.
    query = fake.press(user, ask, yes)
    await fake.wait_for(lambda: query in fake.callback_answers)
    assert "no data" in fake.callback_answers[query].get("text", "")


async def test_foreign_card_link_and_bad_payload(app: Application, fake: FakeTelegram) -> None:
    owner_of_card = fake.user(514, "Mo")
    await join(fake, owner_of_card)
    card_owner = await app.shop.storage.customer_by_telegram(514)
    assert card_owner
    other = fake.user(515, "Ned")
    fake.send_message(other, f"/start {card_owner.card_payload}")
    note = await fake.next_message(515)
    assert "another customer's card" in note.content
    card = await fake.next_message(515)
    other_customer = await app.shop.storage.customer_by_telegram(515)
    assert other_customer and decode_qr(card.file_bytes or b"")[0].endswith(
        other_customer.card_payload
    )
    for payload in ("<script>", "x" * 65, "c_short", "zz_aaaaaaaaaaaaaaaaaaaaaa"):
        fake.send_message(owner_of_card, f"/start {payload}")
        assert "not valid" in (await fake.next_message(514)).content, payload
        assert (await fake.next_message(514)).kind == "photo"


async def test_forged_callbacks_change_nothing(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(516, "Ola")
    await join(fake, user)
    target = fake.messages(516)[-1]
    for data in ("lang:xx", "set:explode", "forget:maybe", "garbage", "hist:abc"):
        query = fake.press(user, target, data)
        await fake.wait_for(lambda q=query: q in fake.callback_answers)
        assert "no longer valid" in fake.callback_answers[query].get("text", ""), data
    customer = await app.shop.storage.customer_by_telegram(516)
    assert customer and customer.language == "en" and not customer.forgotten


async def test_commands_registered_per_language(app: Application, fake: FakeTelegram) -> None:
    assert set(fake.commands) == {None, "en", "uk", "ru", "mk", "th"}
    names = [c["command"] for c in fake.commands["uk"]]
    assert names[:3] == ["card", "balance", "history"]
    assert fake.commands["uk"][0]["description"] != fake.commands["en"][0]["description"]


async def test_unknown_text_gets_help(app: Application, fake: FakeTelegram) -> None:
    user = fake.user(517, "Pat")
    await join(fake, user)
    fake.send_message(user, "what is this?")
    assert "/help" in (await fake.next_message(517)).content
