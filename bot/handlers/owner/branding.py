"""/logo and /colors: the shop's logo and card colours, shown on every card and poster."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.handlers.replies import pressed, show, stale
from bot.i18n import _
from bot.keyboards.branding import LogoCb, PaletteCb, logo_menu, palettes
from bot.media.logo import MAX_BYTES, LogoProblem, LogoRefused, normalise_logo
from bot.media.palettes import PALETTES, palette
from bot.media.swatches import render_swatches
from bot.shop import Shop
from bot.telegram.links import card_link
from bot.texts import branding as texts


class LogoSteps(StatesGroup):
    picture = State()  # waiting for the logo


async def logo(message: Message, shop: Shop, state: FSMContext) -> None:
    has_logo = (await shop.storage.branding()).logo_digest is not None
    await state.set_state(LogoSteps.picture)
    await message.answer(texts.ask_logo(has_logo), reply_markup=logo_menu() if has_logo else None)


async def logo_sent(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
    if message.photo:
        file_id, size = message.photo[-1].file_id, message.photo[-1].file_size
    elif message.document:
        file_id, size = message.document.file_id, message.document.file_size
    else:
        await message.answer(texts.logo_expected())
        return
    # Refused before downloading anything when Telegram tells the size.
    if size is not None and size > MAX_BYTES:
        await message.answer(texts.logo_refused(LogoProblem.TOO_LARGE))
        return
    file = await bot.get_file(file_id)
    if file.file_size is not None and file.file_size > MAX_BYTES:
        await message.answer(texts.logo_refused(LogoProblem.TOO_LARGE))
        return
    data = await bot.download_file(file.file_path or "")
    raw = data.read() if data else b""
    try:
        normalised = await asyncio.to_thread(normalise_logo, raw)
    except LogoRefused as refused:
        await message.answer(texts.logo_refused(refused.problem))
        return
    await shop.storage.set_logo(normalised.png, normalised.digest)
    await state.clear()
    await message.answer(texts.logo_saved())


async def logo_text(message: Message) -> None:
    await message.answer(texts.logo_expected())


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(texts.logo_unchanged())


async def logo_action(
    query: CallbackQuery, callback_data: LogoCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    if callback_data.action != "remove":
        await stale(query)
        return
    if (await shop.storage.branding()).logo_digest is None:
        await query.answer(texts.no_logo(), show_alert=True)
        return
    await shop.storage.set_logo(None, None)
    await state.clear()
    await query.answer()
    await show(bot, query.from_user.id, pressed(query), texts.logo_removed())


async def colors(message: Message, bot: Bot, shop: Shop) -> None:
    current = palette((await shop.storage.branding()).palette)
    link = await card_link(bot, "c_" + "x" * 22)  # a card-sized link, so the sample QR looks real
    tiles = [(choice, _(choice.name)) for choice in PALETTES]
    png = await asyncio.to_thread(render_swatches, tiles, shop.settings.shop_name, link)
    await message.answer_photo(
        BufferedInputFile(png, filename="colours.png"),
        caption=texts.colors_text(current),
        reply_markup=palettes(current.key),
    )


async def palette_chosen(
    query: CallbackQuery, callback_data: PaletteCb, bot: Bot, shop: Shop
) -> None:
    if callback_data.key not in {choice.key for choice in PALETTES}:
        await stale(query)
        return
    chosen = palette(callback_data.key)
    await shop.storage.set_palette(chosen.key)
    await query.answer()
    await show(bot, query.from_user.id, pressed(query), texts.palette_chosen(chosen))
