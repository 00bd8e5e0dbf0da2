"""Sending the card picture: rendered once per change, then reused by its Telegram file_id."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.domain import standing as loyalty
from bot.media.card import render_card
from bot.media.logo import digest_of
from bot.shop import Shop
from bot.telegram.links import card_link
from bot.texts.common import offer_line
from bot.texts.customer import card_caption, card_view
from storage import Customer

log = logging.getLogger(__name__)


async def send_card(
    bot: Bot,
    shop: Shop,
    customer: Customer,
    chat_id: int,
    reply_markup: ReplyKeyboardMarkup | InlineKeyboardMarkup | None = None,
) -> None:
    standing = await loyalty.standing(shop.context, customer)
    view = card_view(
        customer,
        shop.program,
        standing,
        shop.settings.shop_name,
        await card_link(bot, customer.card_payload),
    )
    # The shop's look is part of the picture, so of its cache key: a new palette or logo
    # means a new upload, never an old file_id.
    look = await shop.storage.branding()
    view = dataclasses.replace(view, palette=look.palette or "", logo_digest=look.logo_digest or "")
    key = view.cache_key()
    caption = card_caption(customer, shop.program, standing, shop.settings.shop_name)
    offers = await shop.storage.offers_for(customer.id, shop.context.now())
    if offers:
        caption += "\n\n" + "\n".join(
            offer_line(offer, shop.settings.timezone) for offer in offers[:3]
        )
    if customer.card_file_id and customer.card_file_key == key:
        try:
            await bot.send_photo(
                chat_id, customer.card_file_id, caption=caption, reply_markup=reply_markup
            )
            return
        except TelegramBadRequest as exc:
            # e.g. the bot token changed and the old file_id means nothing to Telegram now.
            log.info("cached card picture refused (%s); uploading again", exc.message)
    logo = await shop.storage.logo() if look.logo_digest else None
    if logo is not None and digest_of(logo) != view.logo_digest:
        # The logo changed since the look was read: the key names the one drawn.
        view = dataclasses.replace(view, logo_digest=digest_of(logo))
        key = view.cache_key()
    png = await asyncio.to_thread(render_card, view, logo)
    sent = await bot.send_photo(
        chat_id,
        BufferedInputFile(png, filename="card.png"),
        caption=caption,
        reply_markup=reply_markup,
    )
    if sent.photo:
        await shop.storage.set_card_file(customer.id, key, sent.photo[-1].file_id)
