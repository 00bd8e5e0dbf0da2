"""`python -m bot program export FILE` and `python -m bot program apply FILE`: the program
in force written out as TOML, and a program file saved as the next version.

Apply goes through the database, also while the bot runs: SQLite (WAL) lets this second
process write one short transaction, and the running bot takes the new version in within
a few seconds (`bot.domain.program.live`). Only when no bot holds the lock is it taken, so
no bot starts halfway through."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from bot.cli import EXIT_CONFIG, fail, program_error, settings_or_report
from bot.config import Settings
from bot.domain.clock import utcnow
from bot.domain.marks import N_
from bot.domain.program.document import document_toml, program_to_document
from bot.domain.program.editing import tier_renames
from bot.domain.program.live import version_program
from bot.domain.program.loader import ProgramError, load_program
from bot.domain.program.model import Program
from storage import ProgramChanged, open_storage
from storage.files import DatabaseLock, DatabaseLocked

USAGE = N_("Usage: python -m bot program export FILE, or python -m bot program apply FILE")


async def _export(settings: Settings, file: Path) -> int | None:
    storage = await open_storage(settings.database_path)
    try:
        version = await storage.program_version()
    finally:
        await storage.close()
    if version is None:
        return None
    temporary = file.with_name(file.name + ".tmp")
    temporary.write_text(document_toml(version.document), encoding="utf-8")
    os.replace(temporary, file)
    return version.number


async def _apply(settings: Settings, program: Program) -> tuple[int, bool]:
    """(the version in force, whether it is new)."""
    storage = await open_storage(settings.database_path)
    try:
        for _attempt in range(3):  # an owner's change may land between reading and saving
            current = await storage.program_version()
            if current is not None and version_program(current) == program:
                return current.number, False
            try:
                saved = await storage.save_program_version(
                    program_to_document(program),
                    current.number if current else None,
                    None,
                    "cli",
                    utcnow(),
                    renames=tier_renames(version_program(current), program) if current else None,
                )
            except ProgramChanged:
                continue
            return saved.number, True
        raise ProgramChanged(None, None)
    finally:
        await storage.close()


def program_command(argv: list[str], tr: Any, translator: Any) -> int:
    if len(argv) != 2 or argv[0] not in ("export", "apply"):
        return fail(tr(USAGE))
    settings = settings_or_report(tr)
    if settings is None:
        return EXIT_CONFIG
    tr = translator(settings.default_locale)
    database, file = Path(settings.database_path), Path(argv[1])
    if not database.parent.is_dir():
        return fail(
            tr(N_("The folder for the database does not exist: {path}"), path=database.parent)
        )
    if argv[0] == "export":
        number = asyncio.run(_export(settings, file)) if database.is_file() else None
        if number is None:
            return fail(
                tr(
                    N_("{database} holds no program yet: the bot saves {path} on first start."),
                    database=database,
                    path=settings.program_file,
                )
            )
        print(tr(N_("Program version {version} written to {path}."), version=number, path=file))
        return 0
    try:
        program = load_program(file)
    except ProgramError as error:
        return fail(program_error(tr, error))
    lock = DatabaseLock(settings.database_path)
    try:
        lock.acquire()
        held = True
    except DatabaseLocked:
        held = False  # the bot is running: it takes the version in by itself
    try:
        try:
            number, new = asyncio.run(_apply(settings, program))
        except ProgramChanged:
            return fail(tr(N_("The program kept changing meanwhile; try again.")))
        except ProgramError as error:
            return fail(program_error(tr, error))
    finally:
        if held:
            lock.release()
    if not new:
        print(tr(N_("{path} is already in force (version {version})."), path=file, version=number))
    elif held:
        print(tr(N_("{path} is now version {version}."), path=file, version=number))
    else:
        print(
            tr(
                N_(
                    "{path} is now version {version}; the running bot applies it within a "
                    "few seconds."
                ),
                path=file,
                version=number,
            )
        )
    return 0
