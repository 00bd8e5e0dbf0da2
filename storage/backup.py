"""Consistent snapshots of a live SQLite database (the online backup API), and restoring one."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from storage.files import create_private
from storage.migrations import MIGRATIONS

REQUIRED_TABLES = frozenset({"customers", "ledger", "lots", "staff"})


class BadBackup(ValueError):
    """Not a loyalty database this program can use; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Page-by-page copy through the backup API; safe while others write to the source.
    The copy is readable by its owner only, like the database."""
    create_private(target)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()


def verify(path: Path) -> int:
    """The schema version of a valid backup; raises BadBackup otherwise."""
    if not path.is_file():
        raise BadBackup("missing")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (check,) = db.execute("PRAGMA integrity_check").fetchone()
            (version,) = db.execute("PRAGMA user_version").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise BadBackup("not_sqlite") from None
    if check != "ok":
        raise BadBackup("damaged")
    if not tables >= REQUIRED_TABLES or version < 1:
        raise BadBackup("not_loyalty")
    if version > len(MIGRATIONS):
        raise BadBackup("newer")
    return int(version)


def restore(backup: Path, database: Path) -> Path | None:
    """Put a verified backup in place of the database (the bot must be stopped). The current
    file is kept beside it, renamed, and its path returned."""
    verify(backup)
    kept = None
    if database.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        shutil.move(database, kept)
        for suffix in ("-wal", "-shm"):
            extra = database.with_name(database.name + suffix)
            if extra.exists():
                shutil.move(extra, kept.with_name(kept.name + suffix))
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        copy_database(source, database)
    finally:
        source.close()
    return kept


def prune(folder: Path, keep: int, prefix: str = "loyalty-") -> list[Path]:
    """Delete all but the newest `keep` backups in the folder; returns what was deleted."""
    backups = sorted(folder.glob(f"{prefix}*.db"), key=lambda p: p.name, reverse=True)
    removed = backups[keep:]
    for path in removed:
        os.remove(path)
    return removed
