"""The owner's keyboards: the team, composing promotions and offers, results, figures."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.keyboards.common import Int64, button, column, inline


class StaffCb(CallbackData, prefix="staff"):
    action: str
    who: Int64 = 0


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
