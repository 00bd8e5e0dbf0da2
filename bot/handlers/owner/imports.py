"""/import: the format explained with an example file, then a CSV document checked (the dry
run) and imported only when the owner presses Import.

Owners send documents for nothing else, so any document an owner sends (in any step) is
taken as a file to import (and a picture or a workbook gets the reason it is not CSV).
The check's buttons carry the file's digest; the file itself is fetched again by its
Telegram file id (kept in the FSM data) and checked again on the press, so what is imported
is what the check said at that moment, and a second press finds everything already booked.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.domain import imports
from bot.domain.imports import EXAMPLE_CSV, MAX_BYTES, FileProblem, ImportFileError
from bot.handlers.replies import drop_buttons, pressed, stale
from bot.i18n import _
from bot.keyboards.imports import ImportCb, import_choice
from bot.shop import Shop
from bot.texts.imports import (
    clash_text,
    dry_run_text,
    file_problem_text,
    import_help,
    imported_text,
)
from storage import ImportClash

log = logging.getLogger(__name__)


async def start(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
    """/import alone explains; with a CSV attached (the command as its caption) checks it."""
    if message.document is not None:
        await check(message, bot, shop, state)
        return
    await message.answer(import_help())
    await message.answer_document(
        BufferedInputFile(EXAMPLE_CSV.encode(), "plastic-cards-example.csv"),
        caption=_("An example file: fill in your own customers and send it back."),
    )


async def check(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
    document = message.document
    assert document is not None
    data = await download(bot, document.file_id, document.file_size)
    if isinstance(data, ImportFileError):
        await message.answer(file_problem_text(data))
        return
    try:
        run = await imports.dry_run(shop.context, data)
    except ImportFileError as error:
        await message.answer(file_problem_text(error))
        return
    if not run.rows:
        await state.update_data(import_file=None, import_digest=None)
        await message.answer(dry_run_text(run))
        return
    await state.update_data(import_file=document.file_id, import_digest=run.digest)
    await message.answer(dry_run_text(run), reply_markup=import_choice(run.digest, len(run.rows)))


async def download(bot: Bot, file_id: str, size: int | None) -> bytes | ImportFileError:
    """The file's bytes, refused by its announced size before anything is fetched."""
    too_large = ImportFileError(FileProblem.TOO_LARGE, limit=MAX_BYTES // (1024 * 1024))
    if size is not None and size > MAX_BYTES:
        return too_large
    file = await bot.get_file(file_id)
    if file.file_size is not None and file.file_size > MAX_BYTES:
        return too_large
    body = await bot.download_file(file.file_path or "")
    data = body.read(MAX_BYTES + 1) if body else b""
    return too_large if len(data) > MAX_BYTES else data


async def decided(
    query: CallbackQuery, callback_data: ImportCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    message = pressed(query)
    stored = await state.get_data()
    if message is None or stored.get("import_digest") != callback_data.digest:
        await stale(query)
        return
    await query.answer()
    await state.update_data(import_file=None, import_digest=None)
    await drop_buttons(message)
    if not callback_data.go:
        await message.answer(_("Import cancelled. Nothing was written."))
        return
    data = await download(bot, stored["import_file"], None)
    await finish(message, shop, data, callback_data.digest)


async def finish(message: Message, shop: Shop, data: bytes | ImportFileError, digest: str) -> None:
    if isinstance(data, ImportFileError):
        await message.answer(file_problem_text(data))
        return
    try:
        run = await imports.dry_run(shop.context, data)
        if run.digest != digest:  # cannot happen: Telegram's files never change
            raise ImportFileError(FileProblem.ENCODING)
        outcome = await imports.import_rows(shop.context, run)
    except ImportFileError as error:
        await message.answer(file_problem_text(error))
        return
    except ImportClash:
        await message.answer(clash_text())
        return
    log.info(
        "imported %d customers (%d already) from file %s", outcome.created, outcome.already, digest
    )
    await message.answer(imported_text(outcome))
