"""The customer's side: joining, the card, the profile, the program, and their answers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter

from bot.handlers.customer import answers, card, join, profile, program
from bot.handlers.customer.profile import Profile
from bot.handlers.customer.program import Giving
from bot.i18n import CatalogI18n
from bot.keyboards.common import OpCb
from bot.keyboards.customer import (
    MENU_BALANCE,
    MENU_CARD,
    MENU_HISTORY,
    MENU_INVITE,
    MENU_SETTINGS,
    SKIP,
    ForgetCb,
    GiveCb,
    HistoryCb,
    InviteCb,
    LanguageCb,
    PromoCb,
    SettingsCb,
)
from bot.telegram.filters import MenuText, OnLoop


def build_answers_router() -> Router:
    """Customers answer spending requests; the presser is checked against the request."""
    router = Router(name="customer-answers")
    router.callback_query.register(answers.customer_decides, OpCb.filter())
    return router


def build_program_router() -> Router:
    router = Router(name="program")
    router.message.register(program.show_program, Command("program"))
    router.message.register(program.give, Command("give"))
    router.message.register(
        program.give_amount, StateFilter(Giving.amount), OnLoop(F.text & ~F.text.startswith("/"))
    )
    router.callback_query.register(program.give_decided, GiveCb.filter())
    return router


def build_opt_out_router() -> Router:
    router = Router(name="promotion-opt-out")
    router.callback_query.register(answers.opt_out, PromoCb.filter())
    return router


def build_router(i18n: CatalogI18n) -> Router:
    """Commands and menu labels first, then the profile steps' states. A menu label
    matches in every language (`i18n` holds them all)."""
    router = Router(name="customer")
    message, callback = router.message, router.callback_query
    message.register(join.start, CommandStart())
    message.register(card.card, MenuText(i18n, MENU_CARD))
    message.register(card.card, Command("card"))
    message.register(card.invite, MenuText(i18n, MENU_INVITE))
    message.register(card.invite, Command("invite"))
    callback.register(card.invite_button, InviteCb.filter())
    message.register(card.offers, Command("offers"))
    message.register(card.balance, MenuText(i18n, MENU_BALANCE))
    message.register(card.balance, Command("balance"))
    message.register(card.history, MenuText(i18n, MENU_HISTORY))
    message.register(card.history, Command("history"))
    callback.register(card.history_turn, HistoryCb.filter())
    message.register(profile.settings, MenuText(i18n, MENU_SETTINGS))
    message.register(profile.settings, Command("settings"))
    callback.register(profile.settings_action, SettingsCb.filter())
    message.register(profile.language, Command("language"))
    callback.register(profile.language_chosen, LanguageCb.filter())
    message.register(profile.phone_command, Command("phone"))
    message.register(profile.phone_shared, StateFilter(Profile.phone), OnLoop(F.contact))
    message.register(profile.phone_skipped, StateFilter(Profile.phone), MenuText(i18n, SKIP))
    message.register(profile.phone_other, StateFilter(Profile.phone))
    message.register(profile.birthday_command, Command("birthday"))
    message.register(profile.birthday_skipped, StateFilter(Profile.birthday), MenuText(i18n, SKIP))
    message.register(profile.birthday_typed, StateFilter(Profile.birthday), OnLoop(F.text))
    message.register(profile.birthday_other, StateFilter(Profile.birthday))
    message.register(profile.forget, Command("forget"))
    callback.register(profile.forget_answer, ForgetCb.filter())
    message.register(join.help_, Command("help"))
    message.register(
        profile.old_card_number, StateFilter(None), OnLoop(F.text.regexp(profile.OLD_NUMBER))
    )
    return router
