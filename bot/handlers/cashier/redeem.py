"""Spending points at the desk: the cashier drafts a request, the customer confirms it in
their own chat (see `bot.handlers.customer.answers`), or it expires."""

from __future__ import annotations

import asyncio
from html import unescape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain import desk
from bot.domain import standing as loyalty
from bot.domain.program.model import Reward
from bot.domain.program.rules import max_redeemable, points_value_minor, stamp_rewards
from bot.handlers.cashier.view import Desk, desk_customer
from bot.handlers.customer.answers import expire_later, show_redeem_result
from bot.handlers.replies import pressed, stale
from bot.i18n import _
from bot.keyboards.cashier import RewardCb, cancel_only, reward_tag, rewards, spend_all
from bot.keyboards.customer import customer_decision
from bot.shop import Shop
from bot.telegram.notify import tell_customer
from bot.texts.cashier import waiting_text
from bot.texts.common import customer_name, holder_name, reward_text
from bot.texts.numbers import money, points
from bot.texts.receipts import spending_request
from storage import Customer
from storage.records import PendingStatus


def redeem_limit(shop: Shop, customer: Customer, bill: int) -> int:
    return max_redeemable(
        shop.program, customer.balance, bill, loyalty.current_tier(shop.program, customer)
    )


async def ask_bill(
    message: Message, shop: Shop, customer: Customer, state: FSMContext, view: str
) -> None:
    """Points are spent on a bill: ask for it, offering the rewards the balance affords."""
    await state.set_state(Desk.redeem_bill)
    affordable = [
        (index, reward)
        for index, reward in enumerate(shop.program.rewards)
        if reward.cost <= customer.balance
    ]
    await message.answer(
        _(
            "{name} has {balance}. Type the amount of the bill, like 12.50.",
            name=customer_name(customer),
            balance=points(customer.balance),
        )
        + (("\n" + _("Or pick a reward:")) if affordable else ""),
        reply_markup=rewards(
            view,
            [
                (index, reward, f"{reward.name} · {points(reward.cost)}")
                for index, reward in affordable
            ],
        ),
    )


async def redeem_bill_typed(
    message: Message, shop: Shop, customer: Customer, state: FSMContext, bill: int
) -> None:
    limit = redeem_limit(shop, customer, bill)
    if limit <= 0:
        await state.set_state(Desk.customer)
        await message.answer(
            _(
                "{name} cannot spend points on this bill: the balance is {balance}.",
                name=customer_name(customer),
                balance=points(customer.balance),
            )
        )
        return
    await state.update_data(bill=bill)
    await state.set_state(Desk.redeem_points)
    view = (await state.get_data())["view"]
    await message.answer(
        _(
            "How many points to spend? Up to {limit} on this bill ({worth} off).",
            limit=points(limit),
            worth=money(points_value_minor(shop.program, limit)),
        ),
        reply_markup=spend_all(view, _("Spend {points}", points=points(limit))),
    )


async def redeem_points_typed(
    message: Message, shop: Shop, customer: Customer, state: FSMContext, text: str
) -> None:
    data = await state.get_data()
    bill = data.get("bill", 0)
    limit = redeem_limit(shop, customer, bill)
    compact = text.replace(" ", "")
    if not (compact.isascii() and compact.isdigit()) or not 0 < int(compact) <= limit:
        await message.answer(
            _("Please type a whole number of points from 1 to {limit}.", limit=limit)
        )
        return
    assert message.bot
    await request_redeem(message, message.bot, shop, customer, state, int(compact), bill, None)


async def request_redeem(
    message: Message,
    bot: Bot,
    shop: Shop,
    customer: Customer,
    state: FSMContext,
    amount: int,
    bill: int | None,
    query: CallbackQuery | None,
    reward: Reward | None = None,
) -> None:
    operator = query.from_user.id if query else message.from_user.id  # type: ignore[union-attr]
    operation = await desk.draft_redeem(shop.context, customer, operator, amount, bill, reward)
    await state.set_state(Desk.customer)
    worth = points_value_minor(shop.program, amount)
    reward_name = reward.name if reward is not None else None

    def ask() -> tuple[str, InlineKeyboardMarkup | None]:
        text = spending_request(shop.settings.shop_name, amount, worth, reward_name)
        return text, customer_decision(operation.id)

    # The cashier's message first: the customer cannot answer before it exists, so
    # whoever settles the request knows both messages and edits each once.
    waiting = await message.answer(
        waiting_text(customer, amount, worth, reward_name),
        reply_markup=cancel_only(operation.id),
    )
    await shop.storage.set_pending_messages(operation.id, waiting.chat.id, waiting.message_id)
    sent = await tell_customer(bot, shop, customer, ask)
    if sent is None:
        closed = await desk.close(
            shop.context, operation.id, operator, desk.REDEEM_BUTTON, PendingStatus.CANCELLED
        )
        if closed.moved:
            await waiting.edit_text(
                _("The customer cannot be reached in Telegram, so points cannot be spent now.")
            )
        return
    current = await shop.storage.set_pending_messages(
        operation.id, customer_message_id=sent.message_id
    )
    if current is not None and current.status is PendingStatus.CANCELLED:
        # The cashier withdrew it before its message was recorded: only this knows it.
        await show_redeem_result(bot, shop, current, desk.Outcome.CLOSED, only_customer=True)
        return
    asyncio.create_task(expire_later(bot, shop, operation.id))  # noqa: RUF006


async def offer_stamp_reward(
    message: Message,
    bot: Bot,
    shop: Shop,
    customer: Customer,
    state: FSMContext,
    query: CallbackQuery,
) -> None:
    program = shop.program
    if stamp_rewards(program, customer.balance) < 1:
        await query.answer(
            _(
                "{name} has {stamps}; a reward needs {needed}.",
                name=holder_name(customer),
                stamps=points(customer.balance),
                needed=points(program.stamps_for_reward),
            ),
            show_alert=True,
        )
        return
    reward = Reward(unescape(reward_text(program)), program.stamps_for_reward)
    await request_redeem(message, bot, shop, customer, state, reward.cost, None, query, reward)
    await query.answer()


async def reward_picked(
    query: CallbackQuery, callback_data: RewardCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    customer = await desk_customer(query, callback_data.view, shop, state)
    message = pressed(query)
    if customer is None or message is None:
        return
    choices = shop.program.rewards
    if not 0 <= callback_data.index < len(choices) or customer.telegram_id is None:
        await stale(query)
        return
    reward = choices[callback_data.index]
    if reward_tag(reward) != callback_data.tag:  # the catalogue changed since it was shown
        await stale(query)
        return
    if reward.cost > customer.balance:
        await query.answer(
            _("Not enough points for {reward}.", reward=reward.name), show_alert=True
        )
        return
    await request_redeem(message, bot, shop, customer, state, reward.cost, None, query, reward)
    await query.answer()
