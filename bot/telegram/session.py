"""The HTTP session to the Bot API, and what keeps it fast under load."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
from collections.abc import AsyncGenerator
from enum import Enum
from http import HTTPStatus
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, TelegramObject
from pydantic import ValidationError

from bot.http_client import HttpError, KeepAliveClient, Origin
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


class BotApiSession(BaseSession):
    """aiogram's session, with every call that uploads nothing sent as JSON over
    `KeepAliveClient`; uploads and file downloads go through aiogram's aiohttp session."""

    def __init__(self, api: TelegramAPIServer = PRODUCTION) -> None:
        super().__init__(api=api)
        self.files = AiohttpSession(api=api)
        self._clients: dict[Origin, KeepAliveClient] = {}
        self._targets: dict[tuple[str, str], tuple[Origin, bytes]] = {}
        self.pacer = SendPacer()  # create_session installs it as a middleware

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        try:
            body = json_body(method, bot)
        except HasFiles:
            return await self.files.make_request(
                bot, method, self.timeout if timeout is None else timeout
            )
        origin, target = self._target(bot.token, method.__api_method__)
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = KeepAliveClient(origin)
        try:
            status, content = await client.post(
                target, body, self.timeout if timeout is None else timeout
            )
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except (HttpError, OSError) as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(method=method, message=message) from exc
        response = self.check_response(
            bot=bot,
            method=method,
            status_code=status,
            content=content.decode("utf-8", errors="replace"),
        )
        return cast(TelegramType, response.result)

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
        supplied is dropped: a forwarded message keeps its own. Uploads, which go through
        aiohttp, come back whole. Errors and anything unusual take aiogram's own path.
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

    def _target(self, token: str, name: str) -> tuple[Origin, bytes]:
        key = (token, name)
        found = self._targets.get(key)
        if found is None:
            found = self._targets[key] = Origin.of(self.api.api_url(token=token, method=name))
        return found

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        stream = self.files.stream_content(url, headers, timeout, chunk_size, raise_for_status)
        async for chunk in stream:
            yield chunk

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(client.close() for client in clients))
        await self.files.close()


def create_session(api_url: str | None, pacer: SendPacer | None = None) -> BotApiSession:
    """The bot's session: every message it sends keeps to one pace (`pacer`, shared with the
    broadcaster through the session), and every call waits out a 429 and tries again."""
    session = BotApiSession(TelegramAPIServer.from_base(api_url) if api_url else PRODUCTION)
    session.pacer = pacer or SendPacer()
    session.middleware(KeepResponseTypes())
    session.middleware(RetryAfter(session.pacer))
    return session
