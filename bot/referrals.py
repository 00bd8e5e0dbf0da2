"""Referrals as domain operations: the personal link, attribution at registration, and the
decision on the friend's qualifying purchase (or its refund)."""

from __future__ import annotations

from datetime import date

from aiogram import Bot
from aiogram.utils.deep_linking import create_deep_link

from bot.program import local_midnight, lot_expiry
from bot.shop import Shop
from bot.tokens import LinkKind, new_payload
from storage import (
    Booking,
    Customer,
    EntryKind,
    ReferralCase,
    ReferralDecision,
    ReferralStatus,
    ReferralTerms,
)
from storage.ports import ReferralVerdict
from storage.sqlite import utcnow


async def personal_link(bot: Bot, shop: Shop, customer: Customer) -> str:
    payload = await shop.storage.referral_payload(
        customer.id, lambda: new_payload(LinkKind.REFERRAL)
    )
    me = await bot.me()
    return create_deep_link(str(me.username), "start", payload)


def terms(shop: Shop) -> ReferralTerms:
    program = shop.program
    today = shop.now().date()
    return ReferralTerms(
        min_purchase_minor=program.referral_min_purchase_minor,
        friend_bonus=program.referral_friend_bonus,
        referrer_bonus=program.referral_bonus,
        monthly_cap=program.referral_monthly_cap,
        month_start=local_midnight(date(today.year, today.month, 1), shop.settings.timezone),
        expires_at=lot_expiry(program, utcnow()),
    )


def decide(case: ReferralCase, terms: ReferralTerms) -> ReferralVerdict:
    """The decision on a waiting referral, given the friend's purchase: below the minimum it
    decides nothing; a referrer who is gone, a phone the two share, or the purchase booked
    at either one's own till rejects it; past the referrer's monthly cap it is recorded,
    not paid; otherwise it qualifies (storage then pays both bonuses)."""
    purchase, friend, referrer = case.purchase, case.friend, case.referrer
    if purchase.kind is not EntryKind.PURCHASE:
        return None
    if (purchase.bill_minor or 0) < terms.min_purchase_minor:
        return None
    if referrer.forgotten:
        return ReferralStatus.REJECTED, "referrer_gone"
    if friend.phone and friend.phone == referrer.phone:
        return ReferralStatus.REJECTED, "same_phone"
    if case.operator_id in (referrer.telegram_id, friend.telegram_id):
        return ReferralStatus.REJECTED, "own_till"
    if terms.monthly_cap and case.paid_this_month >= terms.monthly_cap:
        return ReferralStatus.CAPPED, "monthly_cap"
    return ReferralStatus.QUALIFIED, ""


async def on_purchase(shop: Shop, booking: Booking, operator_id: int) -> ReferralDecision | None:
    """A booked purchase may be the invited friend's first qualifying one."""
    if not shop.program.referrals or booking.entry.kind is not EntryKind.PURCHASE:
        return None
    # Most purchases are not a referred friend's first: a read spares them a write.
    waiting = await shop.storage.referral(booking.entry.customer_id)
    if waiting is None or waiting.status is not ReferralStatus.JOINED:
        return None
    return await shop.storage.qualify_referral(
        booking.entry.customer_id, booking.entry, operator_id, terms(shop), decide
    )


async def on_refund(shop: Shop, refund: Booking) -> ReferralDecision | None:
    """A refund that leaves the qualifying purchase below the minimum takes the bonuses back."""
    if refund.entry.reverses_id is None:
        return None
    operation = await shop.storage.operation(refund.entry.reverses_id)
    if operation is None or operation.entry.kind is not EntryKind.PURCHASE:
        return None
    return await shop.storage.reverse_referral(
        operation.entry.id, operation.open_minor, shop.program.referral_min_purchase_minor
    )
