"""Referrals as domain operations: the personal invitation payload, and the decision on the
friend's qualifying purchase (or its refund). The link around the payload is Telegram's
(`bot.telegram.links`)."""

from __future__ import annotations

from datetime import date

from bot.domain.context import Context
from bot.domain.program.rules import local_midnight, lot_expiry
from bot.domain.tokens import LinkKind, new_payload
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


async def personal_payload(context: Context, customer: Customer) -> str:
    """The customer's own referral payload, drawn once and kept."""
    return await context.storage.referral_payload(
        customer.id, lambda: new_payload(LinkKind.REFERRAL)
    )


def terms(context: Context) -> ReferralTerms:
    program = context.program
    today = context.today()
    return ReferralTerms(
        min_purchase_minor=program.referral_min_purchase_minor,
        friend_bonus=program.referral_friend_bonus,
        referrer_bonus=program.referral_bonus,
        monthly_cap=program.referral_monthly_cap,
        month_start=local_midnight(date(today.year, today.month, 1), context.zone),
        expires_at=lot_expiry(program, context.now()),
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


async def on_purchase(
    context: Context, booking: Booking, operator_id: int
) -> ReferralDecision | None:
    """A booked purchase may be the invited friend's first qualifying one."""
    if not context.program.referrals or booking.entry.kind is not EntryKind.PURCHASE:
        return None
    # Most purchases are not a referred friend's first: a read spares them a write.
    waiting = await context.storage.referral(booking.entry.customer_id)
    if waiting is None or waiting.status is not ReferralStatus.JOINED:
        return None
    return await context.storage.qualify_referral(
        booking.entry.customer_id, booking.entry, operator_id, terms(context), decide
    )


async def on_refund(context: Context, refund: Booking) -> ReferralDecision | None:
    """A refund that leaves the qualifying purchase below the minimum takes the bonuses back."""
    if refund.entry.reverses_id is None:
        return None
    operation = await context.storage.operation(refund.entry.reverses_id)
    if operation is None or operation.entry.kind is not EntryKind.PURCHASE:
        return None
    return await context.storage.reverse_referral(
        operation.entry.id, operation.open_minor, context.program.referral_min_purchase_minor
    )
