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
    ReferralDecision,
    ReferralStatus,
    ReferralTerms,
)


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
        booking.entry.customer_id, booking.entry, operator_id, terms(context)
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
