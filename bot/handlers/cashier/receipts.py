"""What follows a booking: the cashier's message, the customer's receipt, a new tier, the
referral it decided, and the owners' alerts on unusual activity."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from aiogram import Bot
from aiogram.types import CallbackQuery

from bot.domain import desk, insights
from bot.handlers.replies import show, tell_chat_text, tell_text
from bot.i18n import _
from bot.shop import Shop
from bot.texts.cashier import booked_text
from bot.texts.common import customer_name, outcome_text
from bot.texts.imports import no_receipt_text
from bot.texts.receipts import (
    friend_gift_text,
    receipt_text,
    referral_capped_text,
    referral_taken_back_text,
    referrer_bonus_text,
    upgrade_text,
)
from storage import ReferralDecision, ReferralStatus, unclaimed


async def answer_booking(query: CallbackQuery, bot: Bot, shop: Shop, result: desk.Result) -> None:
    if result.outcome is not desk.Outcome.BOOKED or result.booking is None:
        await query.answer(outcome_text(result.outcome), show_alert=True)
        return
    await query.answer(_("Booked."))
    booking = result.booking
    customer = await shop.storage.customer(booking.entry.customer_id)
    assert customer is not None
    text = booked_text(booking, customer)
    if unclaimed(customer):  # no chat: the points wait on the card for its holder
        text += "\n" + no_receipt_text()
    await show(bot, query.from_user.id, query.message, text)
    after = replace(customer, balance=booking.balance)
    await tell_text(
        bot,
        shop,
        customer,
        lambda: receipt_text(shop.settings.shop_name, shop.program, booking, after),
    )
    if result.upgraded is not None:
        tier = result.upgraded
        await tell_text(
            bot, shop, customer, lambda: upgrade_text(shop.settings.shop_name, shop.program, tier)
        )
    if result.referral is not None:
        await announce_referral(bot, shop, result.referral)
    await alert_owners(bot, shop, booking.entry.customer_id, booking.entry.operator_id)


async def alert_owners(bot: Bot, shop: Shop, customer_id: int, operator_id: int | None) -> None:
    for alert in await insights.unusual_activity(shop.context, customer_id, operator_id):
        for owner in shop.settings.owner_ids:
            owner_record = await shop.storage.customer_by_telegram(owner)
            language = owner_record.language if owner_record else None
            await tell_chat_text(
                bot, shop, owner, language, partial(_, alert.message, **alert.params)
            )


async def announce_referral(bot: Bot, shop: Shop, decision: ReferralDecision) -> None:
    """Tell both sides what a friend's purchase (or its refund) did to their referral."""
    referral = decision.referral
    friend = await shop.storage.customer(referral.friend_id)
    referrer = await shop.storage.customer(referral.referrer_id)
    if friend is None or referrer is None:
        return
    friend_name = customer_name(friend)
    if referral.status is ReferralStatus.QUALIFIED:
        if decision.friend is not None:
            gift = decision.friend
            await tell_text(bot, shop, friend, lambda: friend_gift_text(gift))
        if decision.referrer is not None:
            bonus = decision.referrer
            await tell_text(
                bot,
                shop,
                referrer,
                lambda: referrer_bonus_text(friend_name, shop.settings.shop_name, bonus),
            )
    elif referral.status is ReferralStatus.CAPPED:
        await tell_text(bot, shop, referrer, lambda: referral_capped_text(friend_name))
    elif referral.status is ReferralStatus.REVERSED:
        for side, customer in ((decision.friend, friend), (decision.referrer, referrer)):
            if side is not None:
                taken = side
                await tell_text(bot, shop, customer, partial(referral_taken_back_text, taken))
