"""Translations at run time: gettext catalogs compiled in memory at start-up, `_`, `ngettext`,
and the language each update speaks (`pick_language`). The locale middleware is beside it;
`python -m bot.i18n.extract` updates the catalogs."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _aiogram_gettext
from aiogram.utils.i18n import lazy_gettext as _aiogram_lazy

from bot.catalogs import DOMAIN, LANGUAGE_NAMES, LANGUAGES, LOCALES_DIR, compile_po

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LOCALES_DIR",
    "CatalogI18n",
    "_",
    "__",
    "build_i18n",
    "ngettext",
    "pick_language",
]


def _(message: str, **params: Any) -> str:
    """Translate into the locale of the current update and fill {placeholders}."""
    text = _aiogram_gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """Plural-aware translation; `n` is always available as {n}."""
    text = _aiogram_gettext(singular, plural, n)
    return text.format(n=n, **params)


def __(message: str) -> Any:
    """Lazy translation for texts built before any update arrives (button labels, filters)."""
    return _aiogram_lazy(message)


class CatalogI18n(I18n):
    """aiogram's I18n reading .po catalogs directly."""

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext looks up I18n's own context variable; a subclass has a separate
        # one, so the instance is published under the base class.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, _gettext.GNUTranslations]:
        found: dict[str, _gettext.GNUTranslations] = {}
        for language in LANGUAGES:
            po = self.path / language / "LC_MESSAGES" / f"{self.domain}.po"
            if po.exists():
                found[language] = compile_po(po)
        return found


def build_i18n(default_locale: str = "en", path: Path = LOCALES_DIR) -> CatalogI18n:
    return CatalogI18n(path=path, default_locale=default_locale, domain=DOMAIN)


def pick_language(saved: str | None, telegram_code: str | None, default: str) -> str:
    """Saved choice first, then the Telegram app's language, then the shop's default."""
    if saved in LANGUAGES:
        return saved
    if telegram_code:
        base = telegram_code.replace("_", "-").split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return default
