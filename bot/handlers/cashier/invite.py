"""Accepting a cashier invite: anyone may open one; owners are told who joined."""

from __future__ import annotations

from html import escape

from aiogram import Bot
from aiogram.filters import CommandObject, Filter
from aiogram.types import Message

from bot.domain.tokens import LinkKind, parse_payload
from bot.handlers.replies import tell_chat_text
from bot.i18n import _
from bot.shop import Shop
from bot.telegram.middlewares import display_name
from bot.telegram.roles import Role
from bot.texts.cashier import invite_outcome_text
from storage.records import InviteOutcome


class StartLink(Filter):
    """A /start whose payload is a well-formed link of the given kind."""

    def __init__(self, kind: LinkKind) -> None:
        self.kind = kind

    async def __call__(self, message: Message, command: CommandObject) -> bool | dict[str, str]:
        link = parse_payload(command.args)
        return {"payload": link[1]} if link and link[0] is self.kind else False


async def accept_invite(message: Message, payload: str, bot: Bot, shop: Shop, role: Role) -> None:
    assert message.from_user
    if role is Role.OWNER:
        await message.answer(_("You are an owner already; this invite stays unused."))
        return
    outcome = await shop.storage.use_invite(
        payload, message.from_user.id, display_name(message.from_user), shop.context.now()
    )
    await message.answer(invite_outcome_text(outcome))
    if outcome is InviteOutcome.JOINED:
        name = escape(display_name(message.from_user))
        for owner in shop.settings.owner_ids:
            await tell_chat_text(
                bot, shop, owner, None, lambda: _("{name} joined as a cashier.", name=name)
            )
