"""/colors and /logo end to end: a new palette or logo shows on the next card (a new picture
whose QR still decodes); files that are no picture, too large or too many pixels are
refused and nothing changes."""

from __future__ import annotations

import os
from io import BytesIO

from PIL import Image

from bot.app import Application
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram, SentMessage
from tests.helpers import decode_qr, join

CUSTOMER_ID = 6001


def uploads(fake: FakeTelegram) -> int:
    return sum(1 for call in fake.requests if call.method == "sendPhoto" and call.files)


async def next_card(fake: FakeTelegram, user: dict) -> SentMessage:
    fake.send_message(user, "/card")
    card = await fake.next_message(user["id"])
    assert card.kind == "photo" and card.file_bytes
    assert decode_qr(card.file_bytes)[0].startswith(f"https://t.me/{fake.bot_username}?start=c_")
    return card


def logo_png() -> bytes:
    image = Image.new("RGBA", (900, 600), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (100, 100, 800, 500))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_palette_and_logo_show_on_the_next_card(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    customer = fake.user(CUSTOMER_ID, "Nina")
    first = await join(fake, customer)

    fake.send_message(owner, "/colors")
    menu = await fake.next_message(OWNER_ID)
    assert menu.kind == "photo" and "Now: Night blue" in menu.content
    assert menu.buttons()[0]["text"] == "✓ Night blue"
    fake.press(owner, menu, menu.callback("Forest"))
    done = await fake.next_message(OWNER_ID)
    assert "Card colours: Forest" in done.content

    before = uploads(fake)
    green = await next_card(fake, customer)
    assert uploads(fake) == before + 1  # drawn again, not the old file_id
    assert green.file_bytes != first.file_bytes

    fake.send_message(owner, "/logo")
    ask = await fake.next_message(OWNER_ID)
    assert "Your logo" in ask.content and not ask.buttons()  # nothing to remove yet
    fake.send_document(owner, logo_png(), "logo.png", "image/png")
    assert "Logo saved" in (await fake.next_message(OWNER_ID)).content
    stored = await app.shop.storage.logo()
    assert stored is not None and Image.open(BytesIO(stored)).size == (512, 341)

    with_logo = await next_card(fake, customer)
    assert with_logo.file_bytes != green.file_bytes
    # Unchanged look: sent again by its file_id.
    before = uploads(fake)
    assert (await next_card(fake, customer)).file_id == with_logo.file_id
    assert uploads(fake) == before

    fake.send_message(owner, "/logo")
    ask = await fake.next_message(OWNER_ID)
    fake.press(owner, ask, ask.callback("Remove"))
    await fake.wait_for(lambda: "Logo removed" in ask.content)
    assert (await app.shop.storage.branding()).logo_digest is None
    assert (await next_card(fake, customer)).file_bytes == green.file_bytes
    await fake.idle(quiet=0.2)


async def test_bad_logo_files_are_refused(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    fake.send_message(owner, "/logo")
    await fake.next_message(OWNER_ID)

    fake.send_document(owner, b"%PDF-1.4 not a picture at all", "logo.pdf", "application/pdf")
    assert "not a picture I can read" in (await fake.next_message(OWNER_ID)).content

    # A truncated PNG: the header is fine, the rest is not.
    fake.send_document(owner, logo_png()[:200], "broken.png", "image/png")
    assert "not a picture I can read" in (await fake.next_message(OWNER_ID)).content

    downloads = sum(1 for call in fake.requests if call.method == "getFile")
    fake.send_document(owner, os.urandom(6 * 1024 * 1024), "huge.png", "image/png")
    assert "larger than 5 MB" in (await fake.next_message(OWNER_ID)).content
    # Refused on the size Telegram tells, before any download.
    assert sum(1 for call in fake.requests if call.method == "getFile") == downloads

    # A decompression bomb: 6000 x 6000 pixels of one colour is a small file.
    bomb = BytesIO()
    Image.new("L", (6000, 6000), 255).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 1024 * 1024
    fake.send_document(owner, bomb.getvalue(), "bomb.png", "image/png")
    assert "far too many pixels" in (await fake.next_message(OWNER_ID)).content

    fake.send_message(owner, "here it is")
    assert "photo or an image file" in (await fake.next_message(OWNER_ID)).content
    assert await app.shop.storage.logo() is None

    fake.send_message(owner, "/cancel")
    assert "stays as it was" in (await fake.next_message(OWNER_ID)).content
    fake.send_message(owner, "/colors")
    menu = await fake.next_message(OWNER_ID)
    fake.press(owner, menu, "pal:rainbow")  # forged: no such palette
    await fake.idle(quiet=0.2)
    assert (await app.shop.storage.branding()).palette is None
