"""/referrals: how invitations do, the top inviters, and the cases worth a look."""

from __future__ import annotations

from datetime import timedelta

from aiogram.types import Message

from bot.shop import Shop
from bot.texts.owner import referral_report

BURST_WINDOW = timedelta(hours=24)
BURST_COUNT = 5


async def referral_overview(shop: Shop) -> str:
    joined, qualified = await shop.storage.referral_totals()
    if not joined:
        return referral_report(joined, qualified, [], [])
    top = await shop.storage.top_referrers(10)
    flagged = await shop.storage.flagged_referrals(BURST_WINDOW, BURST_COUNT, 15)
    return referral_report(joined, qualified, top, flagged)


async def referrals(message: Message, shop: Shop) -> None:
    await message.answer(await referral_overview(shop))
