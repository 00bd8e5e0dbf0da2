"""What every handler may use: settings, program, storage and translations, in one object;
`context` is the part of it the domain's use cases are given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.domain.context import Context
from bot.domain.program.model import Program
from bot.i18n import CatalogI18n
from storage import Storage


@dataclass(frozen=True, slots=True)
class Shop:
    settings: Settings
    program: Program
    storage: Storage
    i18n: CatalogI18n
    context: Context = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        context = Context(
            self.storage, self.program, self.settings.timezone, self.settings.phone_region
        )
        object.__setattr__(self, "context", context)

    def now(self) -> datetime:
        """The current time in the shop's time zone."""
        return datetime.now(self.settings.timezone)
