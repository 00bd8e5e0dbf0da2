"""The program in force, as one small holder the whole bot shares (`Shop`, `Context`): a
change replaces `current` and the next operation reads the new rules, with no restart.

Another process (`python -m bot program apply`) writes a new version straight into the
database; `sync` notices it by the version number, one indexed read, at most every
`SYNC_EVERY` seconds per caller that asks (each update, and the bot's watcher task)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bot.domain.program.loader import ProgramError, parse_program
from bot.domain.program.model import Program
from storage import ProgramVersion, ProgramVersions

log = logging.getLogger(__name__)
SYNC_EVERY = 1.0  # seconds between two looks at the version number


def version_path(number: int) -> Path:
    """What a stored version's errors name in place of a file."""
    return Path(f"version {number}")


def version_program(version: ProgramVersion) -> Program:
    return parse_program(version.document, version_path(version.number))


class LiveProgram:
    def __init__(self, program: Program, version: int | None = None) -> None:
        self._program = program
        self.version = version  # the stored version `current` is; None when not stored
        self._looked = 0.0

    @property
    def current(self) -> Program:
        return self._program

    def put(self, program: Program, version: int | None) -> None:
        """In force from the next read on."""
        self._program = program
        self.version = version

    async def sync(self, storage: ProgramVersions, force: bool = False) -> bool:
        """Take a newer stored version into force; True when the program changed."""
        moment = time.monotonic()
        if not force and moment - self._looked < SYNC_EVERY:
            return False
        self._looked = moment
        number = await storage.program_version_number()
        if number is None or number == self.version:
            return False
        version = await storage.program_version()
        if version is None:
            return False
        try:
            program = version_program(version)
        except ProgramError as error:
            # Saved only after the same check, so only a stricter bot meets this; the rules
            # in force stay, and the version is not read again.
            log.error("program version %s is not valid here: %s", version.number, error)
            self.version = version.number
            return False
        self.put(program, version.number)
        return True
