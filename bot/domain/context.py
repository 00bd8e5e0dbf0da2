"""What a use case of the domain may use: storage, the program, where the shop is (its time
zone and phone region) and a clock. Not the settings, not Telegram, not translations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.domain.clock import utcnow
from bot.domain.program.model import Program
from storage import Storage


@dataclass(frozen=True, slots=True)
class Context:
    storage: Storage
    program: Program
    zone: tzinfo
    phone_region: str | None = None  # the country local phone numbers are read in
    clock: Callable[[], datetime] = utcnow  # aware UTC

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The shop's local date."""
        return self.clock().astimezone(self.zone).date()
