"""Refunds and undos: pick one of the customer's recent operations, draft its reversal."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain import desk
from bot.handlers.cashier.view import Desk, desk_customer
from bot.handlers.replies import pressed, stale
from bot.i18n import _
from bot.keyboards.cashier import PickCb, confirm_operation, full_refund, operations_to_reverse
from bot.shop import Shop
from bot.texts.cashier import operation_label
from bot.texts.common import customer_name
from bot.texts.numbers import money, points
from storage import Customer, EntryKind

REFUND_CHOICES = 6


def nothing_to_reverse() -> str:
    return _("There is nothing to refund or undo for this customer.")


async def list_operations(message: Message, shop: Shop, customer: Customer, view: str) -> None:
    operations = [
        op
        for op in await shop.storage.operations(customer.id, REFUND_CHOICES * 3)
        if op.open_points > 0 or op.open_minor > 0
    ][:REFUND_CHOICES]
    if not operations:
        await message.answer(nothing_to_reverse())
        return
    choices = [(op.entry.id, operation_label(op, shop.settings.timezone)) for op in operations]
    await message.answer(
        _("Which operation should be refunded or undone?"),
        reply_markup=operations_to_reverse(view, choices),
    )


async def picked(
    query: CallbackQuery, callback_data: PickCb, shop: Shop, state: FSMContext
) -> None:
    customer = await desk_customer(query, callback_data.view, shop, state)
    message = pressed(query)
    if customer is None or message is None:
        return
    operation = await shop.storage.operation(callback_data.entry)
    if operation is None or not operation.held_by(customer.id):
        await stale(query)
        return
    if operation.entry.kind is EntryKind.REDEEM:
        await draft_reversal(message, shop, customer, state, operation.entry.id, None, query)
    else:
        await state.set_state(Desk.refund_amount)
        await state.update_data(entry=operation.entry.id)
        await message.answer(
            _(
                "Type the refunded amount (up to {amount}), or refund it all:",
                amount=money(operation.open_minor),
            ),
            reply_markup=full_refund(
                callback_data.view, _("Refund {amount}", amount=money(operation.open_minor))
            ),
        )
    await query.answer()


async def refund_amount_typed(
    message: Message, shop: Shop, customer: Customer, state: FSMContext, amount: int
) -> None:
    data = await state.get_data()
    await draft_reversal(message, shop, customer, state, data.get("entry", 0), amount, None)


async def draft_reversal(
    message: Message,
    shop: Shop,
    customer: Customer,
    state: FSMContext,
    entry_id: int,
    refund_minor: int | None,
    query: CallbackQuery | None,
) -> None:
    operation = await shop.storage.operation(entry_id)
    if operation is None or not operation.held_by(customer.id):
        await message.answer(nothing_to_reverse())
        return
    if refund_minor is not None and refund_minor > operation.open_minor:
        await message.answer(
            _(
                "At most {amount} of this purchase is left to refund.",
                amount=money(operation.open_minor),
            )
        )
        return
    operator = query.from_user.id if query else message.from_user.id  # type: ignore[union-attr]
    draft = await desk.draft_reversal(shop.context, customer, operator, operation, refund_minor)
    await state.set_state(Desk.customer)
    if operation.entry.kind is EntryKind.REDEEM:
        text = _(
            "Undo spending: give <b>{points}</b> back to {name}. Confirm?",
            points=points(draft.points),
            name=customer_name(customer),
        )
    else:
        text = _(
            "Refund of <b>{amount}</b> for {name}: <b>-{points}</b>. Confirm?",
            amount=money(draft.bill_minor or 0),
            name=customer_name(customer),
            points=points(draft.points),
        )
    await message.answer(text, reply_markup=confirm_operation(draft.id))
