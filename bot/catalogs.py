"""The languages and their gettext catalogs, without aiogram: what the console needs (the
command line's messages, settings checks) before, or instead of, starting the bot. Importing
aiogram costs seconds on a small machine, and a mistyped setting should not wait for it.
`bot.i18n` builds the bot's translations on top of this."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("en", "uk", "ru", "mk", "th")
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "mk": "Македонски",
    "th": "ไทย",
}
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def compile_po(path: Path) -> _gettext.GNUTranslations:
    # Compiling in memory keeps .mo files out of the tree and can never go stale.
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=path.parent.parent.name)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@cache
def _catalog(language: str) -> _gettext.NullTranslations:
    po = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    return compile_po(po) if po.exists() else _gettext.NullTranslations()


def console_translator(language: str) -> Callable[..., str]:
    """`tr(message, **params)` in `language` (English when it is not one of ours)."""
    catalog = _catalog(language if language in LANGUAGES else "en")

    def tr(message: str, **params: object) -> str:
        text = catalog.gettext(message)
        return text.format(**params) if params else text

    return tr
