"""What /poster says and what the poster itself says, in the current language."""

from __future__ import annotations

from html import escape

from bot.domain.program.model import Earning, Program
from bot.domain.sources import PRESETS
from bot.domain.tokens import SOURCE_MAX
from bot.i18n import _
from bot.media.poster import Layout, PosterView


def source_label(tag: str) -> str:
    """A preset's name, or the typed tag itself."""
    return _(PRESETS[tag]) if tag in PRESETS else tag


def ask_source() -> str:
    return _(
        "<b>A poster for your counter</b>\n"
        "Where will it hang? Each place gets its own link, so /stats shows how many "
        "customers joined through it."
    )


def ask_typed_source() -> str:
    return _(
        "Type a short name for the place: lowercase Latin letters, digits and hyphens, "
        "up to {max} characters, like <code>market-stall</code>.",
        max=SOURCE_MAX,
    )


def bad_source() -> str:
    return _(
        "That name cannot go in a link. Use lowercase Latin letters, digits and hyphens "
        "(not at the start or end), up to {max} characters, like <code>market-stall</code>; "
        "“direct” and “referral” are taken. Or /cancel.",
        max=SOURCE_MAX,
    )


def ask_language(tag: str) -> str:
    return _(
        "Place: <b>{place}</b>. In which language should the poster speak?",
        place=escape(source_label(tag)),
    )


def ask_layout() -> str:
    return _(
        "Which format? An A4 poster, or table tents: four A6 panels on one A4 sheet, "
        "cut and folded into two tents."
    )


def layout_caption(layout: Layout, tag: str, kind: str) -> str:
    place = escape(source_label(tag))
    if layout is Layout.A4:
        return _("A4 poster ({kind}) for: {place}. Print at 100% scale.", kind=kind, place=place)
    return _(
        "A6 table tents ({kind}) for: {place}. Print on A4 at 100% scale, cut along the "
        "dashed line, fold along the dotted one.",
        kind=kind,
        place=place,
    )


def poster_view(
    shop_name: str, program: Program, link: str, username: str, palette: str
) -> PosterView:
    """The poster's words; the third step follows how the program earns."""
    if program.earning is Earning.STAMPS:
        ready = _("Your card is ready: collect a stamp with every visit")
    elif program.earning is Earning.CASHBACK:
        ready = _("Your card is ready: get cashback as points on every purchase")
    else:
        ready = _("Your card is ready: collect points with every purchase")
    return PosterView(
        shop_name=shop_name,
        headline=_("Your loyalty card is one scan away"),
        steps=(
            _("Scan the code with your phone's camera"),
            _("Open the bot in Telegram and press Start"),
            ready,
        ),
        link=link,
        link_text=f"t.me/{username}",
        palette=palette,
    )
