"""A bare aiogram echo bot: the framework's ceiling in the desk benchmark.

BOT_TOKEN=... BOT_API_URL=http://127.0.0.1:PORT python -m bench.echo_bot

With ECHO_SESSION=bot it talks to the Bot API through the loyalty bot's own session
(JSON bodies over its keep-alive client) instead of aiogram's: the same transport as the
desk, to tell the desk's own work from the cost of the calls.
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.session import create_session


async def main() -> None:
    api_url = os.environ["BOT_API_URL"]
    session = (
        create_session(api_url)
        if os.environ.get("ECHO_SESSION") == "bot"
        else AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    )
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
