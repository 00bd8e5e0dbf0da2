"""Importing plastic cards from Telegram: /import, the check with problems by line, Import
pressed (twice), the same file again, and every bad file refused with nothing written."""

from __future__ import annotations

import sqlite3

import pytest

from bot.app import Application
from bot.domain.imports import EXAMPLE_CSV
from storage import EntryKind
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram, SentMessage

GOOD = (
    "card_number,name,phone,birthday,balance,spend,joined\n"
    "004512,Olena Koval,067 123 45 67,17.05.1990,340,1250.00,02.04.2019\n"
    "004513,Ivan,+380501234567,,25,,\n"
    "004514,Bad Phone,12,,10,,\n"
    "004512,Twice,,,5,,\n"
)


def customers(app: Application) -> int:
    database = sqlite3.connect(app.shop.settings.database_path)
    try:
        return int(database.execute("SELECT count(*) FROM customers").fetchone()[0])
    finally:
        database.close()


async def send_file(
    fake: FakeTelegram, data: bytes, name: str = "cards.csv", **kw: object
) -> SentMessage:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_document(owner, data, name, str(kw.pop("mime", "text/csv")), **kw)  # type: ignore[arg-type]
    return await fake.next_message(OWNER_ID)


async def test_import_from_telegram_books_once(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/import")
    explained = await fake.next_message(OWNER_ID)
    assert "card_number" in explained.content and "Import" in explained.content
    example = await fake.next_message(OWNER_ID)
    assert example.kind == "document" and example.file_bytes == EXAMPLE_CSV.encode()
    fake.send_document(owner, GOOD.encode(), "cards.csv", "text/csv")
    check = await fake.next_message(OWNER_ID)
    text = check.content
    assert "Ready to import: 2 customers with 365 points" in text, text
    assert "line 4: phone «12» cannot be read" in text
    assert "line 5: card number «004512» is also on line 2" in text
    assert await app.shop.storage.customer_by_legacy_number("004512") is None  # a dry run
    go = check.callback("Import 2")
    fake.press(owner, check, go)
    fake.press(owner, check, go)  # a double tap
    done = await fake.next_message(OWNER_ID)
    assert "Imported 2 customers with 365 points" in done.content, done.content
    await fake.idle()
    card = await app.shop.storage.customer_by_legacy_number("004512")
    assert card is not None and card.telegram_id is None and card.balance == 340
    assert card.tier == "Silver" and card.phone == "+380671234567"
    entries = await app.shop.storage.history(card.id, 10)
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.IMPORT, 340)]
    # The same file again: the check says so and offers nothing to press.
    fake.send_document(owner, GOOD.encode(), "again.csv", "text/csv")
    again = await fake.next_message(OWNER_ID)
    assert "2 customers from this file were already imported" in again.content, again.content
    assert again.inline_markup is None
    assert await app.shop.storage.count_entries(card.id) == 1


async def test_caption_import_and_cancel(app: Application, fake: FakeTelegram) -> None:
    text = "Номер;Ім'я;Телефон;Бали\n77;Петро Іваненко;0671234567;15\n"
    check = await send_file(fake, text.encode("cp1251"), caption="/import")
    assert "Ready to import: 1 customer with 15 points" in check.content, check.content
    owner = fake.user(OWNER_ID, "Olga")
    fake.press(owner, check, check.callback("Cancel"))
    cancelled = await fake.next_message(OWNER_ID)
    assert "Nothing was written" in cancelled.content
    assert await app.shop.storage.customer_by_legacy_number("77") is None
    # A forged press for another file is refused.
    fake.press(owner, check, "imp:0123456789abcdef0123:1")
    await fake.idle()
    assert await app.shop.storage.customer_by_legacy_number("77") is None


@pytest.mark.parametrize(
    ("data", "options", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", {}, "not a CSV file"),
        (b"PK\x03\x04\x14\x00\x06\x00", {"name": "cards.xlsx"}, "spreadsheet workbook"),
        (GOOD.encode(), {"file_size": 50 * 1024 * 1024}, "larger than 5 MB"),
        (b"name,email\nAnn,a@example.com\n", {}, "Found: name, email"),
        (
            "номер;баланс\n1;2\n".encode() + "2;3;Петро\n".encode("cp1251"),
            {},
            "mixes text encodings",
        ),
    ],
)
async def test_bad_files_are_refused_with_one_reason(
    app: Application, fake: FakeTelegram, data: bytes, options: dict, expected: str
) -> None:
    before = customers(app)
    answer = await send_file(fake, data, str(options.pop("name", "cards.csv")), **options)
    assert expected in answer.content and "Nothing was imported" in answer.content, answer.content
    assert answer.inline_markup is None
    await fake.idle()
    assert customers(app) == before
    downloads = [c for c in fake.requests if c.method == "getFile"]
    assert downloads == [] if "file_size" in options else len(downloads) == 1


async def test_ten_thousand_bad_rows_fit_one_message(app: Application, fake: FakeTelegram) -> None:
    rows = "".join(f"{n},Guest {n},not a phone {n},,{-n - 1},,\n" for n in range(10_000))
    data = ("card_number,name,phone,birthday,balance,spend,joined\n" + rows).encode()
    answer = await send_file(fake, data)
    text = answer.content
    assert len(answer.text or "") <= 4096
    assert "10,000 rows have problems" in text and "phone cannot be read: 10,000" in text, text
    assert "line 21:" in text and "line 22:" not in text and "…and 9,980 more." in text
    assert "Nothing to import." in text and answer.inline_markup is None


async def test_translated_check(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga", language_code="uk")
    fake.send_document(owner, b"name,email\nAnn,a@example.com\n", "cards.csv", "text/csv")
    answer = await fake.next_message(OWNER_ID)
    assert "Нічого не імпортовано" in answer.content, answer.content


async def test_a_file_sent_while_serving_at_the_desk_is_checked(
    app: Application, fake: FakeTelegram
) -> None:
    from bot.handlers.cashier.view import Desk

    state = app.dispatcher.fsm.get_context(app.bot, chat_id=OWNER_ID, user_id=OWNER_ID)
    await state.set_state(Desk.customer)
    check = await send_file(fake, GOOD.encode())
    assert "Ready to import: 2 customers" in check.content, check.content
    assert await state.get_state() == Desk.customer.state  # the desk's step goes on
