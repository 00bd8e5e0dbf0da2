"""No log line ever carries the bot token, whichever path an error takes."""

from __future__ import annotations

import logging
from io import BytesIO

import pytest
from PIL import Image

from bot.app import Application
from bot.telegram.redact import REDACTED, RedactSecrets
from tests.fakeapi import TOKEN, FakeTelegram
from tests.test_desk_e2e import CASHIER_ID, hire_cashier

SECRET_HALF = TOKEN.split(":", 1)[1]


def photo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, format="PNG")
    return out.getvalue()


def leaks(text: str) -> bool:
    return TOKEN in text or SECRET_HALF in text


async def test_a_failed_download_logs_no_token(
    app: Application, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    cashier = await hire_cashier(fake)
    fake.download_status = 404  # aiohttp's error then names /file/bot<token>/<path>
    with caplog.at_level(logging.DEBUG):
        fake.send_photo(cashier, photo())
        assert "Sorry" in (await fake.next_message(CASHIER_ID)).content
        fake.download_status = 500
        fake.send_photo(cashier, photo())
        assert "Sorry" in (await fake.next_message(CASHIER_ID)).content
    assert fake.downloads, "the bot never tried to download the photo"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 2 and all(r.exc_text for r in failures)
    assert "/file/bot" + REDACTED in caplog.text  # the error is still there to read
    assert not leaks(caplog.text)
    for record in caplog.records:
        assert not leaks(record.getMessage()) and not leaks(record.exc_text or "")


async def test_errors_raised_by_handlers_carrying_the_token_are_redacted(
    app: Application, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Any exception text or argument, not only aiohttp's: the filter is on the handlers."""
    from tests.helpers import join

    user = fake.user(9601, "Tess")
    await join(fake, user)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe failed")

    app.shop.storage.referral_stats = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG):
        fake.send_message(user, "/invite")
        assert "Sorry" in (await fake.next_message(9601)).content
        logging.getLogger("aiohttp.client").warning("token %s in an argument", TOKEN)
        logging.getLogger("x").info("only the secret half: %s", SECRET_HALF, stack_info=True)
    assert caplog.records and not leaks(caplog.text)


def test_the_filter_rewrites_message_arguments_and_exception() -> None:
    redactor = RedactSecrets([TOKEN])
    try:
        raise ValueError(f"/file/bot{TOKEN}/photos/1.jpg")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "aiogram", logging.ERROR, __file__, 1, "failed %s", (TOKEN,), sys.exc_info()
        )
    assert redactor.filter(record) is True
    text = logging.Formatter("%(message)s").format(record)
    assert not leaks(text) and text.count(REDACTED) == 2
