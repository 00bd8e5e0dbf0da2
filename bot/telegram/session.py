"""The HTTP session to the Bot API, and what keeps it fast under load."""

from __future__ import annotations

import contextlib
import datetime
import json
from enum import Enum
from http import HTTPStatus
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, TelegramObject
from aiohttp import BytesPayload, FormData
from pydantic import ValidationError

from bot.telegram.pacing import RetryAfter, SendPacer


class KeepResponseTypes(BaseRequestMiddleware):
    """Hold every `Response[T]` the session parses so pydantic never has to rebuild it.

    aiogram parametrizes `Response[method.__returning__]` on every reply, and pydantic caches
    generic parametrizations only weakly: each garbage collection drops them and the next
    reply rebuilds the model class (about 10 ms of CPU each). Under load that happened
    hundreds of times a minute; one strong reference per return type ends it.
    """

    def __init__(self) -> None:
        self._kept: dict[Any, type[Response[Any]]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._kept:
            self._kept[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)


# Fields of a returned Message that only repeat what the bot sent, and the field of the
# method that sent them: a forwarded message's keyboard and formatting are not the bot's.
ECHOED = {"reply_markup": "reply_markup", "entities": "text", "caption_entities": "caption"}


PLAIN = frozenset({str, int, bool, float})


class HasFiles(Exception):
    """The method uploads a file: it has to go as multipart form data."""


def json_value(value: Any, bot: Bot) -> Any:
    """`value` as the Bot API takes it in a JSON body: aiogram's `prepare_value` rules
    (defaults resolved, None left out, dates as Unix time, enums by value) without the
    form encoding's JSON-in-a-string."""
    if value is None or type(value) in PLAIN:
        return value
    if isinstance(value, Default):
        return json_value(bot.default[value.name], bot)
    if isinstance(value, dict):
        return {
            key: item for key, raw in value.items() if (item := json_value(raw, bot)) is not None
        }
    if isinstance(value, list | tuple):
        return [item for raw in value if (item := json_value(raw, bot)) is not None]
    if isinstance(value, InputFile):
        raise HasFiles
    if isinstance(value, datetime.timedelta):
        return round((datetime.datetime.now() + value).timestamp())  # local, as aiogram
    if isinstance(value, datetime.datetime):
        return round(value.timestamp())
    if isinstance(value, Enum):
        return json_value(value.value, bot)
    if isinstance(value, TelegramObject):
        return json_value(value.model_dump(warnings=False), bot)
    return value


def json_body(method: TelegramMethod[Any], bot: Bot) -> bytes:
    """The method's fields as a JSON object; HasFiles if one of them is an upload."""
    fields = json_value(method.model_dump(warnings=False, exclude_none=True), bot)
    # The form encoding leaves out empty strings as well as None; keep requests identical.
    body = {key: value for key, value in fields.items() if value != ""}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class BotApiSession(AiohttpSession):
    """aiogram's aiohttp session, with every call that uploads nothing sent as a JSON body
    (uploads keep aiogram's multipart form), and sent messages parsed without their echo."""

    def __init__(self, api: TelegramAPIServer = PRODUCTION, proxy: str | None = None) -> None:
        super().__init__(proxy=proxy, api=api)
        self.pacer = SendPacer()  # create_session installs it as a middleware

    def build_form_data(  # type: ignore[override]
        self, bot: Bot, method: TelegramMethod[TelegramType]
    ) -> FormData | BytesPayload:
        """The body aiogram's `make_request` posts: JSON unless a file goes with it. Both
        carry the same fields (a test compares them); JSON is cheaper to build, and nested
        values (keyboards, entities) are not encoded as JSON inside form fields."""
        try:
            body = json_body(method, bot)
        except HasFiles:
            return super().build_form_data(bot, method)
        return BytesPayload(body, content_type="application/json")

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        """aiogram's check, except that a sent message comes back without the keyboard and
        formatting the bot gave it.

        Telegram echoes both in the returned Message, and validating them back into button
        and entity objects costs more than the rest of the message: a desk reply carries up
        to a dozen buttons and several bold words. The bot never reads what it has just sent
        (it knows), so those fields are dropped before validation; `text` and `caption` stay,
        as plain text (`html_text` of a returned message has no tags). Only what the method
        supplied is dropped: a forwarded message keeps its own. Errors and anything unusual
        take aiogram's own path.
        """
        if HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            with contextlib.suppress(ValueError, ValidationError):
                data = json.loads(content)
                if isinstance(data, dict) and data.get("ok") is True:
                    if isinstance(result := data.get("result"), dict):
                        sent = type(method).model_fields
                        for key, source in ECHOED.items():
                            if source in sent:
                                result.pop(key, None)
                    kind = Response[method.__returning__]  # type: ignore[name-defined]
                    return kind.model_validate(data, context={"bot": bot})
        return super().check_response(bot, method, status_code, content)


def create_session(
    api_url: str | None, pacer: SendPacer | None = None, proxy: str | None = None
) -> BotApiSession:
    """The bot's session: every message it sends keeps to one pace (`pacer`, shared with the
    broadcaster through the session), every call waits out a 429 and tries again, and with
    `proxy` (http://, socks4:// or socks5://) every call goes through that proxy."""
    api = TelegramAPIServer.from_base(api_url) if api_url else PRODUCTION
    session = BotApiSession(api, proxy=proxy)
    session.pacer = pacer or SendPacer()
    session.middleware(KeepResponseTypes())
    session.middleware(RetryAfter(session.pacer))
    return session
