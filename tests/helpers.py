"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from io import BytesIO

import zxingcpp
from aiogram.filters.callback_data import CallbackData
from PIL import Image

import bot.keyboards
from tests.fakeapi import FakeTelegram, SentMessage


def callback_classes() -> list[type[CallbackData]]:
    """Every CallbackData the bot's keyboards define, found in every module of
    `bot.keyboards` (each role's keyboards sit in their own module)."""
    found: dict[type[CallbackData], None] = {}
    for info in pkgutil.iter_modules(bot.keyboards.__path__, "bot.keyboards."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, CallbackData)
                and value is not CallbackData
            ):
                found[value] = None
    return list(found)


def decode_qr(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(BytesIO(png)))]


async def join(fake: FakeTelegram, user: dict, skip_profile: bool = True) -> SentMessage:
    """/start as a new user; returns the card photo, optionally skipping the profile steps."""
    chat = user["id"]
    fake.send_message(user, "/start")
    card = await fake.next_message(chat)
    assert card.kind == "photo", card
    await fake.next_message(chat)  # welcome
    await fake.next_message(chat)  # phone question
    if skip_profile:
        skip = fake.current_reply_keyboard(chat)
        assert skip is not None
        fake.send_message(user, skip[-1]["text"])
        await fake.next_message(chat)  # birthday question
        fake.send_message(user, fake.current_reply_keyboard(chat)[-1]["text"])  # type: ignore[index]
        await fake.next_message(chat)  # all set
    return card


def seed_customers(
    database: str, count: int, first_telegram_id: int, **columns: object
) -> list[int]:
    """Customers written straight into the database in one transaction (for bulk tests);
    returns their Telegram ids."""
    import sqlite3

    from bot.domain.tokens import distinct_card_identities

    now = "2026-01-01T00:00:00.000000+00:00"
    extra = "".join(f", {name}" for name in columns)
    marks = "".join(", ?" for _ in columns)
    db = sqlite3.connect(database)
    ids = list(range(first_telegram_id, first_telegram_id + count))
    with db:
        taken = {number for (number,) in db.execute("SELECT card_number FROM customers")}
        cards = distinct_card_identities(count, taken)
        for telegram_id, (number, payload) in zip(ids, cards, strict=True):
            db.execute(
                "INSERT INTO customers (telegram_id, name, language, card_number, card_payload, "
                f"created_at, last_seen_at{extra}) VALUES (?, ?, 'en', ?, ?, ?, ?{marks})",
                (telegram_id, f"Guest {telegram_id}", number, payload, now, now, *columns.values()),
            )
    db.close()
    return ids
