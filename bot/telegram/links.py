"""Deep links into this bot (`t.me/<bot>?start=<payload>`): cards, invites, referrals."""

from __future__ import annotations

from aiogram import Bot
from aiogram.utils.deep_linking import create_deep_link

from bot.domain import referrals
from bot.shop import Shop
from storage import Customer


async def card_link(bot: Bot, payload: str) -> str:
    me = await bot.me()
    return create_deep_link(str(me.username), "start", payload)


async def join_link(bot: Bot) -> str:
    """The bot itself, for someone who has no card in Telegram yet."""
    me = await bot.me()
    return f"https://t.me/{me.username}"


async def personal_link(bot: Bot, shop: Shop, customer: Customer) -> str:
    """The customer's personal invitation link."""
    return await card_link(bot, await referrals.personal_payload(shop.context, customer))
