"""The cashier's (or owner's) Confirm and Cancel under a drafted operation."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery

from bot.domain import desk
from bot.handlers.cashier.receipts import answer_booking
from bot.handlers.customer.answers import answer_spending_request, show_redeem_result
from bot.handlers.replies import show
from bot.i18n import _
from bot.keyboards.common import OpCb
from bot.shop import Shop
from bot.telegram.middlewares import RateWindow
from bot.telegram.roles import Role
from bot.texts.common import outcome_text
from storage import EntryKind
from storage.records import PendingStatus


async def staff_decides(
    query: CallbackQuery,
    callback_data: OpCb,
    bot: Bot,
    shop: Shop,
    bookings: RateWindow,
    role: Role,
) -> None:
    operation = await shop.storage.pending(callback_data.id)
    if operation is not None and operation.kind is EntryKind.ADJUST and role < Role.OWNER:
        await query.answer(outcome_text(desk.Outcome.FORBIDDEN), show_alert=True)
        return
    if operation is not None and operation.kind is EntryKind.REDEEM:
        if operation.operator_id != query.from_user.id:
            # Perhaps the customer (who is also staff) answering their own request.
            await answer_spending_request(query, callback_data, bot, shop)
            return
        if callback_data.ok:
            await query.answer(_("Only the customer can confirm spending points."), show_alert=True)
            return
        result = await desk.close(
            shop.context,
            callback_data.id,
            query.from_user.id,
            desk.REDEEM_BUTTON,
            PendingStatus.CANCELLED,
        )
        await answer_close(query, result)
        if result.moved and result.operation:
            await show_redeem_result(bot, shop, result.operation, desk.Outcome.CLOSED)
        return
    if not callback_data.ok:
        result = await desk.close(
            shop.context,
            callback_data.id,
            query.from_user.id,
            desk.STAFF_BUTTON,
            PendingStatus.CANCELLED,
        )
        await answer_close(query, result)
        if result.moved:
            await show(bot, query.from_user.id, query.message, _("Cancelled. Nothing was booked."))
        return
    if not bookings.allow(query.from_user.id):
        await query.answer(
            _(
                "That is more bookings in a minute than a till usually makes. "
                "Wait a moment and press Confirm again; nothing was booked."
            ),
            show_alert=True,
        )
        return
    result = await desk.confirm(
        shop.context, callback_data.id, query.from_user.id, desk.STAFF_BUTTON
    )
    await answer_booking(query, bot, shop, result)


async def answer_close(query: CallbackQuery, result: desk.Result) -> None:
    if result.outcome is desk.Outcome.BOOKED and result.moved:
        await query.answer(_("Cancelled."))
    else:
        await query.answer(outcome_text(result.outcome), show_alert=True)
