"""Offers: the owner creates a coupon for an audience (with an optional holdout), it is
announced through the promotion outbox, and its results are compared with the holdout."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import keyboards as kb
from bot.domain.clock import utcnow
from bot.domain.insights import percent
from bot.domain.parsing import AmountError, parse_amount
from bot.handlers.promotions import HOLDOUT_PERCENT, audiences, draft_at
from bot.i18n import _
from bot.services.broadcaster import Broadcaster
from bot.shop import Shop
from bot.telegram.filters import OnLoop
from bot.telegram.roles import HasRole, Role
from bot.views import number, offer_line
from storage import Audience, Offer, OfferKind, OfferResults, Segment

TERMS_RE = re.compile(r"^(\d{1,3})\s+(\d{1,2})$")
MAX_DAYS, MAX_USES = 365, 10


class OfferCompose(StatesGroup):
    title = State()
    kind = State()
    value = State()
    terms = State()
    audience = State()


def kind_labels() -> list[tuple[str, str]]:
    return [
        (OfferKind.PERCENT.value, _("% off the bill")),
        (OfferKind.DISCOUNT.value, _("A fixed amount off")),
        (OfferKind.POINTS.value, _("Bonus points with a purchase")),
        (OfferKind.MULTIPLIER.value, _("Points multiplier on a purchase")),
        (OfferKind.ITEM.value, _("A free item (the title names it)")),
    ]


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


def results_text(offer: Offer, results: OfferResults) -> str:
    lines = [
        _("<b>Offer #{id}: {title}</b>", id=offer.id, title=escape(offer.title)),
        _(
            "Given to {granted}, used by {users} ({rate}%), {uses} uses in all.",
            granted=number(results.granted),
            users=number(results.users),
            rate=percent(results.users, results.granted),
            uses=number(results.uses),
        ),
        _(
            "Came to the shop while it was valid: {visitors} of those who got it ({rate}%).",
            visitors=number(results.granted_visitors),
            rate=percent(results.granted_visitors, results.granted),
        ),
    ]
    if results.held_out:
        lines.append(
            _(
                "Of the holdout: {visitors} of {count} ({rate}%).",
                visitors=number(results.holdout_visitors),
                count=number(results.held_out),
                rate=percent(results.holdout_visitors, results.held_out),
            )
        )
    return "\n".join(lines)


def build_router() -> Router:
    router = Router(name="offers")
    owner_only = HasRole(Role.OWNER)

    @router.message(Command("offer"), owner_only)
    async def start(message: Message, state: FSMContext) -> None:
        await state.clear()
        await state.set_state(OfferCompose.title)
        await message.answer(
            _("New offer. Send its title, like <code>Free coffee this week</code>. /cancel stops.")
        )

    @router.message(Command("cancel"), owner_only, StateFilter(OfferCompose))
    async def cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("The offer was discarded."))

    @router.message(StateFilter(OfferCompose.title), owner_only, OnLoop(F.text))
    async def titled(message: Message, state: FSMContext) -> None:
        title = (message.text or "").strip()
        if not 1 <= len(title) <= 60 or title.startswith("/"):
            await message.answer(_("Please send a title of 1 to 60 characters."))
            return
        await state.update_data(title=title)
        await state.set_state(OfferCompose.kind)
        await message.answer(_("What does it give?"), reply_markup=kb.offer_kinds(kind_labels()))

    @router.callback_query(kb.OfferKindCb.filter(), owner_only)
    async def kind_chosen(
        query: CallbackQuery, callback_data: kb.OfferKindCb, bot: Bot, state: FSMContext
    ) -> None:
        if await state.get_state() != OfferCompose.kind.state:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        try:
            kind = OfferKind(callback_data.kind)
        except ValueError:
            await query.answer(_("This button is no longer valid."), show_alert=True)
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

    @router.message(StateFilter(OfferCompose.value), owner_only, OnLoop(F.text))
    async def valued(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
        kind = OfferKind((await state.get_data())["kind"])
        value = parse_value(kind, message.text or "", shop)
        if value is None:
            await message.answer(_("That value does not fit. Please try again."))
            return
        await state.update_data(value=value)
        await ask_terms(bot, message.chat.id, state)

    @router.message(StateFilter(OfferCompose.terms), owner_only, OnLoop(F.text))
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
        labels = [label for _audience, label in audiences(shop)]
        await message.answer(_("Who should get it?"), reply_markup=kb.offer_audiences(labels))

    @router.callback_query(kb.OfferAudienceCb.filter(), owner_only)
    async def audience_chosen(
        query: CallbackQuery,
        callback_data: kb.OfferAudienceCb,
        bot: Bot,
        shop: Shop,
        state: FSMContext,
    ) -> None:
        choices = audiences(shop)
        if await draft_at(query, state, OfferCompose.audience, "title") is None:
            return
        if not 0 <= callback_data.index < len(choices):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        audience, label = choices[callback_data.index]
        await state.update_data(audience=audience.key(), label=label, holdout=0)
        await query.answer()
        await summary(bot, shop, query.from_user.id, state)

    def draft(data: dict) -> Offer:  # type: ignore[type-arg]
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
            chat_id, text, reply_markup=kb.offer_send(size > 0, offer.holdout_percent > 0)
        )

    @router.callback_query(kb.OfferSendCb.filter(), owner_only)
    async def send(
        query: CallbackQuery,
        callback_data: kb.OfferSendCb,
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
            await state.update_data(holdout=0 if data.get("holdout") else HOLDOUT_PERCENT)
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
            _(
                "Offer #{id} created; announcing it now. /offer_results shows how it does.",
                id=offer.id,
            ),
        )

    @router.message(Command("offer_results"), owner_only)
    async def listing(message: Message, shop: Shop) -> None:
        offers = await shop.storage.recent_offers(10)
        if not offers:
            await message.answer(_("No offers yet. Create one with /offer."))
            return
        await message.answer(
            _("Which offer?"),
            reply_markup=kb.offer_results([(o.id, f"#{o.id} · {o.title[:40]}") for o in offers]),
        )

    @router.callback_query(kb.OfferResultsCb.filter(), owner_only)
    async def show_results(
        query: CallbackQuery, callback_data: kb.OfferResultsCb, shop: Shop
    ) -> None:
        offer = await shop.storage.offer(callback_data.id)
        if offer is None or not isinstance(query.message, Message):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        await query.message.answer(results_text(offer, await shop.storage.offer_results(offer.id)))

    return router
