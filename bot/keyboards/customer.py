"""The customer's keyboards: the menu, settings, history pages, and the buttons on the
card, on a spending request, on a donation and under every promotion."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.domain.marks import N_
from bot.i18n import LANGUAGE_NAMES, _
from bot.keyboards.common import Int64, OpCb, button, column, inline

# Reply-keyboard labels; handlers match them in every language (see filters.MenuText).
MENU_CARD = N_("💳 My card")
MENU_BALANCE = N_("⭐ Balance")
MENU_HISTORY = N_("📜 History")
MENU_SETTINGS = N_("⚙️ Settings")
MENU_INVITE = N_("👥 Invite friends")
SHARE_PHONE = N_("📱 Share my phone number")
SKIP = N_("Skip")


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class HistoryCb(CallbackData, prefix="hist"):
    page: Int64


class SettingsCb(CallbackData, prefix="set"):
    action: str


class ForgetCb(CallbackData, prefix="forget"):
    confirm: bool


def main_menu() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_(MENU_CARD)), KeyboardButton(text=_(MENU_BALANCE))],
            [KeyboardButton(text=_(MENU_HISTORY)), KeyboardButton(text=_(MENU_SETTINGS))],
            [KeyboardButton(text=_(MENU_INVITE))],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def phone_request() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_(SHARE_PHONE), request_contact=True)],
            [KeyboardButton(text=_(SKIP))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def skip_only() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_(SKIP))]], resize_keyboard=True, one_time_keyboard=True
    )


def languages(current: str) -> InlineKeyboardMarkup:
    buttons = [
        button(("✅ " if code == current else "") + name, LanguageCb(code=code))
        for code, name in LANGUAGE_NAMES.items()
    ]
    return inline(*(buttons[start : start + 2] for start in range(0, len(buttons), 2)))


def history_pages(page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(button(_("◀ Newer"), HistoryCb(page=page - 1)))
    if page < pages - 1:
        row.append(button(_("Older ▶"), HistoryCb(page=page + 1)))
    return inline(row)


def settings_menu(promotions: bool) -> InlineKeyboardMarkup:
    return column(
        [
            (_("🌐 Language"), SettingsCb(action="language")),
            (_("📱 Phone number"), SettingsCb(action="phone")),
            (_("🎂 Birthday"), SettingsCb(action="birthday")),
            (
                _("🔔 Promotions: on") if promotions else _("🔕 Promotions: off"),
                SettingsCb(action="promotions"),
            ),
            (_("🗑 Forget me"), SettingsCb(action="forget")),
        ]
    )


def forget_confirm() -> InlineKeyboardMarkup:
    return column(
        [
            (_("Yes, delete my data"), ForgetCb(confirm=True)),
            (_("No, keep my card"), ForgetCb(confirm=False)),
        ]
    )


def customer_decision(operation_id: str) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("✅ Yes, spend them"), OpCb(id=operation_id, ok=True)),
            button(_("✖ No"), OpCb(id=operation_id, ok=False)),
        ]
    )


class GiveCb(CallbackData, prefix="give"):
    """Confirm or drop a donation the customer drafted; the id is opaque."""

    id: str
    ok: bool


def donation_decision(operation_id: str) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("💚 Yes, give them"), GiveCb(id=operation_id, ok=True)),
            button(_("✖ No"), GiveCb(id=operation_id, ok=False)),
        ]
    )


class InviteCb(CallbackData, prefix="invite"):
    """The card's "invite friends" button; it carries nothing."""


def card_buttons() -> InlineKeyboardMarkup:
    return inline([button(_(MENU_INVITE), InviteCb())])


def share(url: str) -> InlineKeyboardMarkup:
    return inline([InlineKeyboardButton(text=_("📤 Share with friends"), url=url)])


class PromoCb(CallbackData, prefix="promo"):
    """The "stop promotions" button under every promotion; it carries nothing else."""

    on: bool


def promotion(link: tuple[str, str] | None) -> InlineKeyboardMarkup:
    return inline(
        [InlineKeyboardButton(text=link[0], url=link[1])] if link is not None else [],
        [button(_("🔕 Stop promotions"), PromoCb(on=False))],
    )
