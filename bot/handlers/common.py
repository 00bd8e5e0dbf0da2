"""Last-resort handlers: anything no other router took gets a helpful answer."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.i18n import _


def build_router() -> Router:
    router = Router(name="common")

    @router.callback_query()
    async def stale_button(query: CallbackQuery) -> None:
        # Forged, outdated or foreign callback data lands here and changes nothing.
        await query.answer(_("This button is no longer valid."), show_alert=True)

    @router.message(F.chat.type == "private")
    async def unknown(message: Message) -> None:
        await message.answer(
            _("Sorry, I did not understand that. Send /help to see what I can do.")
        )

    return router
