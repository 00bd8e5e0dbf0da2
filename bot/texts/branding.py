"""What /logo and /colors say, in the current language."""

from __future__ import annotations

from html import escape

from bot.i18n import _
from bot.media.logo import MAX_BYTES, LogoProblem
from bot.media.palettes import Palette


def ask_logo(has_logo: bool) -> str:
    text = _(
        "<b>Your logo</b>\nSend it as a photo or as an image file (PNG, JPEG, WebP…, up to "
        "{mb} MB). It appears small on every card and on your posters. Or /cancel.",
        mb=MAX_BYTES // (1024 * 1024),
    )
    if has_logo:
        text += "\n\n" + _("The button below removes the current logo.")
    return text


def logo_refused(problem: LogoProblem) -> str:
    if problem is LogoProblem.TOO_LARGE:
        return _(
            "That file is larger than {mb} MB. Please send a smaller picture; the logo "
            "was not changed.",
            mb=MAX_BYTES // (1024 * 1024),
        )
    if problem is LogoProblem.TOO_MANY_PIXELS:
        return _(
            "That picture has far too many pixels. Please send a smaller one; the logo was "
            "not changed."
        )
    return _(
        "That file is not a picture I can read. Please send a PNG, JPEG or WebP image; the "
        "logo was not changed."
    )


def logo_expected() -> str:
    return _("Please send the logo as a photo or an image file, or /cancel.")


def logo_saved() -> str:
    return _("Logo saved. It shows on the next card each customer opens, and on new posters.")


def logo_removed() -> str:
    return _("Logo removed.")


def no_logo() -> str:
    return _("There is no logo to remove.")


def logo_unchanged() -> str:
    return _("The logo stays as it was.")


def colors_text(current: Palette) -> str:
    return _(
        "<b>Card colours</b>\nNow: {name}. Pick new colours below; the QR code always stays "
        "black on white, so it scans in every palette.",
        name=escape(_(current.name)),
    )


def palette_chosen(chosen: Palette) -> str:
    return _(
        "Card colours: {name}. Customers see them on their next card, and new posters use them.",
        name=escape(_(chosen.name)),
    )
