"""Keyboards and the callback data they carry (opaque, small, validated on arrival)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import LANGUAGE_NAMES, N_, _

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
    page: int


class SettingsCb(CallbackData, prefix="set"):
    action: str


class ForgetCb(CallbackData, prefix="forget"):
    confirm: bool


def column(buttons: list[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """One button per row: the shape of every list the bot offers to pick from."""
    builder = InlineKeyboardBuilder()
    for label, data in buttons:
        builder.button(text=label, callback_data=data)
    builder.adjust(1)
    return builder.as_markup()


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
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        mark = "✅ " if code == current else ""
        builder.button(text=mark + name, callback_data=LanguageCb(code=code))
    builder.adjust(2)
    return builder.as_markup()


def history_pages(page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    builder = InlineKeyboardBuilder()
    if page > 0:
        builder.button(text=_("◀ Newer"), callback_data=HistoryCb(page=page - 1))
    if page < pages - 1:
        builder.button(text=_("Older ▶"), callback_data=HistoryCb(page=page + 1))
    return builder.as_markup()


def settings_menu(promotions: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🌐 Language"), callback_data=SettingsCb(action="language"))
    builder.button(text=_("📱 Phone number"), callback_data=SettingsCb(action="phone"))
    builder.button(text=_("🎂 Birthday"), callback_data=SettingsCb(action="birthday"))
    builder.button(
        text=_("🔔 Promotions: on") if promotions else _("🔕 Promotions: off"),
        callback_data=SettingsCb(action="promotions"),
    )
    builder.button(text=_("🗑 Forget me"), callback_data=SettingsCb(action="forget"))
    builder.adjust(1)
    return builder.as_markup()


def forget_confirm() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, delete my data"), callback_data=ForgetCb(confirm=True))
    builder.button(text=_("No, keep my card"), callback_data=ForgetCb(confirm=False))
    builder.adjust(1)
    return builder.as_markup()


# --- the cashier's desk -------------------------------------------------------------------


class DeskCb(CallbackData, prefix="desk"):
    """An action on the customer open at the desk; `view` ties it to that one staff view."""

    action: str
    view: str


class OpCb(CallbackData, prefix="op"):
    """Confirm or cancel a drafted operation; the id is opaque and carries nothing else."""

    id: str
    ok: bool


class PickCb(CallbackData, prefix="pick"):
    """Choose one of the operations listed for a refund, within one staff view."""

    view: str
    entry: int


class StaffCb(CallbackData, prefix="staff"):
    action: str
    who: int = 0


class RewardCb(CallbackData, prefix="rw"):
    """A reward from the program's catalogue, by position, within one staff view."""

    view: str
    index: int


class OfferCb(CallbackData, prefix="ofr"):
    """Apply one of the open customer's offers to the next purchase, within one staff view."""

    view: str
    id: int


def desk_actions(
    view: str, stamps: bool = False, offers: list[tuple[int, str]] | None = None
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🛒 Purchase"), callback_data=DeskCb(action="purchase", view=view))
    builder.button(
        text=_("🎁 Give reward") if stamps else _("🎁 Spend points"),
        callback_data=DeskCb(action="redeem", view=view),
    )
    builder.button(text=_("↩️ Refund or undo"), callback_data=DeskCb(action="refund", view=view))
    for offer_id, label in offers or []:
        builder.button(text=label, callback_data=OfferCb(view=view, id=offer_id))
    builder.adjust(2, 1, *([1] * len(offers or [])))
    return builder.as_markup()


def confirm_operation(operation_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=OpCb(id=operation_id, ok=True))
    builder.button(text=_("✖ Cancel"), callback_data=OpCb(id=operation_id, ok=False))
    return builder.as_markup()


def customer_decision(operation_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Yes, spend them"), callback_data=OpCb(id=operation_id, ok=True))
    builder.button(text=_("✖ No"), callback_data=OpCb(id=operation_id, ok=False))
    return builder.as_markup()


def cancel_only(operation_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✖ Cancel"), callback_data=OpCb(id=operation_id, ok=False))
    return builder.as_markup()


def spend_all(view: str, points_label: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=points_label, callback_data=DeskCb(action="redeem_max", view=view))
    return builder.as_markup()


def rewards(view: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    if not choices:
        return None
    return column([(label, RewardCb(view=view, index=index)) for index, label in choices])


def full_refund(view: str, label: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=label, callback_data=DeskCb(action="refund_full", view=view))
    return builder.as_markup()


def operations_to_reverse(view: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return column([(label, PickCb(view=view, entry=entry_id)) for entry_id, label in choices])


def staff_list(cashiers: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("👤 Invite a cashier"), callback_data=StaffCb(action="invite"))
    for telegram_id, name in cashiers:
        builder.button(
            text=_("✖ Remove {name}", name=name[:24]),
            callback_data=StaffCb(action="revoke", who=telegram_id),
        )
    builder.adjust(1)
    return builder.as_markup()


class GiveCb(CallbackData, prefix="give"):
    """Confirm or drop a donation the customer drafted; the id is opaque."""

    id: str
    ok: bool


def donation_decision(operation_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("💚 Yes, give them"), callback_data=GiveCb(id=operation_id, ok=True))
    builder.button(text=_("✖ No"), callback_data=GiveCb(id=operation_id, ok=False))
    return builder.as_markup()


class InviteCb(CallbackData, prefix="invite"):
    """The card's "invite friends" button; it carries nothing."""


def card_buttons() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_(MENU_INVITE), callback_data=InviteCb())
    return builder.as_markup()


def share(url: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📤 Share with friends"), url=url)
    return builder.as_markup()


class PromoCb(CallbackData, prefix="promo"):
    """The "stop promotions" button under every promotion; it carries nothing else."""

    on: bool


def promotion(link: tuple[str, str] | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if link is not None:
        builder.button(text=link[0], url=link[1])
    builder.button(text=_("🔕 Stop promotions"), callback_data=PromoCb(on=False))
    builder.adjust(1)
    return builder.as_markup()


class AudienceCb(CallbackData, prefix="aud"):
    index: int


class SendCb(CallbackData, prefix="send"):
    action: str


class BroadcastCb(CallbackData, prefix="bc"):
    id: int


def audiences(labels: list[str]) -> InlineKeyboardMarkup:
    return column([(label, AudienceCb(index=index)) for index, label in enumerate(labels)])


def send_choices(can_send: bool, holdout: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if can_send:
        builder.button(text=_("📣 Send now"), callback_data=SendCb(action="now"))
        builder.button(text=_("🕒 Schedule"), callback_data=SendCb(action="schedule"))
        builder.button(
            text=_("Holdout 10%: on") if holdout else _("Holdout 10%: off"),
            callback_data=SendCb(action="holdout"),
        )
    builder.button(text=_("✖ Discard"), callback_data=SendCb(action="discard"))
    builder.adjust(2, 1, 1)
    return builder.as_markup()


class ResultsCb(CallbackData, prefix="bcr"):
    id: int


def broadcast_list(
    choices: list[tuple[int, str]], results: list[tuple[int, str]]
) -> InlineKeyboardMarkup:
    return column(
        [(label, BroadcastCb(id=broadcast_id)) for broadcast_id, label in choices]
        + [(label, ResultsCb(id=broadcast_id)) for broadcast_id, label in results]
    )


class OfferKindCb(CallbackData, prefix="ofk"):
    kind: str


class OfferAudienceCb(CallbackData, prefix="ofa"):
    index: int


class OfferSendCb(CallbackData, prefix="ofs"):
    action: str


class OfferResultsCb(CallbackData, prefix="ofres"):
    id: int


def offer_kinds(labels: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return column([(label, OfferKindCb(kind=kind)) for kind, label in labels])


def offer_audiences(labels: list[str]) -> InlineKeyboardMarkup:
    return column([(label, OfferAudienceCb(index=index)) for index, label in enumerate(labels)])


def offer_send(can_send: bool, holdout: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if can_send:
        builder.button(text=_("🎁 Send the offer"), callback_data=OfferSendCb(action="send"))
        builder.button(
            text=_("Holdout 10%: on") if holdout else _("Holdout 10%: off"),
            callback_data=OfferSendCb(action="holdout"),
        )
    builder.button(text=_("✖ Discard"), callback_data=OfferSendCb(action="discard"))
    builder.adjust(1)
    return builder.as_markup()


def offer_results(choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return column([(label, OfferResultsCb(id=offer_id)) for offer_id, label in choices])


class StatsCb(CallbackData, prefix="stats"):
    days: int


def stats_periods() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for days in (7, 30, 90):
        builder.button(text=_("{days} days", days=days), callback_data=StatsCb(days=days))
    builder.adjust(3)
    return builder.as_markup()
