"""Promotions: the owner composes, targets, previews, schedules and cancels broadcasts;
customers can stop promotions from the button under each one."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import keyboards as kb
from bot.domain.clock import utcnow
from bot.domain.promotions import text_problems
from bot.i18n import _
from bot.services.broadcaster import Broadcaster, personalize, promotion_markup
from bot.shop import Shop
from bot.telegram.filters import OnLoop
from bot.telegram.roles import HasRole, Role
from bot.views import money, number, tier_name, when
from storage import Audience, Broadcast, BroadcastStatus, Customer, GroupResponse, Segment

BUTTON_RE = re.compile(r"^(.{1,40}?)\s*\|\s*(https?://\S{3,2000})$")
WHEN_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$")
NEW_DAYS, LAPSED_DAYS, TOP_PERCENT, EXPIRING_DAYS = 30, 60, 10, 14
HOLDOUT_PERCENT = 10
RESULT_DAYS = 14


async def draft_at(
    query: CallbackQuery, state: FSMContext, step: State, key: str
) -> dict[str, Any] | None:
    """The owner's draft (of a promotion or an offer) when the pressed button belongs to
    its current step, `step` with `key` filled in; otherwise None, and the owner is told
    the button is stale (a discarded draft, or one that moved on)."""
    data = await state.get_data()
    if await state.get_state() == step.state and key in data:
        return data
    await query.answer(_("This button is no longer valid."), show_alert=True)
    return None


class Compose(StatesGroup):
    text = State()
    button = State()
    audience = State()
    when = State()


def audiences(shop: Shop) -> list[tuple[Audience, str]]:
    """Every segment the owner can pick, with its label in the current language."""
    now = shop.now()
    choices = [(Audience(Segment.EVERYONE), _("Everyone"))]
    for index, tier in enumerate(shop.program.tiers):
        param = tier.name + ("|first" if index == 0 else "")
        choices.append(
            (Audience(Segment.TIER, param), _("Level: {tier}", tier=tier_name(tier.name)))
        )
    choices += [
        (
            Audience(Segment.NEW, str(NEW_DAYS)),
            _("New: joined in the last {days} days", days=NEW_DAYS),
        ),
        (
            Audience(Segment.LAPSED, str(LAPSED_DAYS)),
            _("Lapsed: no purchase for {days} days", days=LAPSED_DAYS),
        ),
        (Audience(Segment.BIRTHDAYS, str(now.month)), _("Birthdays this month")),
        (
            Audience(Segment.TOP, str(TOP_PERCENT)),
            _("Top {percent}% by spend", percent=TOP_PERCENT),
        ),
        (Audience(Segment.REFERRERS), _("Customers who invited friends")),
        (
            Audience(Segment.EXPIRING, str(EXPIRING_DAYS)),
            _("Points expiring within {days} days", days=EXPIRING_DAYS),
        ),
    ]
    return choices


def parse_when(text: str, shop: Shop) -> datetime | None:
    """'2026-11-24 18:00' in the shop's time zone, in the future and within a year."""
    match = WHEN_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=shop.settings.timezone)
    except ValueError:
        return None
    if not utcnow() < moment < utcnow() + timedelta(days=366):
        return None
    return moment


def build_router() -> Router:
    router = Router(name="promotions")
    owner_only = HasRole(Role.OWNER)

    @router.message(Command("broadcast"), owner_only)
    async def broadcast(message: Message, state: FSMContext) -> None:
        await state.clear()
        await state.set_state(Compose.text)
        await message.answer(
            _(
                "Send the promotion: text, or a photo with a caption. Bold, italic and links "
                "work. Personalize with {placeholders}. /cancel stops.",
                placeholders="{name}, {balance}, {tier}, {next_tier}, {card}",
            )
        )

    @router.message(Command("cancel"), owner_only, StateFilter(Compose))
    async def cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("The promotion was discarded."))

    @router.message(StateFilter(Compose.text), owner_only, OnLoop(F.text | F.photo))
    async def composed(message: Message, state: FSMContext) -> None:
        photo = message.photo[-1].file_id if message.photo else None
        raw = message.caption if photo else message.text
        entities = message.caption_entities if photo else message.entities
        # Formatting made in Telegram arrives as entities; typed tags arrive as text.
        text = (message.html_text if entities else raw) or ""
        problems = text_problems(text, caption=photo is not None)
        if problems:
            await message.answer(
                "\n".join(_(problem, **params) for problem, params in problems)
                + "\n"
                + _("Please send it again.")
            )
            return
        await state.update_data(text=text, photo=photo)
        await state.set_state(Compose.button)
        await message.answer(
            _(
                "Add a link button? Send its text and address like "
                "<code>Order now | https://example.com</code>, or /skip."
            )
        )

    @router.message(StateFilter(Compose.button), owner_only, OnLoop(F.text))
    async def button_given(message: Message, shop: Shop, state: FSMContext) -> None:
        text = (message.text or "").strip()
        if text != "/skip":
            match = BUTTON_RE.match(text)
            if not match:
                await message.answer(
                    _(
                        "Please send the button like <code>Order now | https://example.com"
                        "</code>, or /skip."
                    )
                )
                return
            await state.update_data(button=[match.group(1), match.group(2)])
        await state.set_state(Compose.audience)
        labels = [label for _audience, label in audiences(shop)]
        await message.answer(_("Who should receive it?"), reply_markup=kb.audiences(labels))

    @router.callback_query(kb.AudienceCb.filter(), owner_only)
    async def audience_chosen(
        query: CallbackQuery,
        callback_data: kb.AudienceCb,
        bot: Bot,
        shop: Shop,
        state: FSMContext,
    ) -> None:
        choices = audiences(shop)
        if await draft_at(query, state, Compose.audience, "text") is None:
            return
        if not 0 <= callback_data.index < len(choices):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        audience, label = choices[callback_data.index]
        await state.update_data(audience=audience.key(), label=label, holdout=0)
        await query.answer()
        await preview(bot, shop, query.from_user.id, state)

    async def preview(bot: Bot, shop: Shop, chat_id: int, state: FSMContext) -> None:
        data = await state.get_data()
        audience = Audience.parse(data["audience"])
        size = await shop.storage.audience_size(audience, utcnow())
        sample = await shop.storage.sample_customer(audience, utcnow())
        draft = Broadcast(
            id=0,
            created_by=chat_id,
            text=data["text"],
            photo_file_id=data.get("photo"),
            button_text=(data.get("button") or [None, None])[0],
            button_url=(data.get("button") or [None, None])[1],
            audience=audience,
            holdout_percent=data.get("holdout", 0),
            status=BroadcastStatus.SCHEDULED,
            send_at=utcnow(),
            progress_chat_id=None,
            progress_message_id=None,
            created_at=utcnow(),
        )
        if sample is not None:
            text = await personalize(shop, draft.text, sample)
            if draft.photo_file_id:
                await bot.send_photo(
                    chat_id,
                    draft.photo_file_id,
                    caption=text,
                    reply_markup=promotion_markup(draft),
                )
            else:
                await bot.send_message(chat_id, text, reply_markup=promotion_markup(draft))
        summary = (
            _(
                "Preview above, as {name} will see it.",
                name=escape(sample.name or _("Customer")),
            )
            if sample
            else _("Nobody in this audience can receive promotions right now.")
        )
        summary += "\n" + _(
            "Audience: {label} · {count} customers (opted-in and reachable).",
            label=escape(data["label"]),
            count=number(size),
        )
        if draft.holdout_percent:
            summary += "\n" + _(
                "{percent}% of them, chosen at random, will not receive it, so you can "
                "compare their visits with those who did.",
                percent=draft.holdout_percent,
            )
        await bot.send_message(
            chat_id, summary, reply_markup=kb.send_choices(size > 0, draft.holdout_percent > 0)
        )

    @router.callback_query(kb.SendCb.filter(), owner_only)
    async def send_choice(
        query: CallbackQuery,
        callback_data: kb.SendCb,
        bot: Bot,
        shop: Shop,
        state: FSMContext,
        broadcaster: Broadcaster,
    ) -> None:
        data = await draft_at(query, state, Compose.audience, "audience")
        if data is None:
            return
        await query.answer()
        if callback_data.action == "holdout":
            await state.update_data(holdout=0 if data.get("holdout") else HOLDOUT_PERCENT)
            await preview(bot, shop, query.from_user.id, state)
        elif callback_data.action == "now":
            await create(query.message, shop, state, broadcaster, utcnow())  # type: ignore[arg-type]
        elif callback_data.action == "schedule":
            await state.set_state(Compose.when)
            await bot.send_message(
                query.from_user.id,
                _(
                    "When? Type the date and time in the shop's time zone, like "
                    "<code>{example}</code>.",
                    example=(shop.now() + timedelta(days=1)).strftime("%Y-%m-%d 18:00"),
                ),
            )
        else:
            await state.clear()
            await bot.send_message(query.from_user.id, _("The promotion was discarded."))

    @router.message(StateFilter(Compose.when), owner_only, OnLoop(F.text))
    async def scheduled(
        message: Message, shop: Shop, state: FSMContext, broadcaster: Broadcaster
    ) -> None:
        moment = parse_when(message.text or "", shop)
        if moment is None:
            await message.answer(
                _(
                    "Please type a future date and time within a year, like "
                    "<code>{example}</code>.",
                    example=(shop.now() + timedelta(days=1)).strftime("%Y-%m-%d 18:00"),
                )
            )
            return
        await create(message, shop, state, broadcaster, moment)

    async def create(
        message: Message, shop: Shop, state: FSMContext, broadcaster: Broadcaster, at: datetime
    ) -> None:
        data = await state.get_data()
        await state.clear()
        assert message.chat
        button = data.get("button")
        created = await shop.storage.create_broadcast(
            message.chat.id,
            data["text"],
            data.get("photo"),
            (button[0], button[1]) if button else None,
            Audience.parse(data["audience"]),
            data.get("holdout", 0),
            at,
        )
        if at <= utcnow():
            await message.answer(_("Sending promotion #{id} now.", id=created.id))
        else:
            await message.answer(
                _(
                    "Promotion #{id} is scheduled for {when}. /broadcasts lists and cancels "
                    "promotions.",
                    id=created.id,
                    when=when(at, shop.settings.timezone),
                )
            )
        broadcaster.wake()

    @router.message(Command("broadcasts"), owner_only)
    async def listing(message: Message, shop: Shop) -> None:
        active = await shop.storage.broadcasts((BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING))
        finished = await shop.storage.recent_broadcasts(5)
        if not active and not finished:
            await message.answer(_("No promotions are scheduled or sending."))
            return
        lines: list[str] = []
        choices: list[tuple[int, str]] = []
        results = [(item.id, _("📊 Results of #{id}", id=item.id)) for item in finished]
        for item in active:
            state = (
                _("sending now")
                if item.status is BroadcastStatus.SENDING
                else _("scheduled for {when}", when=when(item.send_at, shop.settings.timezone))
            )
            preview_text = re.sub(r"<[^>]+>", "", item.text)[:40]
            lines.append(f"#{item.id} · {state} · {escape(preview_text)}")
            choices.append((item.id, _("✖ Cancel #{id}", id=item.id)))
        sent = _("sent")
        for item in finished:
            preview_text = re.sub(r"<[^>]+>", "", item.text)[:40]
            lines.append(f"#{item.id} · {sent} · {escape(preview_text)}")
        await message.answer("\n".join(lines), reply_markup=kb.broadcast_list(choices, results))

    @router.callback_query(kb.ResultsCb.filter(), owner_only)
    async def results(query: CallbackQuery, callback_data: kb.ResultsCb, shop: Shop) -> None:
        response = await shop.storage.broadcast_response(callback_data.id, RESULT_DAYS)
        if response is None or not isinstance(query.message, Message):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        await query.message.answer(results_text(callback_data.id, *response))

    @router.callback_query(kb.BroadcastCb.filter(), owner_only)
    async def cancel_broadcast(
        query: CallbackQuery, callback_data: kb.BroadcastCb, shop: Shop
    ) -> None:
        if await shop.storage.cancel_broadcast(callback_data.id):
            await query.answer(_("Promotion #{id} cancelled.", id=callback_data.id))
        else:
            await query.answer(_("This promotion has already finished."), show_alert=True)

    return router


def share_text(group: GroupResponse) -> str:
    rate = group.visitors * 100 / group.customers if group.customers else 0
    average = group.spend_minor // group.customers if group.customers else 0
    return _(
        "{customers} customers · {visitors} came back ({rate}%) · {average} spent on average",
        customers=number(group.customers),
        visitors=number(group.visitors),
        rate=f"{rate:.1f}",
        average=money(average),
    )


def results_text(broadcast_id: int, receivers: GroupResponse, holdout: GroupResponse) -> str:
    lines = [
        _(
            "<b>Promotion #{id}: the {days} days after sending</b>",
            id=broadcast_id,
            days=RESULT_DAYS,
        ),
        _("Received it: {line}", line=share_text(receivers)),
    ]
    if holdout.customers:
        lines.append(_("Held out: {line}", line=share_text(holdout)))
        got = receivers.visitors / receivers.customers if receivers.customers else 0
        held = holdout.visitors / holdout.customers
        lines.append(
            _(
                "Uplift: {points} percentage points more customers came back because of it.",
                points=f"{(got - held) * 100:+.1f}",
            )
        )
    else:
        lines.append(_("Keep a holdout next time to see how many would have come back anyway."))
    return "\n".join(lines)


def build_opt_out_router() -> Router:
    router = Router(name="promotion-opt-out")

    @router.callback_query(kb.PromoCb.filter())
    async def opt_out(
        query: CallbackQuery, callback_data: kb.PromoCb, shop: Shop, customer: Customer | None
    ) -> None:
        if customer is None:
            await query.answer(_("Send /start to get your card."), show_alert=True)
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

    return router
