"""What every handler may use: settings, program, storage and translations, in one object;
`context` is the part of it the domain's use cases are given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.domain.context import Context
from bot.domain.program.live import LiveProgram
from bot.domain.program.model import Program
from bot.i18n import CatalogI18n
from storage import Storage


@dataclass(frozen=True, slots=True)
class Shop:
    settings: Settings
    rules: Program | LiveProgram  # a Program is wrapped: `live` is always the holder
    storage: Storage
    i18n: CatalogI18n
    live: LiveProgram = field(init=False, repr=False, compare=False)
    context: Context = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = self.rules
        live = rules if isinstance(rules, LiveProgram) else LiveProgram(rules)
        object.__setattr__(self, "live", live)
        context = Context(self.storage, live, self.settings.timezone, self.settings.phone_region)
        object.__setattr__(self, "context", context)

    @property
    def program(self) -> Program:
        """The program in force now (see `LiveProgram`)."""
        return self.live.current

    def now(self) -> datetime:
        """The current time in the shop's time zone."""
        return datetime.now(self.settings.timezone)
