"""Finding the customer four ways (a scanned link, a photo of the card, a typed card number
or phone), the staff view that opens, and what typed text means once one is open."""

from __future__ import annotations

import asyncio
import secrets

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain import claims, desk, finding
from bot.domain import standing as loyalty
from bot.domain.parsing import AmountError, parse_amount
from bot.domain.tokens import LinkKind, parse_payload
from bot.handlers.cashier import purchase, redeem, refund
from bot.handlers.cashier.view import Desk, desk_customer
from bot.handlers.replies import pressed, stale
from bot.i18n import _
from bot.keyboards.cashier import DeskCb, desk_actions
from bot.keyboards.imports import WalkInCb, walk_in_offer
from bot.media.qr import links_in_photo, start_payload
from bot.services.delivery import send_card
from bot.shop import Shop
from bot.telegram.links import join_link
from bot.texts.cashier import amount_error_text, staff_view_text
from bot.texts.common import offer_line
from bot.texts.imports import unclaimed_note, unclaimed_spend_text, walk_in_text
from storage import Customer, unclaimed

MAX_PHOTO_BYTES = 10 * 1024 * 1024
# A typed phone or card number, whatever the desk's state.
LOOKUP_PATTERN = r"^[+\d][\d\s()\-]{6,20}$"
# An imported card's old plastic number, marked so it is never read as an amount.
LEGACY_PATTERN = r"^#\s?[A-Za-z0-9][A-Za-z0-9\s\-]{0,31}$"


async def open_customer(
    message: Message, shop: Shop, customer: Customer, state: FSMContext, note: str = ""
) -> None:
    if message.from_user and desk.own_card(message.from_user.id, customer):
        await state.clear()
        await message.answer(
            _(
                "This is your own card, so you cannot book on it. Ask a colleague to "
                "serve you; owners correct their own points with /adjust."
            )
        )
        return
    view = secrets.token_urlsafe(6)
    await state.set_state(Desk.customer)
    await state.set_data({"view": view, "customer_id": customer.id})
    standing = await loyalty.standing(shop.context, customer)
    offers = await shop.storage.offers_for(customer.id, shop.context.now())
    text = staff_view_text(customer, shop.program, standing)
    if unclaimed(customer):
        text += "\n\n" + (note or unclaimed_note(customer))
    if offers:
        text += "\n\n" + "\n".join(offer_line(offer, shop.settings.timezone) for offer in offers)
    await message.answer(
        text,
        reply_markup=desk_actions(
            view,
            shop.program.stamps,
            [(o.id, _("🏷 Apply: {title}", title=o.title[:30])) for o in offers],
        ),
    )


async def scanned_link(
    message: Message, payload: str, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    customer = await shop.storage.customer_by_payload(payload)
    if customer is None:
        await message.answer(_("No customer has this card. It may have been closed."))
        return
    if message.from_user and customer.telegram_id == message.from_user.id:
        await send_card(bot, shop, customer, message.chat.id)
        return
    await open_customer(message, shop, customer, state)


async def scanned_photo(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
    assert message.photo
    largest = message.photo[-1]
    if largest.file_size and largest.file_size > MAX_PHOTO_BYTES:
        await message.answer(_("That photo is too large. Please send a smaller one."))
        return
    file = await bot.get_file(largest.file_id)
    data = await bot.download_file(file.file_path or "")
    raw = data.read() if data else b""
    me = await bot.me()
    links = await asyncio.to_thread(links_in_photo, raw)
    for link in links:
        found = parse_payload(start_payload(link, me.username or ""))
        if found and found[0] is LinkKind.CARD:
            customer = await shop.storage.customer_by_payload(found[1])
            if customer is not None:
                await open_customer(message, shop, customer, state)
                return
    await message.answer(
        _(
            "I could not read a card in that photo. Tips: hold the phone steady, fill the "
            "frame with the QR code, avoid glare, or simply type the card number."
        )
        if not links
        else _("That QR code is not one of our loyalty cards.")
    )


async def typed(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
    """A card number or phone anywhere; an amount (or points) once a customer is open."""
    assert message.text
    text = message.text.strip()
    current = await state.get_state()
    found = await finding.find_customers(shop.context, text)
    # With a customer open, short digits are an amount, except an old card's number with
    # its leading zeros ('004512'): nobody types an amount like that.
    looks_like_lookup = found is not None and (
        current is None
        or len(text) >= 8
        or text.startswith("#")
        or (text.startswith("0") and text.isdigit() and bool(found))
    )
    if looks_like_lookup:
        assert found is not None
        if len(found) == 1:
            await open_customer(message, shop, found[0], state)
        elif not found:
            await offer_walk_in(message, shop, state, text)
        else:
            await message.answer(
                _(
                    "Several customers share that number. Please type the full phone "
                    "number or the card number."
                )
            )
        return
    data = await state.get_data()
    customer = await shop.storage.customer(data.get("customer_id", 0)) if data else None
    if customer is None or customer.forgotten:
        await state.clear()
        await message.answer(
            _("Scan a card, send a photo of it, or type a card number or phone number.")
        )
        return
    if current == Desk.redeem_points.state:
        await redeem.redeem_points_typed(message, shop, customer, state, text)
        return
    try:
        amount = parse_amount(text, shop.program.max_purchase_minor)
    except AmountError as error:
        await message.answer(amount_error_text(error, shop.program))
        return
    if current == Desk.redeem_bill.state:
        await redeem.redeem_bill_typed(message, shop, customer, state, amount)
    elif current == Desk.refund_amount.state:
        await refund.refund_amount_typed(message, shop, customer, state, amount)
    else:
        await purchase.purchase(message, shop, customer, amount, state)


async def desk_action(
    query: CallbackQuery, callback_data: DeskCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    """The staff view's buttons: purchase, spend, refund, and their follow-ups."""
    customer = await desk_customer(query, callback_data.view, shop, state)
    message = pressed(query)
    if customer is None or message is None:
        return
    action = callback_data.action
    if action == "purchase":
        await state.set_state(Desk.customer)
        await message.answer(_("Type the purchase amount, like 12.50."))
    elif action == "redeem":
        if unclaimed(customer):
            await query.answer(unclaimed_spend_text(), show_alert=True)
            return
        if customer.telegram_id is None:
            await query.answer(_("This card has been closed."), show_alert=True)
            return
        if shop.program.stamps:
            await redeem.offer_stamp_reward(message, bot, shop, customer, state, query)
            return
        await redeem.ask_bill(message, shop, customer, state, callback_data.view)
    elif action == "redeem_max":
        data = await state.get_data()
        if await state.get_state() != Desk.redeem_points.state or "bill" not in data:
            await stale(query)
            return
        limit = redeem.redeem_limit(shop, customer, data["bill"])
        await redeem.request_redeem(message, bot, shop, customer, state, limit, data["bill"], query)
    elif action == "refund":
        await refund.list_operations(message, shop, customer, callback_data.view)
    elif action == "refund_full":
        data = await state.get_data()
        if await state.get_state() != Desk.refund_amount.state or "entry" not in data:
            await stale(query)
            return
        await refund.draft_reversal(message, shop, customer, state, data["entry"], None, query)
    else:
        await stale(query)
        return
    await query.answer()


async def offer_walk_in(message: Message, shop: Shop, state: FSMContext, text: str) -> None:
    """Nobody has the typed number: a phone gets the offer of a new card for it."""
    phone = claims.walk_in_phone(shop.context, text)
    if phone is None:
        await message.answer(_("No customer with that card number or phone."))
        return
    view = secrets.token_urlsafe(6)
    await state.update_data(walk_in=phone, walk_view=view)
    await message.answer(
        _("No customer with that card number or phone."),
        reply_markup=walk_in_offer(view, claims.international(phone)),
    )


async def walk_in(
    query: CallbackQuery, callback_data: WalkInCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    """The new card opened at the desk, with how its holder claims it in Telegram."""
    data = await state.get_data()
    message = pressed(query)
    phone = data.get("walk_in")
    if message is None or not phone or data.get("walk_view") != callback_data.view:
        await stale(query)
        return
    await query.answer()
    card, _created = await claims.open_walk_in(shop.context, phone)
    note = walk_in_text(await join_link(bot), claims.international(phone))
    await open_customer(message, shop, card, state, note if unclaimed(card) else "")
