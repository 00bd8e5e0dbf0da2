"""Offers: the owner creates a coupon for an audience (with an optional holdout), it is
announced through the promotion outbox, and its results are compared with the holdout."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.domain.clock import utcnow
from bot.domain.parsing import AmountError, parse_amount
from bot.handlers.owner.compose import audience_labels, choose_audience, draft_at, toggle_holdout
from bot.handlers.replies import pressed, stale
from bot.i18n import _
from bot.keyboards.owner import (
    OfferAudienceCb,
    OfferKindCb,
    OfferResultsCb,
    OfferSendCb,
    offer_audiences,
    offer_kinds,
    offer_results,
    offer_send,
)
from bot.services.broadcaster import Broadcaster
from bot.shop import Shop
from bot.texts.common import offer_line
from bot.texts.numbers import number
from bot.texts.owner import offer_kind_labels, offer_results_text
from storage import Audience, Offer, OfferKind, Segment

TERMS_RE = re.compile(r"^(\d{1,3})\s+(\d{1,2})$")
MAX_DAYS, MAX_USES = 365, 10


class OfferCompose(StatesGroup):
    title = State()
    kind = State()
    value = State()
    terms = State()
    audience = State()


def parse_value(kind: OfferKind, text: str, shop: Shop) -> int | None:
    compact = text.strip().replace(" ", "")
    if kind is OfferKind.DISCOUNT:
        try:
            return parse_amount(compact, shop.program.max_purchase_minor)
        except AmountError:
            return None
    if kind is OfferKind.MULTIPLIER:
        match = re.fullmatch(r"(\d{1,2})(?:[.,](\d))?", compact)
        if not match:
            return None
        value = int(match.group(1)) * 100 + int(match.group(2) or 0) * 10
        return value if 110 <= value <= 1000 else None
    if not (compact.isascii() and compact.isdigit()):
        return None
    value = int(compact)
    limit = 100 if kind is OfferKind.PERCENT else 100_000
    return value if 1 <= value <= limit else None


async def start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(OfferCompose.title)
    await message.answer(
        _("New offer. Send its title, like <code>Free coffee this week</code>. /cancel stops.")
    )


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("The offer was discarded."))


async def titled(message: Message, state: FSMContext) -> None:
    title = (message.text or "").strip()
    if not 1 <= len(title) <= 60 or title.startswith("/"):
        await message.answer(_("Please send a title of 1 to 60 characters."))
        return
    await state.update_data(title=title)
    await state.set_state(OfferCompose.kind)
    await message.answer(_("What does it give?"), reply_markup=offer_kinds(offer_kind_labels()))


async def kind_chosen(
    query: CallbackQuery, callback_data: OfferKindCb, bot: Bot, state: FSMContext
) -> None:
    if await state.get_state() != OfferCompose.kind.state:
        await stale(query)
        return
    try:
        kind = OfferKind(callback_data.kind)
    except ValueError:
        await stale(query)
        return
    await query.answer()
    await state.update_data(kind=kind.value)
    if kind is OfferKind.ITEM:
        await state.update_data(value=0)
        await ask_terms(bot, query.from_user.id, state)
        return
    await state.set_state(OfferCompose.value)
    prompts = {
        OfferKind.PERCENT: _("How many percent off? A whole number from 1 to 100."),
        OfferKind.DISCOUNT: _("How much off? An amount like 5.00."),
        OfferKind.POINTS: _("How many bonus points?"),
        OfferKind.MULTIPLIER: _("Which multiplier? From 1.1 to 10, like 2."),
    }
    await bot.send_message(query.from_user.id, prompts[kind])


async def ask_terms(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(OfferCompose.terms)
    await bot.send_message(
        chat_id,
        _(
            "For how many days is it valid, and how many times can each customer use it? "
            "Send two numbers, like <code>7 1</code>."
        ),
    )


async def valued(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
    kind = OfferKind((await state.get_data())["kind"])
    value = parse_value(kind, message.text or "", shop)
    if value is None:
        await message.answer(_("That value does not fit. Please try again."))
        return
    await state.update_data(value=value)
    await ask_terms(bot, message.chat.id, state)


async def termed(message: Message, shop: Shop, state: FSMContext) -> None:
    match = TERMS_RE.match((message.text or "").strip())
    days, uses = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not (1 <= days <= MAX_DAYS and 1 <= uses <= MAX_USES):
        await message.answer(
            _(
                "Please send the days (1 to {days}) and the uses per customer (1 to {uses}), "
                "like <code>7 1</code>.",
                days=MAX_DAYS,
                uses=MAX_USES,
            )
        )
        return
    await state.update_data(days=days, uses=uses)
    await state.set_state(OfferCompose.audience)
    await message.answer(
        _("Who should get it?"), reply_markup=offer_audiences(audience_labels(shop))
    )


async def audience_chosen(
    query: CallbackQuery, callback_data: OfferAudienceCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    if await choose_audience(
        query, callback_data.index, shop, state, OfferCompose.audience, "title"
    ):
        await summary(bot, shop, query.from_user.id, state)


def draft(data: dict[str, Any]) -> Offer:
    start = utcnow()
    return Offer(
        id=0,
        title=data["title"],
        kind=OfferKind(data["kind"]),
        value=data["value"],
        valid_from=start,
        valid_until=start + timedelta(days=data["days"]),
        per_customer=data["uses"],
        holdout_percent=data.get("holdout", 0),
    )


async def summary(bot: Bot, shop: Shop, chat_id: int, state: FSMContext) -> None:
    data = await state.get_data()
    offer = draft(data)
    size = await shop.storage.audience_size(Audience.parse(data["audience"]), utcnow())
    text = (
        offer_line(offer, shop.settings.timezone)
        + "\n"
        + _(
            "Each customer can use it {uses} times. Audience: {label} · {count} customers.",
            uses=offer.per_customer,
            label=escape(data["label"]),
            count=number(size),
        )
    )
    if offer.holdout_percent:
        text += "\n" + _(
            "{percent}% of them, chosen at random, will not get it, so you can compare.",
            percent=offer.holdout_percent,
        )
    await bot.send_message(
        chat_id, text, reply_markup=offer_send(size > 0, offer.holdout_percent > 0)
    )


async def send(
    query: CallbackQuery,
    callback_data: OfferSendCb,
    bot: Bot,
    shop: Shop,
    state: FSMContext,
    broadcaster: Broadcaster,
) -> None:
    data = await draft_at(query, state, OfferCompose.audience, "audience")
    if data is None:
        return
    await query.answer()
    if callback_data.action == "holdout":
        await toggle_holdout(state, data)
        await summary(bot, shop, query.from_user.id, state)
        return
    await state.clear()
    if callback_data.action != "send":
        await bot.send_message(query.from_user.id, _("The offer was discarded."))
        return
    planned = draft(data)
    offer = await shop.storage.create_offer(
        planned.title,
        planned.kind,
        planned.value,
        planned.valid_from,
        planned.valid_until,
        planned.per_customer,
        planned.holdout_percent,
        Audience.parse(data["audience"]),
        query.from_user.id,
    )
    announcement = (
        "🎁 "
        + offer_line(offer, shop.settings.timezone)
        + "\n"
        + _("Show your card at the till to use it. Your offers: /offers")
    )
    await shop.storage.create_broadcast(
        query.from_user.id,
        announcement,
        None,
        None,
        Audience(Segment.OFFER, str(offer.id)),
        0,
        utcnow(),
    )
    broadcaster.wake()
    await bot.send_message(
        query.from_user.id,
        _("Offer #{id} created; announcing it now. /offer_results shows how it does.", id=offer.id),
    )


async def listing(message: Message, shop: Shop) -> None:
    offers = await shop.storage.recent_offers(10)
    if not offers:
        await message.answer(_("No offers yet. Create one with /offer."))
        return
    await message.answer(
        _("Which offer?"),
        reply_markup=offer_results([(o.id, f"#{o.id} · {o.title[:40]}") for o in offers]),
    )


async def show_results(query: CallbackQuery, callback_data: OfferResultsCb, shop: Shop) -> None:
    offer = await shop.storage.offer(callback_data.id)
    message = pressed(query)
    if offer is None or message is None:
        await stale(query)
        return
    await query.answer()
    await message.answer(offer_results_text(offer, await shop.storage.offer_results(offer.id)))
