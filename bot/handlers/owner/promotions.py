"""Promotions: the owner composes (text or photo, a link button), picks the audience,
previews, sends or schedules; /broadcasts lists, cancels and shows results."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.domain.clock import utcnow
from bot.domain.promotions import text_problems
from bot.handlers.owner.compose import audience_labels, choose_audience, draft_at, toggle_holdout
from bot.handlers.replies import pressed, stale
from bot.i18n import _
from bot.keyboards.owner import (
    AudienceCb,
    BroadcastCb,
    ResultsCb,
    SendCb,
    audiences,
    broadcast_list,
    send_choices,
)
from bot.services.broadcaster import Broadcaster, personalize, promotion_markup
from bot.shop import Shop
from bot.texts.common import customer_name
from bot.texts.numbers import number, when
from bot.texts.owner import RESULT_DAYS, promotion_results
from storage import Audience, Broadcast, BroadcastStatus

BUTTON_RE = re.compile(r"^(.{1,40}?)\s*\|\s*(https?://\S{3,2000})$")
WHEN_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$")


class Compose(StatesGroup):
    text = State()
    button = State()
    audience = State()
    when = State()


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


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("The promotion was discarded."))


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
    await message.answer(_("Who should receive it?"), reply_markup=audiences(audience_labels(shop)))


async def audience_chosen(
    query: CallbackQuery, callback_data: AudienceCb, bot: Bot, shop: Shop, state: FSMContext
) -> None:
    if await choose_audience(query, callback_data.index, shop, state, Compose.audience, "text"):
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
                chat_id, draft.photo_file_id, caption=text, reply_markup=promotion_markup(draft)
            )
        else:
            await bot.send_message(chat_id, text, reply_markup=promotion_markup(draft))
    summary = (
        _("Preview above, as {name} will see it.", name=customer_name(sample))
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
        chat_id, summary, reply_markup=send_choices(size > 0, draft.holdout_percent > 0)
    )


def schedule_example(shop: Shop) -> str:
    return (shop.now() + timedelta(days=1)).strftime("%Y-%m-%d 18:00")


async def send_choice(
    query: CallbackQuery,
    callback_data: SendCb,
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
        await toggle_holdout(state, data)
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
                example=schedule_example(shop),
            ),
        )
    else:
        await state.clear()
        await bot.send_message(query.from_user.id, _("The promotion was discarded."))


async def scheduled(
    message: Message, shop: Shop, state: FSMContext, broadcaster: Broadcaster
) -> None:
    moment = parse_when(message.text or "", shop)
    if moment is None:
        await message.answer(
            _(
                "Please type a future date and time within a year, like <code>{example}</code>.",
                example=schedule_example(shop),
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


def preview_line(text: str) -> str:
    """A promotion's first words without its tags, escaped for a list."""
    return escape(re.sub(r"<[^>]+>", "", text)[:40])


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
        lines.append(f"#{item.id} · {state} · {preview_line(item.text)}")
        choices.append((item.id, _("✖ Cancel #{id}", id=item.id)))
    sent = _("sent")
    for item in finished:
        lines.append(f"#{item.id} · {sent} · {preview_line(item.text)}")
    await message.answer("\n".join(lines), reply_markup=broadcast_list(choices, results))


async def results(query: CallbackQuery, callback_data: ResultsCb, shop: Shop) -> None:
    response = await shop.storage.broadcast_response(callback_data.id, RESULT_DAYS)
    message = pressed(query)
    if response is None or message is None:
        await stale(query)
        return
    await query.answer()
    await message.answer(promotion_results(callback_data.id, *response))


async def cancel_broadcast(query: CallbackQuery, callback_data: BroadcastCb, shop: Shop) -> None:
    if await shop.storage.cancel_broadcast(callback_data.id):
        await query.answer(_("Promotion #{id} cancelled.", id=callback_data.id))
    else:
        await query.answer(_("This promotion has already finished."), show_alert=True)
