"""Receiving updates by webhook: an aiohttp server on WEBHOOK_LISTEN whose handler checks
Telegram's secret header, and the address Telegram is told to post to."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram"


async def start_webhook(
    bot: Bot, dispatcher: Dispatcher, settings: Settings
) -> tuple[web.AppRunner, SimpleRequestHandler]:
    """Listen and tell Telegram where to send updates. A request without the secret header
    gets 401 from aiogram's handler and changes nothing."""
    assert settings.webhook_url
    app = web.Application()
    handler = SimpleRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=settings.webhook_secret
    )
    handler.register(app, path=WEBHOOK_PATH)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    await bot.set_webhook(
        settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
        secret_token=settings.webhook_secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
    )
    log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
    return runner, handler
