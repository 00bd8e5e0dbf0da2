"""/staff: the owner invites cashiers (one-time links), revokes unused links, removes cashiers."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.clock import utcnow
from bot.domain.tokens import LinkKind, new_payload
from bot.handlers.replies import pressed, show, stale
from bot.i18n import _
from bot.keyboards.owner import StaffCb, StaffInviteCb, staff_list
from bot.shop import Shop
from bot.telegram.links import card_link
from bot.texts.owner import link_tail, staff_text

INVITE_TTL = timedelta(hours=24)


async def staff_overview(shop: Shop) -> tuple[str, InlineKeyboardMarkup]:
    members = await shop.storage.staff()
    invites = await shop.storage.open_invites(utcnow())
    markup = staff_list(
        [(m.telegram_id, m.name or str(m.telegram_id)) for m in members],
        tuple((invite.payload, link_tail(invite.payload)) for invite in invites),
    )
    return staff_text(members, invites, shop.settings.timezone), markup


async def staff(message: Message, shop: Shop) -> None:
    text, markup = await staff_overview(shop)
    await message.answer(text, reply_markup=markup)


async def revoke_invite(
    query: CallbackQuery, callback_data: StaffInviteCb, bot: Bot, shop: Shop
) -> None:
    if not await shop.storage.revoke_invite(callback_data.payload, utcnow()):
        await query.answer(_("This link was already used or has expired."), show_alert=True)
    else:
        await query.answer(_("The link no longer works."))
    # The press may come from any message, a card photo included: `show` edits only text.
    text, markup = await staff_overview(shop)
    await show(bot, query.from_user.id, pressed(query), text, markup)


async def staff_action(query: CallbackQuery, callback_data: StaffCb, bot: Bot, shop: Shop) -> None:
    message = pressed(query)
    if message is None:
        await query.answer()
        return
    if callback_data.action == "invite":
        payload = new_payload(LinkKind.STAFF_INVITE)
        await shop.storage.create_invite(payload, query.from_user.id, utcnow() + INVITE_TTL)
        link = await card_link(bot, payload)
        await message.answer(
            _(
                "Send this link to your new cashier. It works once, within 24 hours:\n{link}",
                link=link,
            )
        )
    elif callback_data.action == "revoke":
        removed = await shop.storage.revoke_staff(callback_data.who)
        if not removed:
            await query.answer(_("This cashier was already removed."), show_alert=True)
            return
        text, markup = await staff_overview(shop)
        await message.edit_text(text, reply_markup=markup)
    else:
        await stale(query)
        return
    await query.answer()
