"""Forward-only schema migrations: the scripts, the SQL functions they call, and applying
them inside one transaction."""

from __future__ import annotations

import sqlite3

from storage.migrations.functions import SQL_FUNCTIONS, phone_e164
from storage.migrations.scripts import MIGRATIONS

__all__ = ["MIGRATIONS", "SQL_FUNCTIONS", "apply", "phone_e164", "split_sql"]


def apply(db: sqlite3.Connection) -> None:
    """Bring the schema up to date; run inside the caller's write transaction."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema {version} is newer than this program ({len(MIGRATIONS)})"
        )
    for name, function in SQL_FUNCTIONS.items():
        db.create_function(name, 1, function, deterministic=True)
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in split_sql(script):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")


def split_sql(script: str) -> list[str]:
    """Split a migration into statements; triggers keep their inner semicolons."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
