"""The customer's card and what is on it: the card, balance, history, offers, invitations."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain import standing as loyalty
from bot.domain.clock import utcnow
from bot.handlers.customer.enrol import ensure_customer
from bot.handlers.replies import pressed, show
from bot.i18n import _
from bot.keyboards.customer import HistoryCb, card_buttons, history_pages, main_menu, share
from bot.services.delivery import send_card
from bot.shop import Shop
from bot.telegram.links import personal_link
from bot.texts.customer import (
    balance_text,
    history_text,
    invite_page,
    invite_share,
    no_card,
    offers_text,
)
from storage import Customer

HISTORY_PAGE = 8


async def card(message: Message, bot: Bot, shop: Shop, customer: Customer | None) -> None:
    assert message.from_user
    customer = await ensure_customer(shop, message.from_user, customer)
    buttons = card_buttons() if shop.program.referrals else main_menu()
    await send_card(bot, shop, customer, message.chat.id, buttons)


async def invite_text(bot: Bot, shop: Shop, customer: Customer) -> tuple[str, str]:
    """The customer's invitation page and the address that shares it with friends."""
    link = await personal_link(bot, shop, customer)
    stats = await shop.storage.referral_stats(customer.id)
    text = invite_page(shop.settings.shop_name, shop.program, link, stats)
    return text, share_url(link, invite_share(shop.settings.shop_name))


def share_url(link: str, text: str) -> str:
    return "https://t.me/share/url?" + urlencode({"url": link, "text": text}, quote_via=quote)


async def invite(message: Message, bot: Bot, shop: Shop, customer: Customer | None) -> None:
    assert message.from_user
    if not shop.program.referrals:
        await message.answer(_("This shop has no referral program at the moment."))
        return
    customer = await ensure_customer(shop, message.from_user, customer)
    text, url = await invite_text(bot, shop, customer)
    await message.answer(text, reply_markup=share(url))


async def invite_button(
    query: CallbackQuery, bot: Bot, shop: Shop, customer: Customer | None
) -> None:
    if customer is None or not shop.program.referrals:
        await query.answer(no_card(), show_alert=True)
        return
    text, url = await invite_text(bot, shop, customer)
    await query.answer()
    await bot.send_message(query.from_user.id, text, reply_markup=share(url))


async def offers(message: Message, shop: Shop, customer: Customer | None) -> None:
    assert message.from_user
    customer = await ensure_customer(shop, message.from_user, customer)
    found = await shop.storage.offers_for(customer.id, utcnow())
    await message.answer(offers_text(found, shop.settings.timezone))


async def balance(message: Message, shop: Shop, customer: Customer | None) -> None:
    assert message.from_user
    customer = await ensure_customer(shop, message.from_user, customer)
    standing = await loyalty.standing(shop.context, customer)
    now = utcnow()
    expiring = await shop.storage.expiring(now, now + timedelta(days=366), customer.id)
    soonest = expiring[0] if expiring else None
    await message.answer(
        balance_text(customer, shop.program, standing, soonest), reply_markup=main_menu()
    )


async def history_page(
    shop: Shop, customer: Customer, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await shop.storage.count_entries(customer.id)
    pages = max(1, -(-total // HISTORY_PAGE))
    page = min(max(page, 0), pages - 1)
    entries = await shop.storage.history(customer.id, HISTORY_PAGE, page * HISTORY_PAGE)
    text = history_text(entries, page, pages, shop.settings.timezone)
    return text, history_pages(page, pages)


async def history(message: Message, shop: Shop, customer: Customer | None) -> None:
    assert message.from_user
    customer = await ensure_customer(shop, message.from_user, customer)
    text, markup = await history_page(shop, customer, 0)
    await message.answer(text, reply_markup=markup)


async def history_turn(
    query: CallbackQuery,
    callback_data: HistoryCb,
    bot: Bot,
    shop: Shop,
    customer: Customer | None,
) -> None:
    # The page number is untrusted but harmless: it is clamped, and the card is the sender's.
    message = pressed(query)
    if customer is None or message is None:
        await query.answer(no_card(), show_alert=True)
        return
    text, markup = await history_page(shop, customer, callback_data.page)
    await show(bot, query.from_user.id, message, text, markup)
    await query.answer()
