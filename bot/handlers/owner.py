"""The owner's tools: invite and remove cashiers."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards as kb
from bot.delivery import card_link
from bot.i18n import _
from bot.roles import HasRole, Role
from bot.shop import Shop
from bot.tokens import LinkKind, new_payload
from storage.sqlite import utcnow

INVITE_TTL = timedelta(hours=24)


async def staff_overview(shop: Shop) -> tuple[str, kb.InlineKeyboardMarkup]:
    members = await shop.storage.staff()
    if members:
        lines = "\n".join(f"• {escape(m.name or str(m.telegram_id))}" for m in members)
        text = _("<b>Cashiers</b>\n{list}", list=lines)
    else:
        text = _("<b>Cashiers</b>\nNobody yet. Invite your first cashier with the button below.")
    return text, kb.staff_list([(m.telegram_id, m.name or str(m.telegram_id)) for m in members])


def build_router() -> Router:
    router = Router(name="owner")
    owner_only = HasRole(Role.OWNER)
    router.message.filter(F.chat.type == "private")

    @router.message(Command("staff"), owner_only)
    async def staff(message: Message, shop: Shop) -> None:
        text, markup = await staff_overview(shop)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(kb.StaffCb.filter(), owner_only)
    async def staff_action(
        query: CallbackQuery, callback_data: kb.StaffCb, bot: Bot, shop: Shop
    ) -> None:
        if not isinstance(query.message, Message):
            await query.answer()
            return
        if callback_data.action == "invite":
            payload = new_payload(LinkKind.STAFF_INVITE)
            await shop.storage.create_invite(payload, query.from_user.id, utcnow() + INVITE_TTL)
            link = await card_link(bot, payload)
            await query.message.answer(
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
            await query.message.edit_text(text, reply_markup=markup)
        else:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()

    return router
