"""A purchase drafted at the desk (with an offer applied when the cashier picked one)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain import desk
from bot.handlers.cashier.view import Desk, desk_customer
from bot.i18n import _
from bot.keyboards.cashier import OfferCb, confirm_operation
from bot.shop import Shop
from bot.texts.cashier import earn_note_text
from bot.texts.common import customer_name, offer_line, outcome_text
from bot.texts.numbers import money, points
from storage import Customer, Offer


async def usable_offer(shop: Shop, customer: Customer, offer_id: int | None) -> Offer | None:
    """The customer's offer with this id if it can be used now; most purchases have none,
    and then nothing is read."""
    if offer_id is None:
        return None
    offers = await shop.storage.offers_for(customer.id, shop.context.now())
    return next((offer for offer in offers if offer.id == offer_id), None)


async def purchase(
    message: Message, shop: Shop, customer: Customer, amount: int, state: FSMContext
) -> None:
    assert message.from_user
    offer = await usable_offer(shop, customer, (await state.get_data()).get("offer_id"))
    operation, earned = await desk.draft_purchase(
        shop.context, customer, message.from_user.id, amount, offer
    )
    await state.update_data(offer_id=None)  # an offer applies to one purchase
    text = _(
        "Purchase of <b>{amount}</b> for {name}: <b>+{points}</b>. Confirm?",
        amount=money(amount),
        name=customer_name(customer),
        points=points(operation.points),
    )
    note = earn_note_text(shop.program, shop.settings.timezone, earned)
    if note:
        text += "\n" + note
    if offer is not None:
        text += "\n" + _(
            "Offer applied: {offer}. Give the customer what it promises.",
            offer=offer_line(offer, shop.settings.timezone),
        )
    await message.answer(text, reply_markup=confirm_operation(operation.id))


async def offer_chosen(
    query: CallbackQuery, callback_data: OfferCb, shop: Shop, state: FSMContext
) -> None:
    customer = await desk_customer(query, callback_data.view, shop, state)
    if customer is None:
        return
    offer = await usable_offer(shop, customer, callback_data.id)
    if offer is None:
        await query.answer(outcome_text(desk.Outcome.OFFER_GONE), show_alert=True)
        return
    await state.update_data(offer_id=offer.id)
    await state.set_state(Desk.customer)
    await query.answer(
        _("{title} will apply to the next purchase. Type the amount.", title=offer.title),
        show_alert=True,
    )
