"""The customer open at the desk: the desk's states, and the one view a button belongs to."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot.i18n import _
from bot.shop import Shop
from storage import Customer


class Desk(StatesGroup):
    customer = State()  # a customer is open: a typed amount is a purchase
    redeem_bill = State()
    redeem_points = State()
    refund_amount = State()


async def desk_customer(
    query: CallbackQuery, view: str, shop: Shop, state: FSMContext
) -> Customer | None:
    """The customer of the pressed button's staff view, if that view is the open one and
    the card is still open; otherwise the cashier is told why and None comes back."""
    data = await state.get_data()
    if data.get("view") != view:
        await query.answer(
            _("This customer view is out of date. Scan the card again."), show_alert=True
        )
        return None
    customer = await shop.storage.customer(data.get("customer_id", 0))
    if customer is None or customer.forgotten:
        await query.answer(_("This card has been closed."), show_alert=True)
        return None
    return customer
