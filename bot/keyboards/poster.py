"""/poster's buttons: where it hangs, its language, its format. The values are re-checked
on every press (`bot.handlers.owner.poster`)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.domain.sources import PRESETS
from bot.i18n import LANGUAGE_NAMES, _
from bot.keyboards.common import button, column, inline
from bot.media.poster import Layout


class PosterSourceCb(CallbackData, prefix="psrc"):
    tag: str  # empty: the owner types one


class PosterLanguageCb(CallbackData, prefix="plng"):
    tag: str
    language: str


class PosterLayoutCb(CallbackData, prefix="plyt"):
    tag: str
    language: str
    layout: str


def sources() -> InlineKeyboardMarkup:
    choices: list[tuple[str, CallbackData]] = [
        (_(label), PosterSourceCb(tag=tag)) for tag, label in PRESETS.items()
    ]
    return column([*choices, (_("✏️ Another place: type its name"), PosterSourceCb(tag=""))])


def languages(tag: str, first: str) -> InlineKeyboardMarkup:
    """The five languages, the owner's own first."""
    codes = sorted(LANGUAGE_NAMES, key=lambda code: code != first)
    return column(
        [(LANGUAGE_NAMES[code], PosterLanguageCb(tag=tag, language=code)) for code in codes]
    )


def layouts(tag: str, language: str) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("A4 poster"), PosterLayoutCb(tag=tag, language=language, layout=Layout.A4)),
            button(
                _("A6 table tents"), PosterLayoutCb(tag=tag, language=language, layout=Layout.TENT)
            ),
        ]
    )
