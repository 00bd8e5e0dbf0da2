"""The program's history (`/program history`, the History button): versions newest first,
a few at a time, each with a button back to it (a new version equal to the old one, after
the same preview); and the "what changed" message, handed to the promotion composer."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.domain.program.editing import ProgramDrafts
from bot.handlers.owner.program_editor import document_now, propose
from bot.handlers.owner.promotions import Compose
from bot.handlers.replies import pressed, show, stale
from bot.i18n import _
from bot.keyboards.editor import AnnounceCb, HistoryCb, RevertCb, history_buttons
from bot.shop import Shop
from bot.texts import editor as texts

PAGE = 5


async def history_page(shop: Shop, before: int) -> tuple[str, InlineKeyboardMarkup]:
    found = await shop.storage.program_versions(PAGE + 1, before or None)
    shown, earlier = found[:PAGE], (found[PAGE] if len(found) > PAGE else None)
    text = texts.history_text(shown, earlier, shop.settings.timezone)
    more = shown[-1].number if earlier is not None else None
    current = await shop.storage.program_version_number()
    return text, history_buttons([v.number for v in shown], current, more)


async def history_pressed(
    query: CallbackQuery, callback_data: HistoryCb, bot: Bot, shop: Shop
) -> None:
    if callback_data.before < 0:
        await stale(query)
        return
    text, markup = await history_page(shop, callback_data.before)
    await query.answer()
    await show(bot, query.from_user.id, pressed(query), text, markup)


async def revert_pressed(
    query: CallbackQuery, callback_data: RevertCb, bot: Bot, shop: Shop, drafts: ProgramDrafts
) -> None:
    version = await shop.storage.program_version_at(callback_data.number)
    if version is None:
        await stale(query)
        return
    await document_now(shop)
    await query.answer()
    text, markup = await propose(shop, drafts, query.from_user.id, version.document, "revert")
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def announce_pressed(
    query: CallbackQuery,
    callback_data: AnnounceCb,
    bot: Bot,
    drafts: ProgramDrafts,
    state: FSMContext,
) -> None:
    """Opens the promotion composer with a draft the owner edits and sends as the text."""
    draft = drafts.confirmed(callback_data.id, query.from_user.id)
    if draft is None:
        await stale(query)
        return
    await state.clear()
    await state.set_state(Compose.text)
    # The how-to as the press's answer, so the one message sent is the draft to copy.
    await query.answer(
        _(
            "Here is a draft for your customers. Send it back as it is, or changed, as the "
            "promotion's text; then choose who gets it as usual. /cancel stops."
        ),
        show_alert=True,
    )
    text = texts.what_changed_draft(list(draft.changes), draft.old_document, draft.document)
    await bot.send_message(query.from_user.id, text)
