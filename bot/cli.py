"""`python -m bot` / `loyalty-bot`: start the bot, or explain in one line why it cannot start."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.catalogs import console_translator
from bot.config import ConfigError, Settings, load_settings
from bot.domain.marks import N_
from bot.domain.program.loader import ProgramError, load_program
from bot.telegram import redact
from storage.backup import copy_database
from storage.files import DatabaseLock, DatabaseLocked

EXIT_CONFIG = 2


def _translator(locale: str | None = None) -> Callable[..., str]:
    """Console messages in DEFAULT_LOCALE when it is valid, else English."""
    return console_translator((locale or os.environ.get("DEFAULT_LOCALE", "en")).strip().lower())


def program_error(tr: Any, error: ProgramError) -> str:
    """A program's mistake in one translated line naming the file (or version) and the key."""
    return tr(
        N_("Program file {path}, {key}: {problem}"),
        path=error.path,
        key=error.key,
        problem=tr(error.problem, **error.params),
    )


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_CONFIG


BACKUP_PROBLEMS = {
    "missing": N_("{path} does not exist."),
    "not_sqlite": N_("{path} is not a database backup."),
    "damaged": N_("{path} is damaged (the integrity check failed)."),
    "not_loyalty": N_("{path} is a database, but not a loyalty card backup."),
    "newer": N_("{path} comes from a newer version of the bot; upgrade first."),
}


def settings_or_report(tr: Any) -> Settings | None:
    """The settings, or None after printing each problem as one translated line."""
    try:
        return load_settings()
    except ConfigError as error:
        for problem in error.problems:
            print(tr(problem.message, **problem.params), file=sys.stderr)
        return None


def maintenance(argv: list[str], tr: Any) -> int:
    """`backup FILE` and `restore FILE` against DATABASE_URL."""
    from storage.backup import BadBackup, restore

    if len(argv) != 2:
        return fail(tr(N_("Usage: python -m bot backup FILE, or python -m bot restore FILE")))
    settings = settings_or_report(tr)
    if settings is None:
        return EXIT_CONFIG
    tr = _translator(settings.default_locale)
    database, file = Path(settings.database_path), Path(argv[1])
    if argv[0] == "backup":
        if not database.is_file():
            return fail(tr(BACKUP_PROBLEMS["missing"], path=database))
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            copy_database(source, file)
        finally:
            source.close()
        print(tr(N_("Backup written to {path}."), path=file))
        return 0
    lock = DatabaseLock(database)
    try:
        lock.acquire()  # held while restoring, so no bot starts on a half-restored file
    except DatabaseLocked:
        return fail(
            tr(N_("The bot is running on {database}: stop it before restoring."), database=database)
        )
    except FileNotFoundError:
        return fail(
            tr(N_("The folder for the database does not exist: {path}"), path=database.parent)
        )
    try:
        kept = restore(file, database)
    except BadBackup as error:
        return fail(tr(BACKUP_PROBLEMS[error.reason], path=file))
    finally:
        lock.release()
    print(tr(N_("Restored {path} into {database}."), path=file, database=database))
    if kept is not None:
        print(tr(N_("The previous database was kept as {path}."), path=kept))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything the bot creates (database, WAL, backups, lock, secret) is the bot user's
    # alone; storage sets 0600 on its own files explicitly as well.
    os.umask(0o077)
    tr = _translator()
    if argv and argv[0] in ("-h", "--help"):
        print(tr(N_("Usage: python -m bot  (settings come from the environment or .env)")))
        print(tr(N_("       python -m bot backup FILE   (a consistent copy of the database)")))
        print(tr(N_("       python -m bot restore FILE  (with the bot stopped)")))
        print(tr(N_("       python -m bot import FILE.csv [--yes]  (plastic cards, bot stopped)")))
        print(tr(N_("       python -m bot program export FILE  (the program in force as TOML)")))
        print(tr(N_("       python -m bot program apply FILE   (a program file put in force)")))
        return 0
    if argv and argv[0] in ("backup", "restore"):
        return maintenance(argv, tr)
    if argv and argv[0] == "import":
        from bot.cli_import import run_import

        return run_import(argv, tr, settings_or_report, _translator)
    if argv and argv[0] == "program":
        from bot.cli_program import program_command

        return program_command(argv[1:], tr, _translator)
    settings = settings_or_report(tr)
    if settings is None:
        return EXIT_CONFIG
    tr = _translator(settings.default_locale)
    try:
        program = load_program(settings.program_file)
    except ProgramError as error:
        return fail(program_error(tr, error))
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redactor = redact.install(settings.bot_token)
    # A traceback that escapes everything else goes to stderr, i.e. the journal, too.
    sys.excepthook = lambda *exc: sys.stderr.write(
        redactor.redact("".join(traceback.format_exception(*exc)))
    )
    # One bot per database: two would poll twice and each broadcaster would take the other's
    # messages in flight for interrupted ones. Held until this process ends.
    lock = DatabaseLock(settings.database_path)
    try:
        lock.acquire()
    except DatabaseLocked:
        return fail(
            tr(
                N_("Another bot is already running on {path}. Stop it first."),
                path=settings.database_path,
            )
        )
    except FileNotFoundError:
        return fail(
            tr(
                N_("The folder for the database does not exist: {path}"),
                path=Path(settings.database_path).parent,
            )
        )
    # Imported late: a configuration mistake is reported without paying for aiogram's import.
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    from bot.app import run

    try:
        asyncio.run(run(settings, program))
    except ProgramError as error:  # the version in the database, read by a stricter bot
        return fail(program_error(tr, error))
    except FileNotFoundError as error:
        return fail(
            tr(N_("The folder for the database does not exist: {path}"), path=error.args[0])
        )
    except sqlite3.DatabaseError as error:
        return fail(
            tr(
                N_("The database {path} cannot be opened: {error}"),
                path=settings.database_path,
                error=error,
            )
        )
    except TelegramUnauthorizedError:
        return fail(
            tr(
                N_(
                    "Telegram rejected BOT_TOKEN. Copy the token again from @BotFather "
                    "(/mybots, API Token)."
                )
            )
        )
    except TelegramNetworkError as error:
        return fail(
            tr(
                N_("Cannot reach the Telegram Bot API: {error}"),
                error=redactor.redact(error.message),
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        lock.release()
    return 0
