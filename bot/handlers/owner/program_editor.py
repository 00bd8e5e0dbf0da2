"""The owner changes the program in Telegram: /program's Change button (parts, settings,
typed values, choices as buttons, tiers and rewards added, changed, removed) and `/set key
value`; every change is previewed (in words and its effect) and saved on Confirm only."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.clock import utcnow
from bot.domain.program.document import Document, program_to_document
from bot.domain.program.editing import (
    Draft,
    ProgramDrafts,
    apply_command,
    changes,
    effects,
    set_value,
    tier_renames,
    validate,
)
from bot.domain.program.loader import ProgramError
from bot.domain.program.schema import FIELDS, LISTS, EditError, Kind, Path, parse_path
from bot.handlers.replies import pressed, show, stale
from bot.i18n import _
from bot.keyboards.editor import (
    DraftCb,
    EditChoiceCb,
    EditGroupCb,
    EditItemCb,
    EditKeyCb,
    announce,
    choice_buttons,
    confirm_draft,
    editor_home,
    group_buttons,
    item_buttons,
    program_buttons,
)
from bot.shop import Shop
from bot.texts import editor as texts
from bot.texts.program import program_text
from storage import ProgramChanged

log = logging.getLogger(__name__)


class ProgramEdit(StatesGroup):
    value = State()  # data: path, the key being typed


async def document_now(shop: Shop) -> Document:
    """The program in force, taking in a version saved elsewhere first."""
    await shop.live.sync(shop.storage, force=True)
    return program_to_document(shop.program)


async def propose(
    shop: Shop, drafts: ProgramDrafts, owner_id: int, new: Document, origin: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The preview of a change with Confirm/Cancel, or why it cannot be made."""
    # The version is read with the program it numbers, before any await: a save landing
    # while the effects are counted must make this draft stale, not be written over.
    old_program, base = shop.program, shop.live.version
    old = program_to_document(old_program)
    try:
        program = validate(new)
    except ProgramError as error:
        return texts.problem_text(error), None
    new = program_to_document(program)
    found = changes(old, new)
    if not found:
        return _("That is already the program in force; nothing changes."), None
    effect = await effects(shop.storage, old_program, program, utcnow())
    draft = Draft(owner_id, base, new, origin, tuple(found), old)
    text = texts.preview_text(found, old, new, effect, (old_program, program))
    return text, confirm_draft(drafts.add(draft))


async def show_program(message: Message, command: CommandObject, shop: Shop) -> None:
    """The owner's /program: the rules, with Change and History; `/program history`."""
    if (command.args or "").strip().lower() == "history":
        from bot.handlers.owner.program_history import history_page

        text, markup = await history_page(shop, 0)
        await message.answer(text, reply_markup=markup)
        return
    await shop.live.sync(shop.storage, force=True)
    await message.answer(program_text(shop.program, for_owner=True), reply_markup=program_buttons())


async def group_chosen(
    query: CallbackQuery, callback_data: EditGroupCb, bot: Bot, shop: Shop
) -> None:
    group = callback_data.group
    if group and group not in FIELDS:
        await stale(query)
        return
    document = await document_now(shop)
    if not group:
        text, markup = texts.editor_home(), editor_home()
    else:
        text, markup = texts.group_text(group, document), group_buttons(group, document)
    await query.answer()
    await show(bot, query.from_user.id, pressed(query), text, markup)


async def key_chosen(
    query: CallbackQuery, callback_data: EditKeyCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    document = await document_now(shop)
    try:
        path = parse_path(callback_data.path)
    except EditError:
        await stale(query)
        return
    field = path.field
    if field is None or (path.index is not None and path.index > len(document[path.key])):
        await stale(query)
        return
    await query.answer()
    if field.kind in (Kind.FLAG, Kind.CHOICE):
        text = texts.key_line(path, document)
        await show(
            bot, query.from_user.id, pressed(query), text, choice_buttons(path, field, document)
        )
        return
    await state.clear()
    await state.set_state(ProgramEdit.value)
    await state.update_data(path=str(path))
    await bot.send_message(query.from_user.id, texts.ask_value(path, document))


async def choice_chosen(
    query: CallbackQuery, callback_data: EditChoiceCb, bot: Bot, shop: Shop, drafts: ProgramDrafts
) -> None:
    document = await document_now(shop)
    try:
        path = parse_path(callback_data.path)
        field = path.field
        if field is None or field.kind not in (Kind.FLAG, Kind.CHOICE):
            raise EditError(str(path), "")
        new = set_value(document, path, callback_data.value)
    except EditError:
        await stale(query)
        return
    await query.answer()
    text, markup = await propose(shop, drafts, query.from_user.id, new, "telegram")
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def item_chosen(
    query: CallbackQuery,
    callback_data: EditItemCb,
    bot: Bot,
    shop: Shop,
    state: FSMContext,
    drafts: ProgramDrafts,
) -> None:
    key, index, action = callback_data.key, callback_data.index, callback_data.action
    document = await document_now(shop)
    count = len(document.get(key, [])) if key in LISTS else -1
    fits = 1 <= index <= count if action in ("open", "remove") else index == count + 1
    if key not in LISTS or not fits or action not in ("open", "remove", "add"):
        await stale(query)
        return
    await query.answer()
    if action == "open":
        text = texts.item_text(key, index, document)
        await show(
            bot, query.from_user.id, pressed(query), text, item_buttons(key, index, document)
        )
        return
    path = Path(key, index)
    if action == "add":
        await state.clear()
        await state.set_state(ProgramEdit.value)
        await state.update_data(path=str(path))
        await bot.send_message(query.from_user.id, texts.ask_value(path, document))
        return
    new = set_value(document, path, "remove")
    text, markup = await propose(shop, drafts, query.from_user.id, new, "telegram")
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def value_typed(
    message: Message, shop: Shop, state: FSMContext, drafts: ProgramDrafts
) -> None:
    assert message.from_user
    data = await state.get_data()
    document = await document_now(shop)
    try:
        path = parse_path(str(data.get("path", "")))
        new = set_value(document, path, message.text or "")
    except EditError as error:
        await message.answer(texts.problem_text(error) + "\n" + _("Type it again, or /cancel."))
        return
    text, markup = await propose(shop, drafts, message.from_user.id, new, "telegram")
    if markup is None:
        await message.answer(text + "\n" + _("Type it again, or /cancel."))
        return
    await state.clear()
    await message.answer(text, reply_markup=markup)


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Nothing was changed."))


async def set_command(
    message: Message, command: CommandObject, shop: Shop, drafts: ProgramDrafts
) -> None:
    """`/set earn_rate 2`, `/set tiers[2].spend 1500`, `/set tiers[4] Platinum 3000 2`."""
    assert message.from_user
    document = await document_now(shop)
    if not (command.args or "").strip():
        for text in texts.keys_listing(document):
            await message.answer(text)
        return
    try:
        _path, new = apply_command(document, command.args or "")
    except EditError as error:
        await message.answer(texts.problem_text(error))
        return
    text, markup = await propose(shop, drafts, message.from_user.id, new, "telegram")
    await message.answer(text, reply_markup=markup)


async def draft_decided(
    query: CallbackQuery, callback_data: DraftCb, bot: Bot, shop: Shop, drafts: ProgramDrafts
) -> None:
    """Confirm saves the draft as the next version, only on top of the version it was
    made on; the draft is taken at the first press, so a second one finds nothing."""
    draft = drafts.take(callback_data.id, query.from_user.id)
    if draft is None:
        await stale(query)
        return
    await query.answer()
    if not callback_data.ok:
        await show(bot, query.from_user.id, pressed(query), _("Nothing was changed."))
        return
    try:
        new = validate(draft.document)
        saved = await shop.storage.save_program_version(
            draft.document,
            draft.base,
            query.from_user.id,
            draft.origin,
            utcnow(),
            renames=tier_renames(validate(draft.old_document), new),
        )
    except ProgramChanged as error:
        text = texts.changed_meanwhile(error.current)
        await show(bot, query.from_user.id, pressed(query), text)
        return
    shop.live.put(new, saved.number)
    log.info("program version %s saved by %s", saved.number, query.from_user.id)
    await show(
        bot,
        query.from_user.id,
        pressed(query),
        texts.confirmed_text(saved.number),
        announce(drafts.done(draft)),
    )
    await refresh_menus(bot, shop)


async def refresh_menus(bot: Bot, shop: Shop) -> None:
    """The command menus follow at once (/give only with a cause, /invite with referrals)."""
    from bot.factory import register_commands  # the factory installs these handlers

    try:
        await register_commands(bot, shop)
    except Exception:  # the bot's watcher tries again; the change itself is saved
        log.exception("re-registering the command menus failed")
