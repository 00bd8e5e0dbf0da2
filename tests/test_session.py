"""The bot's session to the Bot API (aiogram's aiohttp session, JSON bodies, trimmed replies),
against the fake Bot API and small servers on 127.0.0.1 that answer as told."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import io
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trustme
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    BanChatMember,
    CreateChatInviteLink,
    EditMessageText,
    ForwardMessage,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardRemove,
)
from aiohttp import web
from PIL import Image

from bot.telegram.session import BotApiSession, create_session, json_body
from tests.fakeapi import TOKEN, FakeTelegram

MESSAGE = {"message_id": 5, "date": 1_700_000_000, "chat": {"id": 42, "type": "private"}}


def methods() -> list[TelegramMethod[Any]]:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="✅ Так", callback_data="op:1:1")],
            [InlineKeyboardButton(text="Link", url="https://example.org/?q=1&r=ü")],
        ]
    )
    return [
        SendMessage(chat_id=42, text="<b>Баланс</b> ๑๒๓ & <i>x</i>", reply_markup=keyboard),
        SendMessage(
            chat_id=42,
            text="plain",
            parse_mode=None,
            entities=[MessageEntity(type="bold", offset=0, length=5)],
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=ReplyKeyboardRemove(),
            disable_notification=False,
        ),
        EditMessageText(chat_id=42, message_id=7, text="edited", reply_markup=keyboard),
        AnswerCallbackQuery(callback_query_id="q1", text="", show_alert=False),
        SendPhoto(chat_id=42, photo="AgADfileid", caption="card"),
        CreateChatInviteLink(chat_id=-100, expire_date=datetime.timedelta(hours=1)),
        BanChatMember(
            chat_id=-100,
            user_id=5,
            until_date=datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC),
        ),
    ]


@pytest.mark.parametrize("method", methods(), ids=lambda m: type(m).__name__)
def test_json_body_says_what_the_form_says(method: TelegramMethod[Any]) -> None:
    """Field for field, the JSON body carries the values aiogram's form encoding sends."""
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    form = AiohttpSession().build_form_data(bot, method)
    sent = {field[0]["name"]: value for field in form._fields for value in [field[2]]}
    body = json.loads(json_body(method, bot))
    assert body.keys() == sent.keys()
    for key, value in body.items():
        if isinstance(value, str):
            assert sent[key] == value, key
        elif key in ("expire_date", "until_date"):  # relative times are taken "now"
            assert abs(int(sent[key]) - value) <= 1, key
        else:
            assert json.loads(sent[key]) == value, key
    assert "parse_mode" not in body or body["parse_mode"] == "HTML"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def test_calls_through_the_fake_api(fake: FakeTelegram) -> None:
    fake.user(42, "Olena")
    session = create_session(fake.base_url)
    try:
        await calls_through(fake, session)
    finally:
        await session.close()


async def calls_through(fake: FakeTelegram, session: BotApiSession) -> None:
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Так", callback_data="a")]]
    )
    sent = await bot.send_message(42, "<b>Привіт</b>", reply_markup=keyboard)
    assert sent.message_id > 0 and sent.text == "Привіт" and sent.chat.id == 42
    # The keyboard and formatting just sent are not parsed back.
    assert sent.reply_markup is None and sent.entities is None
    assert fake.messages(42)[-1].buttons()[0]["text"] == "Так"
    call = fake.requests[-1]
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == keyboard.model_dump(exclude_none=True)

    # Uploads go as multipart form data on the same session, beside a long poll in flight.
    poll = asyncio.create_task(bot.get_updates(timeout=1))
    await fake.wait_for(lambda: fake.waiting_polls)
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(png, "PNG")
    photo = await bot.send_photo(42, BufferedInputFile(png.getvalue(), "card.png"))
    assert photo.photo and fake.requests[-1].files == {"photo": png.getvalue()}
    assert await poll == []

    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(42, "x")
    # A 429 is waited out and the call made again (bot/telegram/pacing.py).
    fake.fail_next("sendMessage", 429, retry_after=1)
    assert (await bot.send_message(42, "after")).text == "after"
    assert [c.status for c in fake.requests[-2:]] == [429, 200]


@contextlib.asynccontextmanager
async def serve(
    answer: Callable[[web.Request], Awaitable[web.Response]],
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[int]:
    """An aiohttp server on 127.0.0.1 answering every request with `answer`; yields its port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def test_calls_go_as_json_and_uploads_as_multipart() -> None:
    seen: list[tuple[str, str]] = []

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        seen.append((request.path.rsplit("/", 1)[1], request.content_type))
        return web.json_response({"ok": True, "result": MESSAGE})

    async with serve(answer) as port:
        session = create_session(f"http://127.0.0.1:{port}")
        bot = Bot(TOKEN, session=session)
        try:
            await bot.send_message(42, "hi")
            await bot.send_photo(42, BufferedInputFile(b"png", "card.png"))
        finally:
            await session.close()
    assert seen == [("sendMessage", "application/json"), ("sendPhoto", "multipart/form-data")]


async def test_a_proxy_error_page_and_a_dead_server() -> None:
    async def gateway(request: web.Request) -> web.Response:
        return web.Response(
            status=502, text="<html>502 Bad Gateway</html>", content_type="text/html"
        )

    async with serve(gateway) as port:
        session = create_session(f"http://127.0.0.1:{port}")
        bot = Bot(TOKEN, session=session)
        with pytest.raises(ClientDecodeError):
            await bot.send_message(1, "x")
        await session.close()
    session = create_session(f"http://127.0.0.1:{port}")  # nothing listens there any more
    bot = Bot(TOKEN, session=session)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1, "x")
    await session.close()


def test_a_forwarded_message_keeps_its_keyboard_and_formatting() -> None:
    session = create_session(None)
    bot = Bot(TOKEN, session=session)
    message = {
        **MESSAGE,
        "text": "Sale",
        "entities": [{"type": "bold", "offset": 0, "length": 4}],
        "reply_markup": {"inline_keyboard": [[{"text": "Go", "url": "https://example.org"}]]},
    }
    content = json.dumps({"ok": True, "result": message})
    forwarded = session.check_response(
        bot, ForwardMessage(chat_id=42, from_chat_id=7, message_id=3), 200, content
    ).result
    assert forwarded.entities and forwarded.reply_markup
    sent = session.check_response(bot, SendMessage(chat_id=42, text="Sale"), 200, content)
    assert sent.result.entities is None and sent.result.reply_markup is None
    assert sent.result.text == "Sale"


def test_the_session_keeps_a_custom_server() -> None:
    session = create_session("http://127.0.0.1:9/")
    assert isinstance(session.api, TelegramAPIServer)
    assert session.api.api_url("T", "getMe") == "http://127.0.0.1:9/botT/getMe"


async def test_tls_with_a_trusted_and_an_unknown_authority() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": True})

    async with serve(answer, server_context) as port:
        # The default trust store (certifi's, as for api.telegram.org) refuses this server.
        session = create_session(f"https://localhost:{port}")
        bot = Bot(TOKEN, session=session)
        with pytest.raises(TelegramNetworkError, match="certificate"):
            await bot.answer_callback_query("q1")
        await session.close()
        # Trusting its authority, the same calls go through (and so does a JSON body over TLS).
        trusting = ssl.create_default_context()
        authority.configure_trust(trusting)
        session = create_session(f"https://localhost:{port}")
        session._connector_init["ssl"] = trusting  # aiogram has no public setting for it
        bot = Bot(TOKEN, session=session)
        try:
            for _ in range(3):
                assert await bot.answer_callback_query("q1") is True
        finally:
            await session.close()
