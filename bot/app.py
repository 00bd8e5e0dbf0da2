"""The app's lifecycle: builds the Bot, the Dispatcher and everything they share (see
`factory`), runs them by polling or webhook, and closes them in order."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings
from bot.domain.clock import utcnow
from bot.domain.marks import N_
from bot.domain.program.document import program_to_document
from bot.domain.program.editing import tier_renames
from bot.domain.program.live import LiveProgram, version_program
from bot.domain.program.loader import load_program
from bot.domain.program.model import Program
from bot.domain.promotions import audience_filter
from bot.factory import create_bot, create_dispatcher, register_commands
from bot.i18n import CatalogI18n, build_i18n
from bot.services.broadcaster import Broadcaster
from bot.services.jobs import Jobs
from bot.shop import Shop
from bot.telegram import redact
from bot.webhook import start_webhook
from storage import Storage, open_storage

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 5.0  # seconds in-flight updates get to finish on SIGTERM
WATCH_EVERY = 2.0  # seconds between two looks for a version saved by another process


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

    watcher: asyncio.Task[None] | None = None  # re-registers the menus after a change
    menus_for: int | None = None  # the program version the command menus were made for

    @classmethod
    async def create(
        cls, settings: Settings, program: Program | None = None, *, seed: Program | None = None
    ) -> Application:
        """`program` (tests, embedding) is put in force: it seeds an empty database and is
        saved as a new version when it differs from the one stored. Without it the database
        wins: `seed` (default: the program file) only fills an empty one."""
        redact.install(settings.bot_token)  # before anything can log a URL
        storage: Storage = await open_storage(settings.database_path, audiences=audience_filter)
        i18n = build_i18n(settings.default_locale)
        try:
            live = await start_program(storage, settings, i18n, program, seed)
        except BaseException:
            await storage.close()
            raise
        shop = Shop(settings, live, storage, i18n)
        bot = create_bot(settings)
        dispatcher = create_dispatcher(shop)
        broadcaster = Broadcaster(bot, shop)
        dispatcher["broadcaster"] = broadcaster
        return cls(bot, dispatcher, shop, Jobs(bot, shop), broadcaster)

    async def prepare(self) -> None:
        me = await self.bot.get_me()
        log.info("running as @%s (id %s)", me.username, me.id)
        await self.refresh_menus()
        self.jobs.start()
        self.broadcaster.start()
        self.watcher = asyncio.create_task(self.watch_program())

    async def refresh_menus(self) -> None:
        """The command menus for the program in force (/give only with a cause, …)."""
        version = self.shop.live.version
        await register_commands(self.bot, self.shop)
        self.menus_for = version

    async def watch_program(self) -> None:
        """Takes in versions another process saved, and keeps the menus in step with
        whichever change came last (an owner's confirm, an update's look, this one)."""
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                await self.shop.live.sync(self.shop.storage)
                if self.shop.live.version != self.menus_for:
                    await self.refresh_menus()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("checking the program version failed")

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
        runner, self.webhook = await start_webhook(self.bot, self.dispatcher, self.shop.settings)
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
        if self.watcher is not None:
            self.watcher.cancel()
            await asyncio.gather(self.watcher, return_exceptions=True)
        await self.broadcaster.stop()
        await self.jobs.stop()
        await self.bot.session.close()
        await self.shop.storage.close()


async def start_program(
    storage: Storage,
    settings: Settings,
    i18n: CatalogI18n,
    program: Program | None,
    seed: Program | None,
) -> LiveProgram:
    """The program in force at start-up (see `Application.create`)."""
    stored = await storage.program_version()
    if program is None and stored is None:
        program = seed or load_program(settings.program_file)
    if program is not None:
        if stored is not None and version_program(stored) == program:
            return LiveProgram(program, stored.number)
        saved = await storage.save_program_version(
            program_to_document(program),
            stored.number if stored else None,
            None,
            "file",
            utcnow(),
            renames=tier_renames(version_program(stored), program) if stored else None,
        )
        return LiveProgram(program, saved.number)
    assert stored is not None
    in_force = version_program(stored)
    if seed is not None and seed != in_force:
        line = i18n.gettext(
            N_(
                "The program in force is version {version} from the database, not "
                "{path}; to put the file in force: python -m bot program apply {path}"
            ),
            locale=settings.default_locale,
        )
        log.warning(line.format(version=stored.number, path=settings.program_file))
    return LiveProgram(in_force, stored.number)


async def run(settings: Settings, seed: Program) -> None:
    app = await Application.create(settings, seed=seed)
    await app.run()
