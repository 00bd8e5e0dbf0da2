"""The keep-alive client and the JSON session built on it: real sockets on 127.0.0.1, servers
that misbehave on purpose, and the same calls through aiogram's own form encoding."""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import socket
import ssl
import struct
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
from PIL import Image

from bot.http_client import HttpError, KeepAliveClient, Origin
from bot.telegram.session import BotApiSession, create_session, json_body
from tests.fakeapi import TOKEN, FakeTelegram

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]


class Server:
    """A raw TCP server whose every connection runs `script`; counts connections."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.origin = Origin("http", "127.0.0.1", 0)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.origin = Origin("http", "127.0.0.1", self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            await self.script(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client hung up, or the test is over
        finally:
            self.open_now -= 1
            writer.close()

    async def all_closed(self, within: float = 0.5) -> bool:
        """Whether every connection is closed, waiting up to `within` for the client's."""
        for _ in range(int(within / 0.01)):
            if self.open_now == 0:
                return True
            await asyncio.sleep(0.01)
        return self.open_now == 0

    async def read_request(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.requests.append((head, body))
        return head, body


def reply(body: bytes, *headers: bytes, status: bytes = b"200 OK") -> bytes:
    lines = [b"HTTP/1.1 " + status, b"Content-Type: application/json", *headers]
    if not any(h.lower().startswith((b"content-length", b"transfer-encoding")) for h in headers):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def answer_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
    while await s.read_request(reader) is not None:
        writer.write(reply(b'{"ok":true,"result":true}'))
        await writer.drain()


async def test_connections_are_reused_and_requests_are_well_formed() -> None:
    async with Server(answer_forever) as server:
        client = KeepAliveClient(server.origin)
        for index in range(5):
            status, body = await client.post(b"/bot1/getMe", b'{"n":%d}' % index, 5)
            assert (status, body) == (200, b'{"ok":true,"result":true}')
        await client.close()
    assert server.connections == 1
    head, body = server.requests[3]
    assert head.startswith(b"POST /bot1/getMe HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.origin.port}".encode() in head
    assert b"Content-Type: application/json" in head
    assert body == b'{"n":3}'


async def test_chunked_reply_arriving_in_pieces() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        while await s.read_request(reader) is not None:
            pieces = [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"5;ext=1\r\nhel",
                b"lo\r\n",
                b"6\r\n wor",
                b"ld\r\n0\r\n",
                b"\r\n",
            ]
            for piece in pieces:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.01)

    async with Server(chunked) as server:
        client = KeepAliveClient(server.origin)
        assert await client.post(b"/", b"{}", 5) == (200, b"hello world")
        assert await client.post(b"/", b"{}", 5) == (200, b"hello world")
        await client.close()
    assert server.connections == 1


async def test_connection_close_and_http10_bodies_open_a_new_connection() -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        if await s.read_request(reader) is None:
            return
        if s.connections % 2:
            writer.write(reply(b"closed", b"Connection: close"))
        else:  # HTTP/1.0 with no length: the body is whatever comes before the end
            writer.write(b"HTTP/1.0 404 Not Found\r\n\r\nnot here")
        await writer.drain()

    async with Server(closing) as server:
        client = KeepAliveClient(server.origin)
        assert await client.post(b"/", b"{}", 5) == (200, b"closed")
        assert await client.post(b"/", b"{}", 5) == (404, b"not here")
        assert await client.post(b"/", b"{}", 5) == (200, b"closed")
        await client.close()
    assert server.connections == 3


async def test_a_connection_the_server_dropped_while_idle_is_not_used() -> None:
    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        if await s.read_request(reader) is not None:
            writer.write(reply(b"once"))  # keep-alive promised, then closed anyway
            await writer.drain()

    async with Server(one_each) as server:
        client = KeepAliveClient(server.origin)
        for _ in range(3):
            assert await client.post(b"/", b"{}", 5) == (200, b"once")
            await asyncio.sleep(0.05)  # the server's FIN arrives while the connection is idle
        await client.close()
    assert server.connections == 3


async def test_broken_replies_fail_and_the_connection_is_dropped() -> None:
    scripts = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ntoo short",  # closed mid-body
        b"SSH-2.0-OpenSSH\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",  # an interim reply, then nothing
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n",  # closed inside the head
    ]

    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        if await s.read_request(reader) is not None:
            writer.write(scripts[s.connections - 1])
            await writer.drain()

    async with Server(broken) as server:
        client = KeepAliveClient(server.origin)
        for _ in scripts:
            with pytest.raises(HttpError):
                await client.post(b"/", b"{}", 5)
        await client.close()
    assert server.connections == len(scripts)


async def test_leftover_bytes_and_interim_replies() -> None:
    """Bytes beyond a response never answer the next request; 1xx replies are skipped."""

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        while await s.read_request(reader) is not None:
            if s.connections == 1:
                writer.write(reply(b"one") + reply(b"stale"))
            else:
                writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + reply(b"two"))
            await writer.drain()

    async with Server(chatty) as server:
        client = KeepAliveClient(server.origin)
        assert await client.post(b"/", b"{}", 5) == (200, b"one")
        assert await client.post(b"/", b"{}", 5) == (200, b"two")
        assert await client.post(b"/", b"{}", 5) == (200, b"two")
        await client.close()
    assert server.connections == 2


async def test_a_body_cut_by_a_reset_is_not_taken_whole() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        if await s.read_request(reader) is not None:
            writer.write(b'HTTP/1.0 200 OK\r\n\r\n{"ok": tr')
            await writer.drain()
            await asyncio.sleep(0.05)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    async with Server(reset) as server:
        client = KeepAliveClient(server.origin)
        with pytest.raises(HttpError):
            await client.post(b"/", b"{}", 5)
        await client.close()


async def test_a_closed_client_keeps_no_connection() -> None:
    async with Server(answer_forever) as server:
        client = KeepAliveClient(server.origin)
        assert await client.post(b"/", b"{}", 5) == (200, b'{"ok":true,"result":true}')
        await client.close()
        assert await server.all_closed()
        # A call made after closing (a job finishing during shutdown) still works, and
        # its connection is not left open.
        assert await client.post(b"/", b"{}", 5) == (200, b'{"ok":true,"result":true}')
        assert await server.all_closed()
    assert server.connections == 2


async def test_a_silent_server_times_out_and_its_connection_is_not_reused() -> None:
    async def silent_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        first = s.connections == 1
        while await s.read_request(reader) is not None:
            if first:
                await asyncio.sleep(5)
            writer.write(reply(b"late" if first else b"ok"))
            await writer.drain()

    async with Server(silent_first) as server:
        client = KeepAliveClient(server.origin)
        with pytest.raises(TimeoutError):
            await client.post(b"/", b"{}", 0.2)
        # The late reply to the first request must never be taken for the second's.
        assert await client.post(b"/", b"{}", 5) == (200, b"ok")
        await client.close()
    assert server.connections == 2


async def test_no_more_connections_than_the_limit() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        while await s.read_request(reader) is not None:
            await asyncio.sleep(0.05)
            writer.write(reply(b"ok"))
            await writer.drain()

    async with Server(slow) as server:
        client = KeepAliveClient(server.origin, limit=2)
        results = await asyncio.gather(*(client.post(b"/", b"{}", 5) for _ in range(8)))
        await client.close()
    assert results == [(200, b"ok")] * 8
    assert server.most_open == 2


def test_origin_of_urls() -> None:
    origin, target = Origin.of("https://api.telegram.org/bot1:x/sendMessage?a=1")
    assert origin == Origin("https", "api.telegram.org", 443)
    assert (origin.host_header, target) == ("api.telegram.org", b"/bot1:x/sendMessage?a=1")
    origin, _ = Origin.of("http://[::1]:8081/bot1/getMe")
    assert origin.host_header == "[::1]:8081"
    with pytest.raises(ValueError):
        Origin.of("ftp://example.org/")


# ----------------------------------------------------------------- the session on top


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

    # Uploads still go as multipart form data, and the first one (which sets up aiohttp)
    # leaves a long poll in flight alone.
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
    # A 429 is waited out and the call made again (bot/pacing.py).
    fake.fail_next("sendMessage", 429, retry_after=1)
    assert (await bot.send_message(42, "after")).text == "after"
    assert [c.status for c in fake.requests[-2:]] == [429, 200]


async def test_a_proxy_error_page_and_a_dead_server() -> None:
    async def gateway(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        while await s.read_request(reader) is not None:
            page = b"<html>502 Bad Gateway</html>"
            writer.write(reply(page, b"Content-Type: text/html", status=b"502 Bad Gateway"))
            await writer.drain()

    async with Server(gateway) as server:
        port = server.origin.port
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
        "message_id": 5,
        "date": 1_700_000_000,
        "chat": {"id": 42, "type": "private"},
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
    server = await asyncio.start_server(
        lambda r, w: answer_forever(r, w, Server(answer_forever)),
        "127.0.0.1",
        0,
        ssl=server_context,
    )
    port = server.sockets[0].getsockname()[1]
    origin, target = Origin.of(f"https://localhost:{port}/bot1/getMe")
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    client = KeepAliveClient(origin, ssl_context=trusting)
    try:
        for _ in range(3):
            assert await client.post(target, b"{}", 5) == (200, b'{"ok":true,"result":true}')
        # The default trust store (certifi's, as for api.telegram.org) refuses this server.
        stranger = KeepAliveClient(origin)
        with pytest.raises(ssl.SSLCertVerificationError):
            await stranger.post(target, b"{}", 5)
        await stranger.close()
        # A certificate for another name is refused too.
        elsewhere, _ = Origin.of(f"https://127.0.0.1:{port}/")
        wrong_name = KeepAliveClient(elsewhere, ssl_context=trusting)
        with pytest.raises(ssl.SSLCertVerificationError):
            await wrong_name.post(target, b"{}", 5)
        await wrong_name.close()
    finally:
        await client.close()
        server.close()


async def test_no_body_after_204() -> None:
    async def empty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Server):
        while await s.read_request(reader) is not None:
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    async with Server(empty) as server:
        client = KeepAliveClient(server.origin)
        assert await client.post(b"/", b"{}", 1) == (204, b"")
        assert await client.post(b"/", b"{}", 1) == (204, b"")
        await client.close()
    assert server.connections == 1
