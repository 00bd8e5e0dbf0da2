"""The desk's keyboards: the staff view's actions, rewards, refunds, Confirm and Cancel."""

from __future__ import annotations

import hashlib

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.domain.program.model import Reward
from bot.i18n import _
from bot.keyboards.common import Int64, OpCb, button, column, inline


class DeskCb(CallbackData, prefix="desk"):
    """An action on the customer open at the desk; `view` ties it to that one staff view."""

    action: str
    view: str


class PickCb(CallbackData, prefix="pick"):
    """Choose one of the operations listed for a refund, within one staff view."""

    view: str
    entry: Int64


class RewardCb(CallbackData, prefix="rw"):
    """A reward from the program's catalogue, by position, within one staff view; `tag`
    is the reward's name and cost as shown, so a press after the catalogue changed is
    refused instead of asking for another reward."""

    view: str
    index: Int64
    tag: str


def reward_tag(reward: Reward) -> str:
    return hashlib.blake2s(f"{reward.name}\0{reward.cost}".encode(), digest_size=4).hexdigest()


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


def cancel_only(operation_id: str) -> InlineKeyboardMarkup:
    return inline([button(_("✖ Cancel"), OpCb(id=operation_id, ok=False))])


def spend_all(view: str, points_label: str) -> InlineKeyboardMarkup:
    return inline([button(points_label, DeskCb(action="redeem_max", view=view))])


def rewards(view: str, choices: list[tuple[int, Reward, str]]) -> InlineKeyboardMarkup | None:
    if not choices:
        return None
    return column(
        [
            (label, RewardCb(view=view, index=index, tag=reward_tag(reward)))
            for index, reward, label in choices
        ]
    )


def full_refund(view: str, label: str) -> InlineKeyboardMarkup:
    return inline([button(label, DeskCb(action="refund_full", view=view))])


def operations_to_reverse(view: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return column([(label, PickCb(view=view, entry=entry_id)) for entry_id, label in choices])
