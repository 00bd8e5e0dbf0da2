"""The cashier's desk as domain operations: find a customer, draft, confirm, reverse.

Every operation is first drafted as a pending row whose random id is drawn on the
confirmation button and becomes the ledger's operation id: however often the button is
pressed, or the update retried, it books once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot import loyalty, referrals
from bot.phones import normalize_phone
from bot.program import Earned, Reward, Tier, lot_expiry, reversal_points
from bot.shop import Shop
from bot.tokens import new_operation_id, normalize_card_number
from storage import (
    Booking,
    Customer,
    EntryKind,
    InsufficientPoints,
    NothingToReverse,
    Offer,
    OfferKind,
    OfferUnavailable,
    Operation,
    ReferralDecision,
)
from storage.base import PendingOperation, PendingStatus
from storage.sqlite import utcnow

log = logging.getLogger(__name__)
STAFF_CONFIRM_TTL = timedelta(minutes=15)
# Operations only the customer may confirm: spending their points, giving them away.
CUSTOMER_CONFIRMS = frozenset({EntryKind.REDEEM, EntryKind.DONATION})
CUSTOMER_CONFIRM_TTL = timedelta(minutes=2)


class Outcome(StrEnum):
    BOOKED = "booked"
    ALREADY = "already"
    EXPIRED = "expired"
    CLOSED = "closed"  # cancelled or declined before
    FORBIDDEN = "forbidden"
    UNKNOWN = "unknown"
    INSUFFICIENT = "insufficient"
    NOTHING_LEFT = "nothing_left"
    OFFER_GONE = "offer_gone"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    operation: PendingOperation | None = None
    booking: Booking | None = None
    upgraded: Tier | None = None  # the tier a purchase lifted the customer to
    referral: ReferralDecision | None = None  # a referral this purchase or refund decided


async def find_customers(shop: Shop, text: str) -> list[Customer] | None:
    """Customers matching a typed card number or phone; None when the text is neither."""
    number = normalize_card_number(text)
    if number is not None:
        found = await shop.storage.customer_by_card_number(number)
        return [found] if found else []
    compact = text.strip()
    phone = normalize_phone(compact)
    digits = sum(c.isdigit() for c in compact)
    if phone is not None and (compact.startswith("+") or digits >= 9):
        return await shop.storage.customers_by_phone(phone)
    return None


async def _draft(
    shop: Shop,
    kind: EntryKind,
    customer: Customer,
    operator_id: int,
    points: int,
    bill_minor: int | None,
    ttl: timedelta,
    reverses_id: int | None = None,
    rules: str = "",
    reward: str = "",
    offer_id: int | None = None,
) -> PendingOperation:
    now = utcnow()
    operation = PendingOperation(
        id=new_operation_id(),
        kind=kind,
        customer_id=customer.id,
        operator_id=operator_id,
        points=points,
        bill_minor=bill_minor,
        reverses_id=reverses_id,
        status=PendingStatus.PENDING,
        staff_chat_id=None,
        staff_message_id=None,
        customer_message_id=None,
        created_at=now,
        expires_at=now + ttl,
        rules=rules,
        reward=reward,
        offer_id=offer_id,
    )
    await shop.storage.create_pending(operation)
    return operation


async def draft_purchase(
    shop: Shop,
    customer: Customer,
    operator_id: int,
    bill_minor: int,
    offer: Offer | None = None,
) -> tuple[PendingOperation, Earned]:
    earned = await loyalty.purchase_earning(shop, customer, bill_minor)
    operation = await _draft(
        shop,
        EntryKind.PURCHASE,
        customer,
        operator_id,
        offer_points(offer, earned.points),
        bill_minor,
        STAFF_CONFIRM_TTL,
        rules=earned.rules(shop.program),
        offer_id=offer.id if offer else None,
    )
    return operation, earned


def offer_points(offer: Offer | None, points: int) -> int:
    """What an applied offer does to a purchase's points; discounts leave them alone."""
    if offer is None:
        return points
    if offer.kind is OfferKind.POINTS:
        return points + offer.value
    if offer.kind is OfferKind.MULTIPLIER:
        return points * offer.value // 100
    return points


async def draft_redeem(
    shop: Shop,
    customer: Customer,
    operator_id: int,
    points: int,
    bill_minor: int | None,
    reward: Reward | None = None,
) -> PendingOperation:
    """Spending points on a bill, or on a reward (a catalogue item, or the stamp reward)."""
    return await _draft(
        shop,
        EntryKind.REDEEM,
        customer,
        operator_id,
        points,
        bill_minor,
        CUSTOMER_CONFIRM_TTL,
        reward=reward.name if reward else "",
    )


# The operator of what customers do on their own (a donation): nobody. Their Telegram id
# would otherwise stay in the ledger (and ledger.csv) after "forget me". Drafts need a value
# (pending_operations.operator_id is NOT NULL) and 0 is nobody's Telegram id.
NO_OPERATOR = 0


def ledger_operator(operation: PendingOperation) -> int | None:
    """Whom the ledger entry names as operator: the cashier or owner, never the customer."""
    return None if operation.operator_id == NO_OPERATOR else operation.operator_id


async def draft_donation(shop: Shop, customer: Customer, points: int) -> PendingOperation:
    """A customer giving points to the shop's cause; they confirm it themselves."""
    return await _draft(
        shop,
        EntryKind.DONATION,
        customer,
        NO_OPERATOR,
        points,
        None,
        STAFF_CONFIRM_TTL,
        reward=shop.program.cause,
    )


async def draft_reversal(
    shop: Shop, customer: Customer, operator_id: int, operation: Operation, refund_minor: int | None
) -> PendingOperation:
    entry = operation.entry
    if entry.kind is EntryKind.REDEEM:
        points = operation.open_points
    else:
        bill = refund_minor if refund_minor is not None else operation.open_minor
        points = min(
            operation.open_points,
            reversal_points(entry.amount, entry.bill_minor or 0, operation.refunded_minor, bill),
        )
        refund_minor = bill
    return await _draft(
        shop,
        EntryKind.REFUND,
        customer,
        operator_id,
        points,
        refund_minor,
        STAFF_CONFIRM_TTL,
        reverses_id=entry.id,
    )


async def _open(shop: Shop, operation_id: str, presser: int, by_customer: bool) -> Result | None:
    """The checks every confirmation shares; a Result means "stop here"."""
    operation = await shop.storage.pending(operation_id)
    if operation is None:
        return Result(Outcome.UNKNOWN)
    if by_customer:
        customer = await shop.storage.customer(operation.customer_id)
        allowed = customer is not None and customer.telegram_id == presser
    else:
        allowed = operation.operator_id == presser
    if not allowed:
        return Result(Outcome.FORBIDDEN, operation)
    booked = await shop.storage.entry_by_operation(operation.id)
    if booked is not None or operation.status is PendingStatus.CONFIRMED:
        return Result(Outcome.ALREADY, operation)
    if operation.status is PendingStatus.EXPIRED:
        return Result(Outcome.EXPIRED, operation)
    if operation.status is not PendingStatus.PENDING:
        return Result(Outcome.CLOSED, operation)
    if utcnow() > operation.expires_at:
        await shop.storage.move_pending(operation.id, PendingStatus.PENDING, PendingStatus.EXPIRED)
        return Result(Outcome.EXPIRED, operation)
    return None


async def confirm(shop: Shop, operation_id: str, presser: int, by_customer: bool) -> Result:
    """Book a drafted operation once: a purchase or reversal by its cashier, a redemption
    by its customer."""
    stop = await _open(shop, operation_id, presser, by_customer)
    if stop is not None:
        return stop
    operation = await shop.storage.pending(operation_id)
    assert operation is not None
    if (operation.kind in CUSTOMER_CONFIRMS) != by_customer:
        return Result(Outcome.FORBIDDEN, operation)
    expires_at = lot_expiry(shop.program, utcnow())
    try:
        if operation.kind is EntryKind.REFUND:
            assert operation.reverses_id is not None
            booking = await shop.storage.reverse(
                operation.reverses_id,
                operation.bill_minor,
                operation.id,
                operation.operator_id,
                reversal_points,
                expires_at=expires_at,
            )
        else:
            sign = -1 if operation.kind in CUSTOMER_CONFIRMS else 1
            reason = operation.kind.value
            if operation.reward:
                reason += ": " + operation.reward
            booking = await shop.storage.book(
                operation.customer_id,
                operation.kind,
                sign * operation.points,
                operation.id,
                reason=reason,
                operator_id=ledger_operator(operation),
                bill_minor=operation.bill_minor,
                rules=operation.rules,
                expires_at=expires_at if sign > 0 else None,
                offer_id=operation.offer_id,
            )
    except InsufficientPoints:
        await shop.storage.move_pending(operation.id, PendingStatus.PENDING, PendingStatus.DECLINED)
        return Result(Outcome.INSUFFICIENT, operation)
    except OfferUnavailable:
        await shop.storage.move_pending(
            operation.id, PendingStatus.PENDING, PendingStatus.CANCELLED
        )
        return Result(Outcome.OFFER_GONE, operation)
    except NothingToReverse:
        await shop.storage.move_pending(
            operation.id, PendingStatus.PENDING, PendingStatus.CANCELLED
        )
        return Result(Outcome.NOTHING_LEFT, operation)
    await shop.storage.move_pending(operation.id, PendingStatus.PENDING, PendingStatus.CONFIRMED)
    if not booking.created:
        return Result(Outcome.ALREADY, operation, booking)
    log.info(
        "booked %s: operator %s, customer %s, points %+d, bill %s, operation %s",
        operation.kind.value,
        operation.operator_id,
        operation.customer_id,
        booking.entry.amount,
        operation.bill_minor,
        operation.id,
    )
    upgraded = referral = None
    if operation.kind is EntryKind.PURCHASE:
        upgraded = await loyalty.review_upgrade(shop, operation.customer_id)
        referral = await referrals.on_purchase(shop, booking, operation.operator_id)
    elif operation.kind is EntryKind.REFUND:
        referral = await referrals.on_refund(shop, booking)
    return Result(Outcome.BOOKED, operation, booking, upgraded, referral)


async def close(
    shop: Shop, operation_id: str, presser: int, by_customer: bool, status: PendingStatus
) -> Result:
    """Cancel (cashier) or decline (customer) an operation that is still pending."""
    stop = await _open(shop, operation_id, presser, by_customer)
    if stop is not None:
        return stop
    operation = await shop.storage.pending(operation_id)
    if by_customer and (operation is None or operation.kind not in CUSTOMER_CONFIRMS):
        # A customer may only turn down a spending request, never a cashier's draft.
        return Result(Outcome.FORBIDDEN, operation)
    moved = await shop.storage.move_pending(operation_id, PendingStatus.PENDING, status)
    operation = await shop.storage.pending(operation_id)
    return Result(Outcome.BOOKED if moved else Outcome.CLOSED, operation)


async def shift_entries(shop: Shop, operator_id: int) -> list:  # type: ignore[type-arg]
    local_midnight = datetime.combine(
        shop.now().date(), datetime.min.time(), shop.settings.timezone
    )
    return await shop.storage.operator_entries(operator_id, local_midnight)
