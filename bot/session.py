"""The HTTP session to the Bot API, and what keeps it fast under load."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


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


def create_session(api_url: str | None) -> AiohttpSession:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    )
    session.middleware(KeepResponseTypes())
    return session
