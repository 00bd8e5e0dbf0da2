"""Composition root: builds the Bot, the Dispatcher and everything they share, and runs them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand

from bot.broadcast import Broadcaster
from bot.config import Settings
from bot.handlers import build_routers
from bot.i18n import LANGUAGES, N_, CustomerLocaleMiddleware, build_i18n
from bot.jobs import Jobs
from bot.middlewares import IdentityMiddleware, ThrottleMiddleware
from bot.program import Program, load_program
from bot.session import create_session
from bot.shop import Shop
from storage import Storage, open_storage

log = logging.getLogger(__name__)

COMMANDS: tuple[tuple[str, str], ...] = (
    ("card", N_("Show my loyalty card")),
    ("balance", N_("My points")),
    ("history", N_("Points history")),
    ("settings", N_("Language, phone, birthday, promotions")),
    ("language", N_("Change language")),
    ("offers", N_("My offers")),
    ("invite", N_("Invite friends")),
    ("program", N_("How the program works")),
    ("give", N_("Give points to a good cause")),
    ("help", N_("How it works")),
    ("forget", N_("Delete my data")),
)


def create_bot(settings: Settings) -> Bot:
    return Bot(
        settings.bot_token,
        session=create_session(settings.bot_api_url),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_dispatcher(shop: Shop) -> Dispatcher:
    dp = Dispatcher(storage=MemoryStorage(), shop=shop)
    identity = IdentityMiddleware(shop.storage, shop.settings.owner_ids, shop.program.stamps)
    locale = CustomerLocaleMiddleware(shop.i18n)
    throttle = ThrottleMiddleware()
    # Order matters: the customer is loaded first, so their saved language picks the locale;
    # throttling comes after, so its "slow down" speaks that language.
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(identity)
        observer.outer_middleware(locale)
        observer.outer_middleware(throttle)
    dp.include_routers(*build_routers(shop.i18n))
    return dp


async def register_commands(bot: Bot, shop: Shop) -> None:
    """The command menu in every language, and the shop's default for everyone else."""
    for language in (None, *LANGUAGES):
        locale = language or shop.settings.default_locale
        commands = [
            BotCommand(command=name, description=shop.i18n.gettext(text, locale=locale))
            for name, text in COMMANDS
            if (name != "give" or shop.program.cause)
            and (name != "invite" or shop.program.referrals)
        ]
        await bot.set_my_commands(commands, language_code=language)


@dataclass
class Application:
    """A running bot: what tests start in-process and `python -m bot` runs until a signal."""

    bot: Bot
    dispatcher: Dispatcher
    shop: Shop
    jobs: Jobs
    broadcaster: Broadcaster
    closed: bool = False

    @classmethod
    async def create(cls, settings: Settings, program: Program | None = None) -> Application:
        program = program or load_program(settings.program_file)
        storage: Storage = await open_storage(settings.database_path)
        shop = Shop(settings, program, storage, build_i18n(settings.default_locale))
        bot = create_bot(settings)
        dispatcher = create_dispatcher(shop)
        broadcaster = Broadcaster(bot, shop)
        dispatcher["broadcaster"] = broadcaster
        return cls(bot, dispatcher, shop, Jobs(bot, shop), broadcaster)

    async def prepare(self) -> None:
        me = await self.bot.get_me()
        log.info("running as @%s (id %s)", me.username, me.id)
        await register_commands(self.bot, self.shop)
        self.jobs.start()
        self.broadcaster.start()

    async def run(self, handle_signals: bool = True) -> None:
        try:
            await self.prepare()
            await self.dispatcher.start_polling(
                self.bot, handle_signals=handle_signals, close_bot_session=False
            )
        finally:
            await self.close()

    async def stop(self) -> None:
        if self.dispatcher._running_lock.locked():
            await self.dispatcher.stop_polling()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.broadcaster.stop()
        await self.jobs.stop()
        await self.bot.session.close()
        await self.shop.storage.close()


async def run(settings: Settings, program: Program) -> None:
    app = await Application.create(settings, program)
    await app.run()


def run_forever(settings: Settings, program: Program) -> None:
    asyncio.run(run(settings, program))
