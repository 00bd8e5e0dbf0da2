"""The cashier's desk as domain operations: draft, confirm, reverse (finding the customer
first is `finding`).

Every operation is first drafted as a pending row whose random id is drawn on the
confirmation button and becomes the ledger's operation id: however often the button is
pressed, or the update retried, it books once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain import referrals, standing
from bot.domain.context import Context
from bot.domain.grants import review_upgrade
from bot.domain.program.model import Program, Reward, Tier
from bot.domain.program.rules import (
    Earned,
    lot_expiry,
    max_redeemable,
    reversal_points,
    tier_window_start,
)
from bot.domain.tokens import new_operation_id
from storage import (
    Booking,
    Customer,
    EarningContext,
    EntryKind,
    LedgerEntry,
    Offer,
    OfferKind,
    Operation,
    ReferralDecision,
)
from storage.ports import BookingRules
from storage.records import PendingOperation, PendingStatus, Settled, Settlement

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
    OVER_LIMIT = "over_limit"  # more points than the bill may take any more


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    operation: PendingOperation | None = None
    booking: Booking | None = None
    upgraded: Tier | None = None  # the tier a purchase lifted the customer to
    referral: ReferralDecision | None = None  # a referral this purchase or refund decided
    moved: bool = False  # this call settled the operation: it tells both chats


async def _draft(
    context: Context,
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
    now = context.now()
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
    await context.storage.create_pending(operation)
    return operation


async def draft_purchase(
    context: Context,
    customer: Customer,
    operator_id: int,
    bill_minor: int,
    offer: Offer | None = None,
) -> tuple[PendingOperation, Earned]:
    earned = await standing.purchase_earning(context, customer, bill_minor)
    operation = await _draft(
        context,
        EntryKind.PURCHASE,
        customer,
        operator_id,
        offer_points(offer, earned.points),
        bill_minor,
        STAFF_CONFIRM_TTL,
        rules=earned.rules(context.program),
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
    context: Context,
    customer: Customer,
    operator_id: int,
    points: int,
    bill_minor: int | None,
    reward: Reward | None = None,
) -> PendingOperation:
    """Spending points on a bill, or on a reward (a catalogue item, or the stamp reward)."""
    return await _draft(
        context,
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


async def draft_donation(context: Context, customer: Customer, points: int) -> PendingOperation:
    """A customer giving points to the shop's cause; they confirm it themselves."""
    return await _draft(
        context,
        EntryKind.DONATION,
        customer,
        NO_OPERATOR,
        points,
        None,
        STAFF_CONFIRM_TTL,
        reward=context.program.cause,
    )


async def draft_adjustment(
    context: Context, customer: Customer, operator_id: int, points: int, reason: str
) -> PendingOperation:
    """An owner's correction, booked by its button: a redelivered /adjust books nothing."""
    return await _draft(
        context,
        EntryKind.ADJUST,
        customer,
        operator_id,
        points,
        None,
        STAFF_CONFIRM_TTL,
        reward=reason,
    )


async def draft_reversal(
    context: Context,
    customer: Customer,
    operator_id: int,
    operation: Operation,
    refund_minor: int | None,
) -> PendingOperation:
    entry = operation.entry
    if entry.kind is EntryKind.REDEEM:
        points = operation.open_points
    else:
        bill = refund_minor if refund_minor is not None else operation.open_minor
        points = min(
            operation.open_points,
            reversal_points(entry.amount, entry.bill_minor or 0, operation.refunded_minor, bill),
            await context.storage.lot_left(entry.id),  # expired or spent points are gone once
        )
        refund_minor = bill
    return await _draft(
        context,
        EntryKind.REFUND,
        customer,
        operator_id,
        points,
        refund_minor,
        STAFF_CONFIRM_TTL,
        reverses_id=entry.id,
    )


# Which operations each button may settle: a button of one kind never settles another.
STAFF_BUTTON = frozenset({EntryKind.PURCHASE, EntryKind.REFUND, EntryKind.ADJUST})
REDEEM_BUTTON = frozenset({EntryKind.REDEEM})
DONATION_BUTTON = frozenset({EntryKind.DONATION})
_OUTCOMES = {
    Settlement.DONE: Outcome.BOOKED,
    Settlement.ALREADY: Outcome.ALREADY,
    Settlement.EXPIRED: Outcome.EXPIRED,
    Settlement.CLOSED: Outcome.CLOSED,
    Settlement.UNKNOWN: Outcome.UNKNOWN,
    Settlement.INSUFFICIENT: Outcome.INSUFFICIENT,
    Settlement.OVER_LIMIT: Outcome.OVER_LIMIT,
    Settlement.NOTHING_LEFT: Outcome.NOTHING_LEFT,
    Settlement.OFFER_GONE: Outcome.OFFER_GONE,
}


def own_card(operator_id: int, customer: Customer) -> bool:
    """Nobody books on their own card; owners correct their own points with /adjust."""
    return customer.telegram_id is not None and customer.telegram_id == operator_id


async def _authorize(
    context: Context,
    operation_id: str,
    presser: int,
    kinds: frozenset[EntryKind],
    by_customer: bool | None,
) -> Result | PendingOperation:
    """Who may press: the customer for what they confirm, the cashier who drew it for the
    rest (and to withdraw a request); only through the operation's own kind of button.
    A Result means "stop here"; `by_customer` None: as the kind says."""
    operation = await context.storage.pending(operation_id)
    if operation is None or operation.kind not in kinds:
        return Result(Outcome.UNKNOWN)
    customer = await context.storage.customer(operation.customer_id)
    if customer is None:
        return Result(Outcome.UNKNOWN)
    if by_customer is None:
        by_customer = operation.kind in CUSTOMER_CONFIRMS
    exempt = operation.kind in (EntryKind.ADJUST, EntryKind.DONATION)  # their own points
    if not exempt and own_card(operation.operator_id, customer):
        return Result(Outcome.FORBIDDEN, operation)
    if by_customer:
        allowed = operation.kind in CUSTOMER_CONFIRMS and customer.telegram_id == presser
    else:
        allowed = operation.operator_id == presser
    if not allowed:
        return Result(Outcome.FORBIDDEN, operation)
    return operation


def reprice(
    program: Program, offer: Offer | None, clock: Callable[[], datetime]
) -> Callable[[PendingOperation, Customer, EarningContext | None], PendingOperation | None]:
    """The rules the booking transaction applies to a draft against the ledger as it is then:
    a purchase earns at most what it may earn now (drafts opened side by side share one daily
    cap and one cooldown), a redemption takes no more than the bill's share."""

    def rule(
        operation: PendingOperation, customer: Customer, context: EarningContext | None
    ) -> PendingOperation | None:
        if operation.kind is EntryKind.PURCHASE and context is not None:
            bill = operation.bill_minor or 0
            earned = standing.earning_in(program, customer, bill, context, clock())
            allowed = offer_points(offer, earned.points)
            if allowed < operation.points:
                return replace(operation, points=allowed, rules=earned.rules(program))
            return operation
        if operation.kind is EntryKind.REDEEM and operation.bill_minor is not None:
            tier = standing.current_tier(program, customer)
            if max_redeemable(program, operation.points, operation.bill_minor, tier) < (
                operation.points
            ):
                return None
        return operation

    return rule


def _result(settled: Settled) -> Result:
    outcome = _OUTCOMES[settled.outcome]
    return Result(outcome, settled.operation, settled.booking, moved=settled.moved)


async def confirm(
    context: Context, operation_id: str, presser: int, kinds: frozenset[EntryKind]
) -> Result:
    """Book a drafted operation once: a purchase, reversal or adjustment by whoever drew
    it, a redemption or donation by its customer, each through its own kind of button."""
    found = await _authorize(context, operation_id, presser, kinds, None)
    if isinstance(found, Result):
        return found
    now = context.now()
    offer = await context.storage.offer(found.offer_id) if found.offer_id is not None else None
    rules = BookingRules(
        reprice=reprice(context.program, offer, context.clock),
        reversal=reversal_points,
        window_start=tier_window_start(context.program, now),
        day_start=standing.today_starts(context.zone, now),
        lot_expires_at=lot_expiry(context.program, now),
        operator=ledger_operator,
    )
    settled = await context.storage.confirm_pending(operation_id, rules)
    result = _result(settled)
    if result.outcome is not Outcome.BOOKED or settled.booking is None:
        return result
    operation, booking = settled.operation, settled.booking
    assert operation is not None
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
        upgraded = await review_upgrade(context, operation.customer_id)
        referral = await referrals.on_purchase(context, booking, operation.operator_id)
    elif operation.kind is EntryKind.REFUND:
        referral = await referrals.on_refund(context, booking)
    return replace(result, upgraded=upgraded, referral=referral)


async def close(
    context: Context,
    operation_id: str,
    presser: int,
    kinds: frozenset[EntryKind],
    status: PendingStatus,
    by_customer: bool = False,
) -> Result:
    """Cancel (cashier) or decline (customer) an operation that is still pending; an
    operation already in the ledger stays booked. `moved` tells whether this call closed it."""
    found = await _authorize(context, operation_id, presser, kinds, by_customer)
    if isinstance(found, Result):
        return found
    return _result(await context.storage.close_pending(operation_id, status))


async def expire(context: Context, operation_id: str) -> Result:
    """The unanswered request's time is up: expired, unless it was settled first."""
    return _result(await context.storage.close_pending(operation_id, PendingStatus.EXPIRED))


async def shift_entries(context: Context, operator_id: int) -> list[LedgerEntry]:
    """What this cashier booked since the shop's midnight."""
    since = datetime.combine(context.today(), datetime.min.time(), context.zone)
    return await context.storage.operator_entries(operator_id, since)
