"""What every handler may use: settings, program, storage and translations, in one object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.i18n import CatalogI18n
from bot.program import Program
from storage import Storage


@dataclass(frozen=True, slots=True)
class Shop:
    settings: Settings
    program: Program
    storage: Storage
    i18n: CatalogI18n

    def now(self) -> datetime:
        """The current time in the shop's time zone."""
        return datetime.now(self.settings.timezone)
