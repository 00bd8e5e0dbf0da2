"""The owner's figures (/stats), exports (/export) and manual adjustments (/adjust)."""

from __future__ import annotations

import re
from datetime import date
from html import escape

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.domain import desk, insights
from bot.domain.tokens import normalize_card_number
from bot.handlers.replies import stale
from bot.i18n import _
from bot.keyboards.cashier import confirm_operation
from bot.keyboards.owner import StatsCb, stats_periods
from bot.services import reports
from bot.shop import Shop
from bot.texts.common import customer_name
from bot.texts.numbers import points, signed_points

CUSTOM_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s+(\d{4}-\d{2}-\d{2})$")
ADJUST_RE = re.compile(r"^(\S+(?:\s\S{4})?)\s+([+-]\d{1,6})\s+(.{3,200})$", re.S)


async def send_stats(bot: Bot, shop: Shop, chat_id: int, span: insights.Period) -> None:
    figures = await shop.storage.period_figures(span.since, span.until, insights.REVENUE)
    sources = await shop.storage.join_sources(span.since, span.until)
    await bot.send_message(
        chat_id, reports.stats_text(shop, span, figures, sources), reply_markup=stats_periods()
    )
    for index, png in enumerate(await reports.weekly_charts(shop, span, figures)):
        await bot.send_photo(chat_id, BufferedInputFile(png, filename=f"chart{index}.png"))


def custom_span(args: str) -> tuple[date, date] | None:
    """Two ISO dates, in order, less than `insights.MAX_DAYS` apart."""
    match = CUSTOM_RE.match(args)
    try:
        first, last = (
            (date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2)))
            if match
            else (None, None)
        )
    except ValueError:
        return None
    if first is None or last is None or first > last or (last - first).days >= insights.MAX_DAYS:
        return None
    return first, last


async def stats(message: Message, command: CommandObject, bot: Bot, shop: Shop) -> None:
    args = (command.args or "").strip()
    if not args:
        span = insights.period(shop.settings.timezone, 30, shop.now().date())
    else:
        dates = custom_span(args)
        if dates is None:
            await message.answer(
                _(
                    "Use /stats for the last 30 days, or /stats with two dates for another "
                    "period, like <code>/stats 2026-10-01 2026-10-31</code> (a year at most)."
                )
            )
            return
        span = insights.between(shop.settings.timezone, *dates)
    await send_stats(bot, shop, message.chat.id, span)


async def stats_period(query: CallbackQuery, callback_data: StatsCb, bot: Bot, shop: Shop) -> None:
    if callback_data.days not in insights.PERIODS:
        await stale(query)
        return
    await query.answer()
    await send_stats(
        bot,
        shop,
        query.from_user.id,
        insights.period(shop.settings.timezone, callback_data.days, shop.now().date()),
    )


async def export(message: Message, shop: Shop) -> None:
    customers = insights.to_csv(insights.CUSTOMER_HEADER, await shop.storage.export_customers())
    ledger = insights.to_csv(insights.LEDGER_HEADER, await shop.storage.export_ledger())
    await message.answer_document(
        BufferedInputFile(customers, filename="customers.csv"),
        caption=_("Customers, with phone numbers: keep this file private."),
    )
    await message.answer_document(
        BufferedInputFile(ledger, filename="ledger.csv"),
        caption=_("Every ledger entry, oldest first."),
    )


async def adjust(message: Message, command: CommandObject, shop: Shop) -> None:
    assert message.from_user
    match = ADJUST_RE.match((command.args or "").strip())
    number = normalize_card_number(match.group(1)) if match else None
    if match is None or number is None or int(match.group(2)) == 0:
        await message.answer(
            _(
                "Use <code>/adjust card-number +50 reason</code> or "
                "<code>/adjust card-number -20 reason</code>; the reason is required."
            )
        )
        return
    customer = await shop.storage.customer_by_card_number(number)
    if customer is None:
        await message.answer(_("No customer with that card number or phone."))
        return
    amount, reason = int(match.group(2)), match.group(3).strip()
    if customer.balance + amount < 0:
        await message.answer(
            _(
                "{name} has only {balance}; nothing was changed.",
                name=customer_name(customer),
                balance=points(customer.balance),
            )
        )
        return
    # Booked by its button, whose id is drawn here: a redelivered /adjust only drafts.
    draft = await desk.draft_adjustment(
        shop.context, customer, message.from_user.id, amount, reason
    )
    await message.answer(
        _(
            "Change {name}'s points by {change} ({reason})? Confirm?",
            change=signed_points(amount),
            name=customer_name(customer),
            reason=escape(reason),
        ),
        reply_markup=confirm_operation(draft.id),
    )
