"""The owner's tools: invite and remove cashiers, watch referrals."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from html import escape
from pathlib import Path

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, FSInputFile, Message

from bot import keyboards as kb
from bot.domain.clock import utcnow
from bot.domain.marks import N_
from bot.domain.tokens import LinkKind, new_payload
from bot.i18n import _
from bot.shop import Shop
from bot.telegram.links import card_link
from bot.telegram.roles import HasRole, Role
from bot.views import holder_name, number, when

INVITE_TTL = timedelta(hours=24)
BACKUP_SEND_LIMIT = 45 * 1024 * 1024  # Telegram takes documents from bots up to 50 MB


def link_tail(payload: str) -> str:
    """Enough of an invite link to tell it from the others, too little to use it."""
    return payload[-4:]


async def staff_overview(shop: Shop) -> tuple[str, kb.InlineKeyboardMarkup]:
    members = await shop.storage.staff()
    invites = await shop.storage.open_invites(utcnow())
    if members:
        lines = "\n".join(f"• {escape(m.name or str(m.telegram_id))}" for m in members)
        text = _("<b>Cashiers</b>\n{list}", list=lines)
    else:
        text = _("<b>Cashiers</b>\nNobody yet. Invite your first cashier with the button below.")
    if invites:
        zone = shop.settings.timezone
        links = "\n".join(
            _(
                "• …{tail}: made {made}, valid until {until}",
                tail=link_tail(invite.payload),
                made=when(invite.created_at, zone),
                until=when(invite.expires_at, zone),
            )
            for invite in invites
        )
        text += "\n\n" + _("<b>Invite links not used yet</b>\n{list}", list=links)
    markup = kb.staff_list(
        [(m.telegram_id, m.name or str(m.telegram_id)) for m in members],
        tuple((invite.payload, link_tail(invite.payload)) for invite in invites),
    )
    return text, markup


def build_router() -> Router:
    router = Router(name="owner")
    owner_only = HasRole(Role.OWNER)

    @router.message(Command("staff"), owner_only)
    async def staff(message: Message, shop: Shop) -> None:
        text, markup = await staff_overview(shop)
        await message.answer(text, reply_markup=markup)

    @router.message(Command("backup"), owner_only)
    async def backup(message: Message, shop: Shop) -> None:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / f"loyalty-{shop.now():%Y%m%d-%H%M%S}.db"
            await shop.storage.backup_to(str(target))
            if target.stat().st_size > BACKUP_SEND_LIMIT:
                await message.answer(
                    _(
                        "The database is too large to send in Telegram. Daily backups are "
                        "kept in BACKUP_DIR on the server."
                    )
                )
                return
            await message.answer_document(
                FSInputFile(target),
                caption=_(
                    "A consistent copy of the database. Restore it with "
                    "<code>python -m bot restore {name}</code> while the bot is stopped.",
                    name=target.name,
                ),
            )

    @router.callback_query(kb.StaffInviteCb.filter(), owner_only)
    async def revoke_invite(
        query: CallbackQuery, callback_data: kb.StaffInviteCb, shop: Shop
    ) -> None:
        if not await shop.storage.revoke_invite(callback_data.payload, utcnow()):
            await query.answer(_("This link was already used or has expired."), show_alert=True)
        else:
            await query.answer(_("The link no longer works."))
        if isinstance(query.message, Message):
            text, markup = await staff_overview(shop)
            await query.message.edit_text(text, reply_markup=markup)

    @router.message(Command("referrals"), owner_only)
    async def referrals(message: Message, shop: Shop) -> None:
        await message.answer(await referral_overview(shop))

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


FLAG_TEXTS = {
    "capped": N_("over the monthly cap, not paid"),
    "burst": N_("many friends joined within a day"),
    "shared_phone": N_("shares a phone number with the inviter or another friend"),
    "same_phone": N_("same phone as the inviter, not paid"),
    "own_till": N_("purchase booked by the inviter or the friend themselves, not paid"),
    "referrer_gone": N_("the inviter closed their card, not paid"),
}
BURST_WINDOW = timedelta(hours=24)
BURST_COUNT = 5


async def referral_overview(shop: Shop) -> str:
    joined, qualified = await shop.storage.referral_totals()
    if not joined:
        return _("<b>Referrals</b>\nNo friend has joined through an invitation yet.")
    lines = [
        _(
            "<b>Referrals</b>\nFriends joined: {joined} · made a qualifying purchase: "
            "{qualified} ({share}%)",
            joined=number(joined),
            qualified=number(qualified),
            share=number(qualified * 100 // joined),
        ),
        "",
        _("<b>Top inviters</b>"),
    ]
    for index, row in enumerate(await shop.storage.top_referrers(10), start=1):
        lines.append(
            _(
                "{place}. {name}: {joined} joined, {qualified} qualified",
                place=index,
                name=escape(holder_name(row.customer)),
                joined=number(row.joined),
                qualified=number(row.qualified),
            )
            + (" · " + _("{count} over the cap", count=number(row.capped)) if row.capped else "")
        )
    flagged = await shop.storage.flagged_referrals(BURST_WINDOW, BURST_COUNT, 15)
    if flagged:
        lines += ["", _("<b>To look at</b>")]
        for case in flagged:
            flag = case.referral.reason if case.flag == "rejected" else case.flag
            lines.append(
                f"• {escape(holder_name(case.friend))} ← {escape(holder_name(case.referrer))}: "
                + _(FLAG_TEXTS.get(flag, FLAG_TEXTS["burst"]))
            )
    return "\n".join(lines)
