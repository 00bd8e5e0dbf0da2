"""/logo's and /colors' buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.keyboards.common import column
from bot.media.palettes import PALETTES


class LogoCb(CallbackData, prefix="logo"):
    action: str  # "remove"


class PaletteCb(CallbackData, prefix="pal"):
    key: str


def logo_menu() -> InlineKeyboardMarkup:
    return column([(_("🗑 Remove the logo"), LogoCb(action="remove"))])


def palettes(current: str) -> InlineKeyboardMarkup:
    return column(
        [
            (("✓ " if palette.key == current else "") + _(palette.name), PaletteCb(key=palette.key))
            for palette in PALETTES
        ]
    )
