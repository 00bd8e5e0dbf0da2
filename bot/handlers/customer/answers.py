"""The customer's answers: to a spending request (drafted at the desk; whoever settles it
updates both chats, each message once), and the "stop promotions" button."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from html import escape

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.domain import desk
from bot.domain.program.rules import points_value_minor
from bot.handlers.replies import pressed
from bot.i18n import _
from bot.keyboards.common import OpCb
from bot.keyboards.customer import PromoCb
from bot.shop import Shop
from bot.telegram.notify import edit_for
from bot.texts import cashier, receipts
from bot.texts.common import outcome_text
from bot.texts.customer import no_card
from storage import Customer
from storage.records import PendingOperation, PendingStatus


async def customer_decides(query: CallbackQuery, callback_data: OpCb, bot: Bot, shop: Shop) -> None:
    await answer_spending_request(query, callback_data, bot, shop)


async def answer_spending_request(
    query: CallbackQuery, callback_data: OpCb, bot: Bot, shop: Shop
) -> None:
    if callback_data.ok:
        result = await desk.confirm(
            shop.context, callback_data.id, query.from_user.id, desk.REDEEM_BUTTON
        )
        outcome = result.outcome
    else:
        result = await desk.close(
            shop.context,
            callback_data.id,
            query.from_user.id,
            desk.REDEEM_BUTTON,
            PendingStatus.DECLINED,
            by_customer=True,
        )
        outcome = desk.Outcome.CLOSED if result.outcome is desk.Outcome.BOOKED else result.outcome
    if result.operation is None or not result.moved:
        # Settled before (a second tap, a late answer): whoever settled it told both chats.
        await query.answer(outcome_text(result.outcome), show_alert=True)
        return
    if outcome in (desk.Outcome.BOOKED, desk.Outcome.CLOSED):
        await query.answer()
    else:
        await query.answer(outcome_text(outcome), show_alert=True)
    operation = result.operation
    message = pressed(query)
    if message is not None:
        # The customer's own message, whether or not its id was recorded yet.
        operation = replace(operation, customer_message_id=message.message_id)
    await show_redeem_result(bot, shop, operation, outcome, result)


async def expire_later(bot: Bot, shop: Shop, operation_id: str) -> None:
    """When nobody answers in time, both sides learn it (the button alone would say so)."""
    await asyncio.sleep(desk.CUSTOMER_CONFIRM_TTL.total_seconds() + 1)
    result = await desk.expire(shop.context, operation_id)
    if result.moved and result.operation is not None:
        await show_redeem_result(bot, shop, result.operation, desk.Outcome.EXPIRED)


async def show_redeem_result(
    bot: Bot,
    shop: Shop,
    operation: PendingOperation,
    outcome: desk.Outcome,
    result: desk.Result | None = None,
    only_customer: bool = False,
) -> None:
    """Update both chats, each message once: the customer's request and the cashier's
    waiting message (recorded before the request was sent)."""
    customer = await shop.storage.customer(operation.customer_id)
    staff = await shop.storage.customer_by_telegram(operation.operator_id)
    staff_language = staff.language if staff else None
    balance = (
        result.booking.balance
        if result and result.booking
        else (customer.balance if customer else 0)
    )
    name = escape((customer.name if customer else "") or "")
    worth = points_value_minor(shop.program, operation.points)

    def customer_text() -> tuple[str, InlineKeyboardMarkup | None]:
        return receipts.spending_result(outcome, operation.points, balance), None

    def staff_text() -> tuple[str, InlineKeyboardMarkup | None]:
        return cashier.spending_result(outcome, operation, name, worth, balance), None

    if customer and customer.telegram_id and operation.customer_message_id:
        await edit_for(
            bot,
            shop,
            customer.telegram_id,
            operation.customer_message_id,
            customer.language,
            customer_text,
        )
    if operation.staff_chat_id and operation.staff_message_id and not only_customer:
        await edit_for(
            bot,
            shop,
            operation.staff_chat_id,
            operation.staff_message_id,
            staff_language,
            staff_text,
        )


async def opt_out(
    query: CallbackQuery, callback_data: PromoCb, shop: Shop, customer: Customer | None
) -> None:
    if customer is None:
        await query.answer(no_card(), show_alert=True)
        return
    await shop.storage.set_promotions(customer.id, callback_data.on)
    if callback_data.on:
        await query.answer(_("Promotions are on again."))
    else:
        await query.answer(
            _(
                "You will not receive promotions any more. Receipts still arrive. "
                "Turn them back on in /settings."
            ),
            show_alert=True,
        )
