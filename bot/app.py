"""Composition root: builds the Bot, the Dispatcher and everything they share, and runs them."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import BotCommand
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot import redact
from bot.broadcast import Broadcaster, audience_filter
from bot.config import Settings
from bot.fsm import ForgetfulMemoryStorage
from bot.handlers import install
from bot.i18n import LANGUAGES, N_, CustomerLocaleMiddleware, build_i18n
from bot.jobs import Jobs
from bot.middlewares import (
    IdentityMiddleware,
    OnceMiddleware,
    RateWindow,
    ThrottleMiddleware,
)
from bot.program import Program, load_program
from bot.shop import Shop
from bot.steps import Commands, LeaveStepOnCommand
from bot.telegram.session import create_session
from storage import Storage, open_storage

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram"
SHUTDOWN_GRACE = 5.0  # seconds in-flight updates get to finish on SIGTERM

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
        session=create_session(settings.bot_api_url, proxy=settings.bot_proxy),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_dispatcher(shop: Shop) -> Dispatcher:
    # `bookings`: confirmations per cashier a minute, handed to the desk's handlers.
    bookings = RateWindow(shop.settings.cashier_bookings_per_minute, 60)
    dp = Dispatcher(storage=ForgetfulMemoryStorage(), shop=shop, bookings=bookings)
    # Telegram may deliver an update again (a webhook retry, a poll repeated after a crash).
    dp.update.outer_middleware(OnceMiddleware())
    identity = IdentityMiddleware(shop.storage, shop.settings.owner_ids, shop.program.stamps)
    locale = CustomerLocaleMiddleware(shop.i18n)
    throttle = ThrottleMiddleware()
    # Order matters: the customer is loaded first, so their saved language picks the locale;
    # throttling comes after, so its "slow down" speaks that language.
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(identity)
        observer.outer_middleware(locale)
        observer.outer_middleware(throttle)
    install(dp, shop.i18n)
    # Last, once every handler is in place: a command typed during a step leaves the step.
    dp.message.outer_middleware(LeaveStepOnCommand(Commands.of(dp)))
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
    webhook: SimpleRequestHandler | None = None  # set while serving a webhook

    @classmethod
    async def create(cls, settings: Settings, program: Program | None = None) -> Application:
        program = program or load_program(settings.program_file)
        redact.install(settings.bot_token)  # before anything can log a URL
        storage: Storage = await open_storage(settings.database_path, audiences=audience_filter)
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
            if self.shop.settings.webhook_url:
                await self.serve_webhook(handle_signals)
            else:
                await self.bot.delete_webhook()  # polling and a webhook cannot both be set
                await self.dispatcher.start_polling(
                    self.bot, handle_signals=handle_signals, close_bot_session=False
                )
        finally:
            await self.close()

    async def start_webhook(self) -> web.AppRunner:
        """Listen on WEBHOOK_LISTEN and tell Telegram where to send updates. A request
        without the secret header gets 401 from aiogram's handler and changes nothing."""
        settings = self.shop.settings
        assert settings.webhook_url
        app = web.Application()
        self.webhook = SimpleRequestHandler(
            dispatcher=self.dispatcher, bot=self.bot, secret_token=settings.webhook_secret
        )
        self.webhook.register(app, path=WEBHOOK_PATH)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        await self.bot.set_webhook(
            settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
            secret_token=settings.webhook_secret,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
        )
        log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
        return runner

    async def serve_webhook(self, handle_signals: bool) -> None:
        stopping = asyncio.Event()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signal_number, stopping.set)
        runner = await self.start_webhook()
        try:
            await stopping.wait()
        finally:
            await runner.cleanup()

    async def stop(self) -> None:
        if self.dispatcher._running_lock.locked():
            await self.dispatcher.stop_polling()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # Let updates already being handled finish (a few seconds at most) before the
        # database closes under them; what is still running then is abandoned unbooked.
        # A webhook answers Telegram at once and handles the update in a task of its own:
        # Telegram will not send that update again, so it must not be dropped either.
        running = set(self.dispatcher._handle_update_tasks)
        if self.webhook is not None:
            running |= set(self.webhook._background_feed_update_tasks)
        if running:
            _done, pending = await asyncio.wait(running, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.broadcaster.stop()
        await self.jobs.stop()
        await self.bot.session.close()
        await self.shop.storage.close()


async def run(settings: Settings, program: Program) -> None:
    app = await Application.create(settings, program)
    await app.run()


def run_forever(settings: Settings, program: Program) -> None:
    asyncio.run(run(settings, program))
