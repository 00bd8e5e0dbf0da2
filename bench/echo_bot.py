"""A bare aiogram echo bot: the framework's ceiling in the desk benchmark.

BOT_TOKEN=... BOT_API_URL=http://127.0.0.1:PORT python -m bench.echo_bot

ECHO_SESSION picks how it talks to the Bot API, to tell the desk's own work from the cost
of the calls: `aiogram` (the default: aiogram's session as it comes), `kept` (the same, plus
the loyalty bot's `KeepResponseTypes`, which spares pydantic rebuilding the reply models
after garbage collections), `bot` (the loyalty bot's whole session: JSON bodies through
its subclass of aiogram's aiohttp session, replies trimmed, paced; as the desk runs).
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.telegram.session import KeepResponseTypes, create_session


async def main() -> None:
    api_url = os.environ["BOT_API_URL"]
    kind = os.environ.get("ECHO_SESSION", "aiogram")
    if kind == "bot":
        session: BaseSession = create_session(api_url)
    else:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
        if kind == "kept":
            session.middleware(KeepResponseTypes())
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(dp.stop_polling()))
    await dp.start_polling(bot, handle_signals=False)


if __name__ == "__main__":
    asyncio.run(main())
