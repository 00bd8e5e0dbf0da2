"""The program in plain words (/program), and giving points back to the shop's cause (/give)."""

from __future__ import annotations

from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.domain import desk
from bot.handlers.replies import show
from bot.i18n import _
from bot.keyboards.customer import GiveCb, donation_decision
from bot.shop import Shop
from bot.telegram.roles import Role
from bot.texts.common import outcome_text
from bot.texts.customer import no_card
from bot.texts.numbers import points
from bot.texts.program import giving_text, program_text
from storage import Customer
from storage.records import PendingStatus


class Giving(StatesGroup):
    amount = State()


async def show_program(message: Message, shop: Shop, role: Role) -> None:
    await message.answer(program_text(shop.program, for_owner=role is Role.OWNER))


async def give(message: Message, shop: Shop, customer: Customer | None, state: FSMContext) -> None:
    if not shop.program.cause:
        await message.answer(_("This shop has not named a cause to give points to yet."))
        return
    if customer is None:
        await message.answer(no_card())
        return
    total = await shop.storage.donations_total()
    await state.set_state(Giving.amount)
    await message.answer(giving_text(shop.program, customer, total))


async def give_amount(
    message: Message, shop: Shop, customer: Customer | None, state: FSMContext
) -> None:
    assert message.text
    if customer is None:
        await state.clear()
        await message.answer(no_card())
        return
    compact = message.text.strip().replace(" ", "")
    if not (compact.isascii() and compact.isdigit()) or not 0 < int(compact) <= customer.balance:
        if customer.balance <= 0:
            await state.clear()
            await message.answer(_("You have no points to give yet."))
            return
        await message.answer(
            _("Please type a whole number of points from 1 to {limit}.", limit=customer.balance)
        )
        return
    await state.clear()
    operation = await desk.draft_donation(shop.context, customer, int(compact))
    await message.answer(
        _(
            "Give <b>{points}</b> to {cause}? Points given cannot be taken back.",
            points=points(operation.points),
            cause=escape(shop.program.cause),
        ),
        reply_markup=donation_decision(operation.id),
    )


async def give_decided(query: CallbackQuery, callback_data: GiveCb, bot: Bot, shop: Shop) -> None:
    if callback_data.ok:
        result = await desk.confirm(
            shop.context, callback_data.id, query.from_user.id, desk.DONATION_BUTTON
        )
    else:
        result = await desk.close(
            shop.context,
            callback_data.id,
            query.from_user.id,
            desk.DONATION_BUTTON,
            PendingStatus.DECLINED,
            by_customer=True,
        )
        if result.outcome is desk.Outcome.BOOKED and result.moved:
            await query.answer()
            await show(
                bot,
                query.from_user.id,
                query.message,
                _("Nothing was given. Your points stay yours."),
            )
            return
    if result.outcome is not desk.Outcome.BOOKED or result.booking is None:
        await query.answer(outcome_text(result.outcome), show_alert=True)
        return
    await query.answer()
    total = await shop.storage.donations_total()
    await show(
        bot,
        query.from_user.id,
        query.message,
        _(
            "💚 Thank you! You gave {points} to {cause}. Together our customers have "
            "given {total}. Your balance: {balance}.",
            points=points(-result.booking.entry.amount),
            cause=escape(shop.program.cause),
            total=points(total),
            balance=points(result.booking.balance),
        ),
    )
