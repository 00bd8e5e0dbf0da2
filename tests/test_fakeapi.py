"""The fake Bot API must behave like Telegram as seen through aiogram's own client."""

from __future__ import annotations

import asyncio
import html
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from PIL import Image

from tests.fakeapi import NOT_MODIFIED, TOKEN, FakeTelegram

USER_ID = 555


class QuickSession(AiohttpSession):
    """AiohttpSession.close() sleeps 250 ms for TLS shutdown; plain loopback HTTP needs none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(base_url: str, token: str = TOKEN) -> Bot:
    session = QuickSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


async def raw_call(fake: FakeTelegram, method: str, **fields: str) -> tuple[int, dict[str, Any]]:
    """POST form fields the way any HTTP client could, bypassing aiogram's models."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{fake.token}/{method}", data=fields) as resp,
    ):
        return resp.status, await resp.json()


def png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    server.user(USER_ID, first_name="Ann")
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake.base_url)
    yield client
    await client.session.close()


async def test_get_me_and_auth(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (fake.bot_id, True, "loyalty_test_bot")
    assert fake.requests[-1].method == "getMe"

    stranger = make_bot(fake.base_url, token="42:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()

    # Method names are case-insensitive; unknown ones are a Telegram-shaped 404.
    status, body = await raw_call(fake, "getme")
    assert (status, body["result"]["id"]) == (200, fake.bot_id)
    assert await raw_call(fake, "sendPigeon") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )


async def test_send_edit_delete_roundtrip(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "Hello <b>Ann</b>", reply_markup=keyboard(("Yes", "y")))
    assert isinstance(sent, Message)
    assert sent.from_user is not None and sent.from_user.id == fake.bot_id
    assert sent.text == "Hello Ann"
    assert sent.reply_markup is not None

    call = await fake.wait_call("sendMessage")
    assert call.params["chat_id"] == USER_ID  # decoded to int
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "y"

    msg = await fake.next_message(USER_ID)
    assert (msg.message_id, msg.kind, msg.text, msg.parse_mode) == (
        sent.message_id,
        "text",
        "Hello Ann",
        "HTML",
    )
    assert msg.callback("Yes") == "y"
    with pytest.raises(AssertionError, match="Yes"):
        msg.button("Nope")

    edited = await bot.edit_message_text(
        "Bye", chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard(("No", "n"))
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    assert (msg.text, msg.edits, msg.callback("No")) == ("Bye", 1, "n")

    # Like Telegram, an edit without reply_markup removes the inline keyboard.
    await bot.edit_message_text("Bye!", chat_id=USER_ID, message_id=sent.message_id)
    assert msg.buttons() == [] and msg.edits == 2

    assert await bot.delete_message(USER_ID, sent.message_id) is True
    assert fake.messages(USER_ID)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("again", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999_999, "who?")
    assert (await fake.wait_call("deleteMessage")).params == {
        "chat_id": USER_ID,
        "message_id": sent.message_id,
    }


async def test_message_ids_are_shared_with_user_messages(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.users[USER_ID]
    incoming = fake.send_message(user, "/start promo")
    assert incoming["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    reply = await bot.send_message(USER_ID, "hi")
    assert reply.message_id == incoming["message_id"] + 1
    # Bots may delete what users wrote in a private chat, but not edit it.
    with pytest.raises(TelegramBadRequest, match="can't be edited"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=incoming["message_id"])
    assert await bot.delete_message(USER_ID, incoming["message_id"])


async def test_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "<b>Same</b>", reply_markup=keyboard(("A", "a")))
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text(
            "<b>Same</b>",
            chat_id=USER_ID,
            message_id=sent.message_id,
            reply_markup=keyboard(("A", "a")),
        )
    assert info.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard(("A", "a"))
        )
    # Same visible text but different formatting is a real change.
    await bot.edit_message_text(
        "<i>Same</i>",
        chat_id=USER_ID,
        message_id=sent.message_id,
        reply_markup=keyboard(("A", "a")),
    )
    assert fake.messages(USER_ID)[0].entities == [{"type": "italic", "offset": 0, "length": 4}]


async def test_html_is_reduced_to_visible_text_and_entities(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        USER_ID,
        '  <b>Corner</b> &lt;Café&gt; &amp; <a href="https://x.org">Co</a> &#128512;&quot;\n',
    )
    msg = fake.messages(USER_ID)[0]
    assert msg.text == sent.text == 'Corner <Café> & Co 😀"'  # trimmed like Telegram
    assert msg.entities == [
        {"type": "bold", "offset": 0, "length": 6},
        {"type": "text_link", "offset": 16, "length": 2, "url": "https://x.org"},
    ]
    # Round-trips through aiogram's own entity renderer.
    assert sent.html_text.startswith("<b>Corner</b> &lt;Café&gt; &amp; <a href=")

    escaped = await bot.send_message(USER_ID, html.escape("<b>&Co"))
    assert escaped.text == "<b>&Co"
    # A lone "&" is plain text; a leading no-break space survives the trimming.
    loose = await bot.send_message(USER_ID, "\u00a0Tom & Jerry")
    assert loose.text == "\u00a0Tom & Jerry"
    pre = await bot.send_message(
        USER_ID, '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>'
    )
    assert [(e.type, e.language) for e in pre.entities or []] == [
        ("pre", "python"),
        ("spoiler", None),
    ]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<b>&Co</b>", "Unsupported HTML entity"),
        ("Tom &amp Jerry", "Unsupported HTML entity"),
        ("AT&T", "Unsupported HTML entity"),
        ('<a href="https://x.org/?a=1&b=2">x</a>', "Unsupported HTML entity"),
        ("&nbsp;x", "Unsupported HTML entity"),
        ("5 < 6", "Unsupported start tag"),
        ("x <3", "Unsupported start tag"),
        ("<b>bold", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("line<br>", 'Unsupported start tag "br"'),
        ('<span class="x">s</span>', "tg-spoiler"),
        ("<a>link</a>", "href"),
        ("<!-- note -->x", "Unsupported start tag"),
    ],
)
async def test_invalid_html_is_rejected(
    fake: FakeTelegram, bot: Bot, text: str, detail: str
) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as info:
        await bot.send_message(USER_ID, text)
    assert detail in info.value.message
    assert fake.messages(USER_ID) == []
    assert not fake.requests[-1].ok


async def test_text_limits(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER_ID, "x" * 4096)
    # Tags and entities do not count towards the limit, the visible text does.
    await bot.send_message(USER_ID, "<b>" + "&amp;" * 4096 + "</b>")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, "&lt;" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER_ID, "<b> </b>")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER_ID, "")
    photo = BufferedInputFile(png(20, 20), "p.png")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(USER_ID, photo, caption="y" * 1025)
    assert [m.content[:1] for m in fake.messages(USER_ID)] == ["x", "&"]
    assert fake.files == {}  # a rejected upload leaves nothing behind


async def test_keyboard_validation(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER_ID, "x", reply_markup=keyboard(("Long", "d" * 65)))
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            USER_ID,
            "x",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="?")]]),
        )
    # 64 bytes is fine even when that is fewer characters.
    await bot.send_message(USER_ID, "ok", reply_markup=keyboard(("Max", "é" * 32)))

    contact = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]],
        resize_keyboard=True,
    )
    sent = await bot.send_message(USER_ID, "Phone?", reply_markup=contact)
    assert sent.reply_markup is None  # Message.reply_markup only carries inline keyboards
    msg = fake.messages(USER_ID)[-1]
    assert msg.reply_keyboard() == [{"text": "Share phone", "request_contact": True}]
    assert msg.buttons() == []
    assert fake.current_reply_keyboard(USER_ID) == msg.reply_keyboard()
    await bot.send_message(USER_ID, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert fake.current_reply_keyboard(USER_ID) is None
    # Edits only take inline keyboards (aiogram's typing prevents this, so go raw).
    status, body = await raw_call(
        fake,
        "editMessageReplyMarkup",
        chat_id=str(USER_ID),
        message_id=str(sent.message_id),
        reply_markup=contact.model_dump_json(exclude_none=True),
    )
    assert (status, body["description"]) == (400, "Bad Request: inline keyboard expected")


async def test_photo_upload_reuse_and_download(fake: FakeTelegram, bot: Bot) -> None:
    image = png(300, 120)
    sent = await bot.send_photo(
        USER_ID, BufferedInputFile(image, "card.png"), caption="<b>Your card</b>"
    )
    assert sent.photo is not None and sent.caption == "Your card"
    largest = sent.photo[-1]
    assert (largest.width, largest.height, largest.file_size) == (300, 120, len(image))
    assert sent.photo[0].width <= 90  # a small thumbnail comes first, as in Telegram
    assert fake.files[largest.file_id] == image
    call = await fake.wait_call("sendPhoto")
    assert call.files == {"photo": image}

    msg = fake.messages(USER_ID)[0]
    assert (msg.kind, msg.file_id, msg.file_bytes, msg.file_name) == (
        "photo",
        largest.file_id,
        image,
        "card.png",
    )

    again = await bot.send_photo(USER_ID, largest.file_id)
    assert again.photo is not None and again.photo[-1].file_id == largest.file_id
    assert fake.messages(USER_ID)[1].file_bytes == image

    file = await bot.get_file(largest.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == image
    thumb = await bot.download(sent.photo[0].file_id)
    assert thumb is not None and Image.open(thumb).size == (90, 36)

    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(USER_ID, "AgACAgIAAxkBAAIunknown")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER_ID, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_documents_and_media_edits(fake: FakeTelegram, bot: Bot) -> None:
    doc = await bot.send_document(USER_ID, BufferedInputFile(b"a,b\n1,2\n", "export.csv"))
    assert doc.document is not None
    assert (doc.document.file_name, doc.document.mime_type) == ("export.csv", "text/csv")
    with pytest.raises(TelegramBadRequest, match="Document as Photo"):
        await bot.send_photo(USER_ID, doc.document.file_id)

    sent = await bot.send_photo(
        USER_ID,
        BufferedInputFile(png(40, 40), "a.png"),
        caption="old",
        reply_markup=keyboard(("Open", "o")),
    )
    new_image = png(64, 32, (0, 0, 255))
    edited = await bot.edit_message_media(
        InputMediaPhoto(media=BufferedInputFile(new_image, "b.png"), caption="<i>new</i>"),
        chat_id=USER_ID,
        message_id=sent.message_id,
    )
    assert isinstance(edited, Message) and edited.photo is not None
    msg = fake.messages(USER_ID)[-1]
    assert (msg.file_bytes, msg.caption, msg.edits, msg.buttons()) == (new_image, "new", 1, [])
    assert (edited.photo[-1].width, edited.photo[-1].height) == (64, 32)
    assert (await fake.wait_call("editMessageMedia")).files == {"media": new_image}

    await bot.edit_message_caption(chat_id=USER_ID, message_id=sent.message_id, caption="c")
    assert (msg.caption, msg.edits) == ("c", 2)
    with pytest.raises(TelegramBadRequest, match="no text in the message"):
        await bot.edit_message_text("t", chat_id=USER_ID, message_id=sent.message_id)


async def test_user_sent_files_are_downloadable(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.users[USER_ID]
    image = png(120, 200)
    message = fake.send_photo(user, image, caption="my card")
    largest = message["photo"][-1]
    assert (largest["width"], largest["height"]) == (120, 200)
    downloaded = await bot.download(largest["file_id"])
    assert downloaded is not None and downloaded.read() == image

    document = fake.send_document(user, b"%PDF-1.4", "scan.pdf", "application/pdf")
    file = await bot.get_file(document["document"]["file_id"])
    assert file.file_path is not None and file.file_path.endswith(".pdf")
    assert fake.files[document["document"]["file_id"]] == b"%PDF-1.4"

    contact = fake.send_contact(user, "+380501234567", USER_ID)
    assert contact["contact"] == {
        "phone_number": "+380501234567",
        "first_name": "Ann",
        "user_id": USER_ID,
    }
    updates = await bot.get_updates()
    assert [u.message.content_type for u in updates if u.message] == [
        "photo",
        "document",
        "contact",
    ]
    with pytest.raises(ValueError, match="real image"):
        fake.send_photo(user, b"garbage")


async def test_callback_queries(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER_ID, "Pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    msg = await fake.next_message(USER_ID)
    user = fake.users[USER_ID]
    query_id = fake.press(user, msg, msg.callback("Yes"))
    forged = fake.press(user, msg, "admin:delete_everything")

    updates = await bot.get_updates()
    queries = [u.callback_query for u in updates if u.callback_query]
    assert [q.data for q in queries] == ["y", "admin:delete_everything"]
    first = queries[0]
    assert isinstance(first, CallbackQuery) and first.id == query_id
    assert isinstance(first.message, Message) and first.message.message_id == msg.message_id

    assert await bot.answer_callback_query(query_id, text="Done", show_alert=True)
    assert fake.callback_answers[query_id] == {
        "callback_query_id": query_id,
        "text": "Done",
        "show_alert": True,
    }
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(query_id)  # answered twice
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("1234")
    assert await bot.answer_callback_query(forged)

    await bot.delete_message(USER_ID, msg.message_id)
    with pytest.raises(AssertionError, match="deleted"):
        fake.press(user, msg, "y")


async def test_long_polling_and_offsets(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.users[USER_ID]
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda: fake.waiting_polls == 1, timeout=2)
    fake.send_message(user, "late")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.5  # delivered as soon as it arrived
    assert [u.message.text for u in updates if u.message] == ["late"]
    first_id = updates[0].update_id

    # Not confirmed yet: delivered again.
    assert fake.pending_updates == 1
    assert [u.update_id for u in await bot.get_updates()] == [first_id]

    for text in ("a", "b", "c"):
        fake.send_message(user, text)
    batch = await bot.get_updates(offset=first_id + 1, limit=2)
    assert [u.message.text for u in batch if u.message] == ["a", "b"]
    assert fake.pending_updates == 3
    rest = await bot.get_updates(offset=batch[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["c"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []
    assert fake.pending_updates == 0


async def test_concurrent_polls_conflict(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda: fake.waiting_polls == 1, timeout=2)
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    fake.send_message(fake.users[USER_ID], "x")
    assert len(await asyncio.wait_for(second, 2)) == 1


async def test_dispatcher_polling_end_to_end(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    handled: list[str] = []

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        handled.append(message.text or "")
        await message.answer(f"echo: {html.escape(message.text or '')}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        user = fake.users[USER_ID]
        for text in ("one", "<two>", "three"):
            fake.send_message(user, text)
        replies = [(await fake.next_message(USER_ID, timeout=3)).text for _ in range(3)]
        assert sorted(replies) == ["echo: <two>", "echo: one", "echo: three"]
        await fake.idle()
        assert sorted(handled) == ["<two>", "one", "three"]  # each update exactly once
        assert fake.pending_updates == 0
        poll = await fake.wait_call("getUpdates", lambda c: "allowed_updates" in c.params)
        assert poll.params["allowed_updates"] == ["message"]
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 3)


async def test_stop_releases_long_poll(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for(lambda: fake.waiting_polls == 1, timeout=2)
    started = time.monotonic()
    await fake.stop()
    assert await asyncio.wait_for(poll, 2) == []
    assert time.monotonic() - started < 1.5


async def test_retry_after_injection(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(USER_ID, "x")
    assert info.value.retry_after == 7
    assert fake.requests[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert fake.messages(USER_ID) == []
    await bot.send_message(USER_ID, "x")  # only the next call fails
    fake.fail_next("editMessageText", 400, "Bad Request: something odd", retry_after=None)
    with pytest.raises(TelegramBadRequest, match="something odd"):
        await bot.edit_message_text("y", chat_id=USER_ID, message_id=1)


async def test_blocked_user(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "before")
    fake.block(USER_ID)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "after")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(USER_ID, "typing")
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("edited", chat_id=USER_ID, message_id=sent.message_id)
    assert [m.text for m in fake.messages(USER_ID)] == ["before"]
    # Writing to the bot again means the user unblocked it.
    fake.send_message(fake.users[USER_ID], "/start")
    await bot.send_message(USER_ID, "welcome back")


async def test_commands_per_language(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [
            BotCommand(command="start", description="Старт"),
            BotCommand(command="card", description="Картка"),
        ],
        language_code="uk",
    )
    await bot.set_my_commands(
        [BotCommand(command="help", description="Help")], scope=BotCommandScopeAllPrivateChats()
    )
    assert fake.commands == {
        None: [{"command": "start", "description": "Start"}],
        "uk": [
            {"command": "start", "description": "Старт"},
            {"command": "card", "description": "Картка"},
        ],
    }
    assert [c.command for c in await bot.get_my_commands(language_code="uk")] == ["start", "card"]
    assert await bot.get_my_commands(language_code="de") == []

    for bad in (
        BotCommand(command="Start", description="x"),
        BotCommand(command="/start", description="x"),
        BotCommand(command="a" * 33, description="x"),
        BotCommand(command="ok", description="d" * 257),
    ):
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND"):
            await bot.set_my_commands([bad])
    assert await bot.delete_my_commands(language_code="uk")
    assert "uk" not in fake.commands

    assert await bot.set_my_description("A loyalty card", language_code="en")
    assert await bot.set_my_short_description("Card")
    assert fake.descriptions == {"en": "A loyalty card"}
    assert fake.short_descriptions == {None: "Card"}
    assert await bot.set_chat_menu_button()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.send_chat_action(USER_ID, "upload_photo")


async def test_waiting_helpers_fail_fast_with_context(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER_ID, "first")
    assert (await fake.next_message(USER_ID, timeout=0.5)).text == "first"
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"(?s)no new bot message.*sendMessage"):
        await fake.next_message(USER_ID, timeout=0.1)
    with pytest.raises(AssertionError, match="condition not met"):
        await fake.wait_for(lambda: False, timeout=0.1)
    assert time.monotonic() - started < 1

    # wait_call hands out each call once, oldest first.
    await bot.send_message(USER_ID, "second")
    assert (await fake.wait_call("sendMessage")).params["text"] == "first"
    assert (await fake.wait_call("sendmessage")).params["text"] == "second"
    with pytest.raises(AssertionError, match="no matching sendMessage"):
        await fake.wait_call("sendMessage", timeout=0.1)

    # wait_for returns the predicate's value once it turns truthy.
    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(USER_ID, "third")

    task = asyncio.create_task(later())
    found = await fake.wait_for(
        lambda: next((m for m in fake.messages(USER_ID) if m.text == "third"), None), timeout=2
    )
    assert found.text == "third"
    await task
