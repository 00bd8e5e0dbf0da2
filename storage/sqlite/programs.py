"""The program's versions (`storage.ports_programs`): one row per version, the document as
JSON; the number is checked and the next one inserted in one write transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage.ports_programs import ProgramChanged, ProgramVersion
from storage.sqlite.engine import Engine, one, ts

_COLUMNS = "number, document, author_id, origin, created_at"


def _version(row: Any) -> ProgramVersion:
    return ProgramVersion(
        row[0], json.loads(row[1]), row[2], row[3], datetime.fromisoformat(row[4])
    )


class ProgramStore(Engine):
    async def program_version(self) -> ProgramVersion | None:
        row = await self._peek_one(
            f"SELECT {_COLUMNS} FROM program_versions ORDER BY number DESC LIMIT 1"
        )
        return _version(row) if row else None

    async def program_version_number(self) -> int | None:
        row = await self._peek_one("SELECT max(number) FROM program_versions")
        return row[0] if row else None

    async def program_version_at(self, number: int) -> ProgramVersion | None:
        row = await self._peek_one(
            f"SELECT {_COLUMNS} FROM program_versions WHERE number = ?", (number,)
        )
        return _version(row) if row else None

    async def program_versions(self, limit: int, before: int | None = None) -> list[ProgramVersion]:
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM program_versions WHERE number < ? "
            "ORDER BY number DESC LIMIT ?",
            (before if before is not None else 2**62, max(0, limit)),
        )
        return [_version(row) for row in rows]

    async def save_program_version(
        self,
        document: dict[str, Any],
        expected: int | None,
        author_id: int | None,
        origin: str,
        now: datetime,
        renames: Mapping[str, str] | None = None,
    ) -> ProgramVersion:
        text = json.dumps(document, ensure_ascii=False)  # in the file's order, for export

        def body(db: sqlite3.Connection) -> ProgramVersion:
            (current,) = one(db, "SELECT max(number) FROM program_versions")
            if current != expected:
                raise ProgramChanged(expected, current)
            number = (current or 0) + 1
            db.execute(
                f"INSERT INTO program_versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (number, text, author_id, origin, ts(now)),
            )
            if renames:  # one statement, so swapped names (A->B, B->A) stay right
                cases = " ".join("WHEN ? THEN ?" for _ in renames)
                marks = ", ".join("?" for _ in renames)
                db.execute(
                    f"UPDATE customers SET tier = CASE tier {cases} END WHERE tier IN ({marks})",
                    (*(name for pair in renames.items() for name in pair), *renames),
                )
            return ProgramVersion(number, json.loads(text), author_id, origin, now)

        return await self._write(body)
