"""What the app is built from: the Bot, the Dispatcher with its middlewares and routers in
order, and the command menus in every language."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import BotCommand

from bot.config import Settings
from bot.domain.marks import N_
from bot.domain.program.editing import ProgramDrafts
from bot.handlers import install
from bot.i18n import LANGUAGES
from bot.i18n.middleware import CustomerLocaleMiddleware
from bot.shop import Shop
from bot.telegram.fsm import ForgetfulMemoryStorage
from bot.telegram.middlewares import (
    IdentityMiddleware,
    OnceMiddleware,
    RateWindow,
    ThrottleMiddleware,
)
from bot.telegram.session import create_session
from bot.telegram.steps import Commands, LeaveStepOnCommand

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
    dp["drafts"] = ProgramDrafts()  # the owner's program changes awaiting Confirm
    # Telegram may deliver an update again (a webhook retry, a poll repeated after a crash).
    dp.update.outer_middleware(OnceMiddleware())
    identity = IdentityMiddleware(shop.storage, shop.settings.owner_ids, shop.live)
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
