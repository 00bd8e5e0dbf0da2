"""The program's versions: every change to the rules is a new numbered version holding the
whole program as its document (the dict the program file parses to), never an edit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from storage.errors import StorageError


@dataclass(frozen=True, slots=True)
class ProgramVersion:
    number: int  # 1, 2, …: the version in force is the highest
    document: dict[str, Any]  # what `parse_program` reads; exported exactly as stored
    author_id: int | None  # the owner's Telegram id; None from the file or the command line
    origin: str  # "file", "cli", "telegram", "revert"
    created_at: datetime


class ProgramChanged(StorageError):
    """Another version was saved since the one the change was based on."""

    def __init__(self, expected: int | None, current: int | None) -> None:
        super().__init__(f"expected version {expected}, the current one is {current}")
        self.expected = expected
        self.current = current


class ProgramVersions(Protocol):
    async def program_version(self) -> ProgramVersion | None:
        """The version in force; None before the first one is saved."""
        ...

    async def program_version_number(self) -> int | None:
        """Only the number of the version in force: cheap enough to ask on every update."""
        ...

    async def program_version_at(self, number: int) -> ProgramVersion | None: ...

    async def program_versions(self, limit: int, before: int | None = None) -> list[ProgramVersion]:
        """Newest first, at most `limit`, only numbers below `before` when given."""
        ...

    async def save_program_version(
        self,
        document: dict[str, Any],
        expected: int | None,
        author_id: int | None,
        origin: str,
        now: datetime,
        renames: Mapping[str, str] | None = None,
    ) -> ProgramVersion:
        """Save the next version, unless the one in force is no longer `expected` (None:
        none yet); then `ProgramChanged` is raised and nothing is saved. `renames` (old tier
        name -> new) moves the customers who hold a renamed tier in the same transaction."""
        ...
