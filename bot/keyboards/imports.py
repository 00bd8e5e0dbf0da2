"""The import check's buttons, and the desk's offer of a new card for an unknown phone."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.keyboards.common import button, inline


class ImportCb(CallbackData, prefix="imp"):
    """Import the checked file, or not; `digest` names the file the check was made on."""

    digest: str
    go: bool


class WalkInCb(CallbackData, prefix="walk"):
    """A new unclaimed card for the phone the cashier typed (kept in the desk's state)."""

    view: str


def import_choice(digest: str, count: int) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("✅ Import {n}", n=count), ImportCb(digest=digest, go=True)),
            button(_("✖ Cancel"), ImportCb(digest=digest, go=False)),
        ]
    )


def walk_in_offer(view: str, phone: str) -> InlineKeyboardMarkup:
    return inline([button(_("🆕 New card for {phone}", phone=phone), WalkInCb(view=view))])
