"""Keyboards and the callback data they carry (opaque, small, validated on arrival)."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from pydantic import Field

from bot.domain.marks import N_
from bot.i18n import LANGUAGE_NAMES, _

# Numbers in callback data are looked up in SQLite: a forged one beyond its 64-bit integers
# must fail to match (and get "no longer valid"), not overflow in the query.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]

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


def button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label, callback_data=data.pack())


def inline(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """A keyboard from rows of buttons, empty rows left out.

    Built directly rather than with aiogram's InlineKeyboardBuilder, which deep-copies every
    button when it exports the markup: at the desk that cost more than the rest of drawing
    the reply, and most desk replies carry a keyboard.
    """
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def column(buttons: list[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """One button per row: the shape of every list the bot offers to pick from."""
    return inline(*([button(label, data)] for label, data in buttons))


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
    entry: Int64


class StaffCb(CallbackData, prefix="staff"):
    action: str
    who: Int64 = 0


class RewardCb(CallbackData, prefix="rw"):
    """A reward from the program's catalogue, by position, within one staff view."""

    view: str
    index: Int64


class OfferCb(CallbackData, prefix="ofr"):
    """Apply one of the open customer's offers to the next purchase, within one staff view."""

    view: str
    id: Int64


def desk_actions(
    view: str, stamps: bool = False, offers: list[tuple[int, str]] | None = None
) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("🛒 Purchase"), DeskCb(action="purchase", view=view)),
            button(
                _("🎁 Give reward") if stamps else _("🎁 Spend points"),
                DeskCb(action="redeem", view=view),
            ),
        ],
        [button(_("↩️ Refund or undo"), DeskCb(action="refund", view=view))],
        *([button(label, OfferCb(view=view, id=offer_id))] for offer_id, label in offers or []),
    )


def confirm_operation(operation_id: str) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("✅ Confirm"), OpCb(id=operation_id, ok=True)),
            button(_("✖ Cancel"), OpCb(id=operation_id, ok=False)),
        ]
    )


def customer_decision(operation_id: str) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("✅ Yes, spend them"), OpCb(id=operation_id, ok=True)),
            button(_("✖ No"), OpCb(id=operation_id, ok=False)),
        ]
    )


def cancel_only(operation_id: str) -> InlineKeyboardMarkup:
    return inline([button(_("✖ Cancel"), OpCb(id=operation_id, ok=False))])


def spend_all(view: str, points_label: str) -> InlineKeyboardMarkup:
    return inline([button(points_label, DeskCb(action="redeem_max", view=view))])


def rewards(view: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    if not choices:
        return None
    return column([(label, RewardCb(view=view, index=index)) for index, label in choices])


def full_refund(view: str, label: str) -> InlineKeyboardMarkup:
    return inline([button(label, DeskCb(action="refund_full", view=view))])


def operations_to_reverse(view: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return column([(label, PickCb(view=view, entry=entry_id)) for entry_id, label in choices])


class StaffInviteCb(CallbackData, prefix="sinv"):
    """Revoke one open cashier invite; owners only, checked again on the press."""

    payload: str


def staff_list(
    cashiers: list[tuple[int, str]], invites: tuple[tuple[str, str], ...] = ()
) -> InlineKeyboardMarkup:
    """`invites`: (payload, the short tail that names the link)."""
    return column(
        [(_("👤 Invite a cashier"), StaffCb(action="invite"))]
        + [
            (_("✖ Remove {name}", name=name[:24]), StaffCb(action="revoke", who=telegram_id))
            for telegram_id, name in cashiers
        ]
        + [
            (_("✖ Revoke link …{tail}", tail=tail), StaffInviteCb(payload=payload))
            for payload, tail in invites
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


class AudienceCb(CallbackData, prefix="aud"):
    index: Int64


class SendCb(CallbackData, prefix="send"):
    action: str


class BroadcastCb(CallbackData, prefix="bc"):
    id: Int64


def audiences(labels: list[str]) -> InlineKeyboardMarkup:
    return column([(label, AudienceCb(index=index)) for index, label in enumerate(labels)])


def send_choices(can_send: bool, holdout: bool) -> InlineKeyboardMarkup:
    sending = [
        [
            button(_("📣 Send now"), SendCb(action="now")),
            button(_("🕒 Schedule"), SendCb(action="schedule")),
        ],
        [
            button(
                _("Holdout 10%: on") if holdout else _("Holdout 10%: off"),
                SendCb(action="holdout"),
            )
        ],
    ]
    return inline(
        *(sending if can_send else []), [button(_("✖ Discard"), SendCb(action="discard"))]
    )


class ResultsCb(CallbackData, prefix="bcr"):
    id: Int64


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
    index: Int64


class OfferSendCb(CallbackData, prefix="ofs"):
    action: str


class OfferResultsCb(CallbackData, prefix="ofres"):
    id: Int64


def offer_kinds(labels: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return column([(label, OfferKindCb(kind=kind)) for kind, label in labels])


def offer_audiences(labels: list[str]) -> InlineKeyboardMarkup:
    return column([(label, OfferAudienceCb(index=index)) for index, label in enumerate(labels)])


def offer_send(can_send: bool, holdout: bool) -> InlineKeyboardMarkup:
    sending = [
        (_("🎁 Send the offer"), OfferSendCb(action="send")),
        (
            _("Holdout 10%: on") if holdout else _("Holdout 10%: off"),
            OfferSendCb(action="holdout"),
        ),
    ]
    return column([*(sending if can_send else []), (_("✖ Discard"), OfferSendCb(action="discard"))])


def offer_results(choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return column([(label, OfferResultsCb(id=offer_id)) for offer_id, label in choices])


class StatsCb(CallbackData, prefix="stats"):
    days: Int64


def stats_periods() -> InlineKeyboardMarkup:
    return inline([button(_("{days} days", days=days), StatsCb(days=days)) for days in (7, 30, 90)])
