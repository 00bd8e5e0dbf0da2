"""/poster: a print-ready poster with the shop's join link for one place (its source tag),
in one of the five languages, as an A4 poster or A6 table tents, sent as PDF and PNG."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.domain.sources import PRESETS, parse_source
from bot.domain.tokens import join_payload, valid_source
from bot.handlers.replies import pressed, show, stale
from bot.i18n import LANGUAGES, _
from bot.keyboards.poster import (
    PosterLanguageCb,
    PosterLayoutCb,
    PosterSourceCb,
    languages,
    layouts,
    sources,
)
from bot.media.poster import Layout, render_files
from bot.shop import Shop
from bot.telegram.links import card_link
from bot.texts import poster as texts


class PosterSteps(StatesGroup):
    source = State()  # the owner types a source tag


async def poster(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(texts.ask_source(), reply_markup=sources())


async def source_chosen(
    query: CallbackQuery, callback_data: PosterSourceCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    tag = callback_data.tag
    if tag and tag not in PRESETS:
        await stale(query)
        return
    await query.answer()
    if not tag:
        await state.set_state(PosterSteps.source)
        await show(bot, query.from_user.id, pressed(query), texts.ask_typed_source())
        return
    await show(
        bot,
        query.from_user.id,
        pressed(query),
        texts.ask_language(tag),
        languages(tag, shop.i18n.current_locale),
    )


async def source_typed(message: Message, shop: Shop, state: FSMContext) -> None:
    tag = parse_source(message.text or "")
    if tag is None:
        await message.answer(texts.bad_source())
        return
    await state.clear()
    await message.answer(
        texts.ask_language(tag), reply_markup=languages(tag, shop.i18n.current_locale)
    )


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("No poster, then. Send /poster to start again."))


async def language_chosen(query: CallbackQuery, callback_data: PosterLanguageCb, bot: Bot) -> None:
    if not valid_source(callback_data.tag) or callback_data.language not in LANGUAGES:
        await stale(query)
        return
    await query.answer()
    await show(
        bot,
        query.from_user.id,
        pressed(query),
        texts.ask_layout(),
        layouts(callback_data.tag, callback_data.language),
    )


async def layout_chosen(
    query: CallbackQuery, callback_data: PosterLayoutCb, bot: Bot, shop: Shop
) -> None:
    tag, language = callback_data.tag, callback_data.language
    if (
        not valid_source(tag)
        or language not in LANGUAGES
        or callback_data.layout not in set(Layout)
    ):
        await stale(query)
        return
    layout = Layout(callback_data.layout)
    await query.answer(_("Drawing the poster…"))
    me = await bot.me()
    link = await card_link(bot, join_payload(tag))
    look = await shop.storage.branding()
    logo = await shop.storage.logo() if look.logo_digest else None
    with shop.i18n.use_locale(language):
        view = texts.poster_view(
            shop.settings.shop_name, shop.program, link, me.username or "", look.palette or ""
        )
    pdf, png = await asyncio.to_thread(render_files, view, layout, logo)
    name = f"poster-{tag}-{language}-{layout.value}"
    chat = query.from_user.id
    await bot.send_document(
        chat,
        BufferedInputFile(pdf, filename=f"{name}.pdf"),
        caption=texts.layout_caption(layout, tag, "PDF"),
    )
    await bot.send_document(
        chat,
        BufferedInputFile(png, filename=f"{name}.png"),
        caption=texts.layout_caption(layout, tag, "PNG"),
    )
