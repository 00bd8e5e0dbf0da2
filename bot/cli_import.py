"""`python -m bot import FILE.csv [--yes]`: the import check printed, then (on a terminal, or
with --yes) the import, against DATABASE_URL with the bot stopped. Exit 2 on a problem with
the file or the settings."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.domain.marks import N_

EXIT_PROBLEM = 2
TAG = re.compile(r"<[^>]*>")
YES = frozenset({"y", "yes", "т", "так", "д", "да", "ใช่"})


def plain(html: str) -> str:
    return unescape(TAG.sub("", html))


def run_import(
    argv: list[str],
    tr: Any,
    settings_or_report: Callable[[Any], Settings | None],
    translator: Callable[[str | None], Any],
) -> int:
    from bot.domain.imports import MAX_BYTES, FileProblem, ImportFileError
    from bot.domain.program.loader import ProgramError, load_program
    from storage.files import DatabaseLock, DatabaseLocked

    files = [arg for arg in argv[1:] if arg != "--yes"]
    if len(files) != 1:
        print(tr(N_("Usage: python -m bot import FILE.csv [--yes]")), file=sys.stderr)
        return EXIT_PROBLEM
    settings = settings_or_report(tr)
    if settings is None:
        return EXIT_PROBLEM
    tr = translator(settings.default_locale)
    try:
        program = load_program(settings.program_file)
    except ProgramError as error:
        from bot.cli import program_error

        print(program_error(tr, error), file=sys.stderr)
        return EXIT_PROBLEM
    path = Path(files[0])
    if not path.is_file():
        print(tr(N_("{path} does not exist."), path=path), file=sys.stderr)
        return EXIT_PROBLEM
    if path.stat().st_size > MAX_BYTES:  # refused before reading it
        too_large = ImportFileError(FileProblem.TOO_LARGE, limit=MAX_BYTES // (1024 * 1024))
        print(tr(too_large.message, **too_large.params), file=sys.stderr)
        return EXIT_PROBLEM
    lock = DatabaseLock(settings.database_path)
    try:
        lock.acquire()
    except DatabaseLocked:
        message = N_(
            "The bot is running on {database}: stop it first, or send the file to the bot "
            "with /import."
        )
        print(tr(message, database=settings.database_path), file=sys.stderr)
        return EXIT_PROBLEM
    except FileNotFoundError:
        folder = Path(settings.database_path).parent
        print(tr(N_("The folder for the database does not exist: {path}"), path=folder))
        return EXIT_PROBLEM
    try:
        return asyncio.run(_import(settings, program, path.read_bytes(), "--yes" in argv))
    finally:
        lock.release()


async def _import(settings: Settings, program: Any, data: bytes, yes: bool) -> int:
    from bot.domain import imports
    from bot.domain.context import Context
    from bot.domain.imports import ImportFileError
    from bot.domain.program.live import version_program
    from bot.domain.promotions import audience_filter
    from bot.i18n import _, build_i18n
    from bot.texts.imports import (
        clash_text,
        dry_run_text,
        file_problem_text,
        import_question,
        imported_text,
    )
    from storage import ImportClash, open_storage

    locale = settings.default_locale
    i18n = build_i18n(locale)
    storage = await open_storage(settings.database_path, audiences=audience_filter)
    try:
        # The rules in force live in the database once the bot has run; the file only
        # seeds a database no bot has opened yet.
        version = await storage.program_version()
        if version is not None:
            program = version_program(version)
        context = Context(storage, program, settings.timezone, settings.phone_region)
        with i18n.context(), i18n.use_locale(locale):
            try:
                run = await imports.dry_run(context, data)
            except ImportFileError as error:
                print(plain(file_problem_text(error)), file=sys.stderr)
                return EXIT_PROBLEM
            print(plain(dry_run_text(run)))
            if not run.rows:
                return 0
            if not yes:
                if not sys.stdin.isatty():
                    print(_("Nothing was imported: run again with --yes to import."))
                    return 0
                answer = input(plain(import_question(run)))
                if answer.strip().lower() not in YES:
                    print(_("Import cancelled. Nothing was written."))
                    return 0
            try:
                outcome = await imports.import_rows(context, run)
            except ImportClash:
                print(plain(clash_text()), file=sys.stderr)
                return EXIT_PROBLEM
            print(plain(imported_text(outcome)))
            return 0
    finally:
        await storage.close()
