"""/poster end to end: the owner picks a place and a language and gets a PDF and a PNG whose
QR is the join link; a newcomer who opens it is counted under that place in /stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.app import Application
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram, SentMessage
from tests.helpers import decode_qr

Start = Callable[..., Any]


async def order_poster(
    fake: FakeTelegram, owner: dict, pick: Callable[[SentMessage], str], language: str, layout: str
) -> tuple[SentMessage, SentMessage]:
    """/poster through its three button steps; returns the PDF and PNG documents."""
    fake.send_message(owner, "/poster")
    menu = await fake.next_message(OWNER_ID)
    fake.press(owner, menu, pick(menu))
    await fake.wait_for(lambda: "which language" in menu.content)
    fake.press(owner, menu, menu.callback(language))
    await fake.wait_for(lambda: "Which format" in menu.content)
    fake.press(owner, menu, menu.callback(layout))
    pdf = await fake.next_message(OWNER_ID)
    png = await fake.next_message(OWNER_ID)
    assert pdf.kind == png.kind == "document"
    return pdf, png


async def test_poster_link_joins_and_counts_under_its_place(
    app: Application, fake: FakeTelegram
) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    pdf, png = await order_poster(
        fake, owner, lambda menu: menu.callback("At the counter"), "English", "A4 poster"
    )
    assert pdf.file_name == "poster-counter-en-a4.pdf" and pdf.file_bytes
    assert pdf.file_bytes.startswith(b"%PDF-")
    # 595 x 842 points: an A4 page.
    assert b"/MediaBox [ 0 0 595.2 841.92 ]" in pdf.file_bytes
    assert png.file_name == "poster-counter-en-a4.png" and png.file_bytes
    link = f"https://t.me/{fake.bot_username}?start=j_counter"
    assert decode_qr(png.file_bytes) == [link]

    # A newcomer scans it: a card, the welcome, the phone question; counted as "counter".
    newcomer = fake.user(5001, "Nina")
    fake.send_message(newcomer, "/start j_counter")
    card = await fake.next_message(5001)
    assert card.kind == "photo"
    await fake.next_message(5001)  # welcome
    await fake.next_message(5001)  # phone question
    # An existing customer opening the same poster just gets their card, counted nowhere new.
    fake.send_message(newcomer, "/start j_counter")
    again = await fake.next_message(5001)
    assert again.kind == "photo"
    plain = fake.user(5002, "Petro")
    fake.send_message(plain, "/start")
    await fake.next_message(5002)

    fake.send_message(owner, "/stats")
    report = await fake.wait_for(
        lambda: next((m for m in fake.messages(OWNER_ID) if "Figures for" in m.content), None)
    )
    assert "New members by where they joined: At the counter 1, direct 1" in report.content
    await fake.idle(quiet=0.2)


async def test_typed_place_tent_and_thai(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/poster")
    menu = await fake.next_message(OWNER_ID)
    fake.press(owner, menu, menu.callback("Another place"))
    await fake.wait_for(lambda: "short name" in menu.content)
    for bad in ("Market Stall", "-stall", "direct", "x" * 25, "ярмарок"):
        fake.send_message(owner, bad)
        refusal = await fake.next_message(OWNER_ID)
        assert "cannot go in a link" in refusal.content, (bad, refusal.content)
    fake.send_message(owner, "market-stall")
    ask = await fake.next_message(OWNER_ID)
    assert "market-stall" in ask.content
    fake.press(owner, ask, ask.callback("ไทย"))
    await fake.wait_for(lambda: "Which format" in ask.content)
    fake.press(owner, ask, ask.callback("A6 table tents"))
    pdf = await fake.next_message(OWNER_ID)
    png = await fake.next_message(OWNER_ID)
    assert png.file_name == "poster-market-stall-th-tent.png" and png.file_bytes
    assert pdf.file_bytes and pdf.file_bytes.startswith(b"%PDF-")
    # Four panels, each with the QR: two upright, two upside down (zxing reads both).
    link = f"https://t.me/{fake.bot_username}?start=j_market-stall"
    assert decode_qr(png.file_bytes) == [link] * 4
    await fake.idle(quiet=0.2)


async def test_forged_poster_buttons_change_nothing(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/poster")
    menu = await fake.next_message(OWNER_ID)
    for forged in ("psrc:nowhere", "plng:counter:xx", "plng:Bad_Tag:en", "plyt:counter:en:a3"):
        fake.press(owner, menu, forged)
    await fake.idle(quiet=0.2)
    assert not [m for m in fake.messages(OWNER_ID) if m.kind == "document"]
    # A customer cannot order one.
    customer = fake.user(5003, "Ivan")
    fake.send_message(customer, "/start")
    await fake.next_message(5003)
    await fake.idle(quiet=0.2)
    fake.send_message(customer, "/poster")
    await fake.idle(quiet=0.2)
    assert not [m for m in fake.messages(5003) if m.kind == "document"]
