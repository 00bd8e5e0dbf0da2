"""/shift: what this cashier booked today."""

from __future__ import annotations

from aiogram.types import Message

from bot.domain import desk
from bot.shop import Shop
from bot.texts.cashier import shift_text


async def shift(message: Message, shop: Shop) -> None:
    assert message.from_user
    await message.answer(shift_text(await desk.shift_entries(shop.context, message.from_user.id)))
