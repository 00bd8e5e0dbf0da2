"""What a use case of the domain may use: storage, the program, where the shop is (its time
zone and phone region) and a clock. Not the settings, not Telegram, not translations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.domain.clock import utcnow
from bot.domain.program.live import LiveProgram
from bot.domain.program.model import Program
from storage import Storage


@dataclass(frozen=True, slots=True)
class Context:
    storage: Storage
    rules: Program | LiveProgram  # a fixed program (tests), or the live one the bot shares
    zone: tzinfo
    phone_region: str | None = None  # the country local phone numbers are read in
    clock: Callable[[], datetime] = utcnow  # aware UTC

    @property
    def program(self) -> Program:
        """The program in force now: read it once per use case, not held across awaits
        that should see a change."""
        rules = self.rules
        return rules.current if isinstance(rules, LiveProgram) else rules

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The shop's local date."""
        return self.clock().astimezone(self.zone).date()
