"""Joining: /start (plain, or through a card, referral, poster or stale link) and /help."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.domain.tokens import LinkKind, parse_payload
from bot.handlers.customer.enrol import ensure_customer
from bot.handlers.customer.profile import ask_phone
from bot.i18n import _
from bot.keyboards.customer import main_menu
from bot.services.delivery import send_card
from bot.shop import Shop
from bot.texts.customer import help_text, welcome_text
from storage import Customer


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    shop: Shop,
    customer: Customer | None,
    state: FSMContext,
) -> None:
    assert message.from_user
    link = parse_payload(command.args) if command.args else None
    if command.args and link is None:
        await message.answer(_("This link is not valid. Here is your own card."))
    is_new = customer is None
    referrer, source = None, "link"
    if link and link[0] is LinkKind.REFERRAL:
        referrer = await shop.storage.customer_by_referral(link[1])
    elif link and link[0] is LinkKind.CARD:
        # Someone else's card scanned by a newcomer: they join with its holder as friend.
        referrer, source = await shop.storage.customer_by_payload(link[1]), "card"
    poster = link[1] if link and link[0] is LinkKind.JOIN else None
    customer = await ensure_customer(shop, message.from_user, customer, referrer, source, poster)
    if link and link[0] is LinkKind.CARD and link[1] != customer.card_payload:
        await message.answer(_("That QR code is another customer's card. Here is your own card."))
    elif link and link[0] is LinkKind.REFERRAL and not is_new:
        await message.answer(
            _("This is your own invitation link: share it with friends (/invite).")
            if referrer is not None and referrer.id == customer.id
            else _("You already have a card, so this invitation changes nothing.")
        )
    elif link and link[0] is LinkKind.REFERRAL and referrer is None:
        await message.answer(_("This invitation link is not valid any more."))
    elif link and link[0] not in (LinkKind.CARD, LinkKind.REFERRAL, LinkKind.JOIN):
        await message.answer(_("This link has expired or was already used."))
    if not is_new:
        await send_card(bot, shop, customer, message.chat.id, main_menu())
        return
    await send_card(bot, shop, customer, message.chat.id)
    referred = (await shop.storage.referral(customer.id)) is not None
    await message.answer(welcome_text(shop.settings.shop_name, customer, shop.program, referred))
    await ask_phone(message, state)


async def help_(message: Message, shop: Shop) -> None:
    await message.answer(help_text(shop.settings.shop_name), reply_markup=main_menu())
