"""The storage interface the bot talks to, and the records it exchanges.

Handlers and domain code depend on `Storage` only, so a PostgreSQL backend can be added
beside the SQLite one without touching them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol


class EntryKind(StrEnum):
    WELCOME = "welcome"
    PURCHASE = "purchase"
    REDEEM = "redeem"
    REFUND = "refund"
    ADJUST = "adjust"
    BIRTHDAY = "birthday"
    REFERRAL = "referral"
    EXPIRE = "expire"
    DONATION = "donation"


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    telegram_id: int | None
    name: str
    language: str | None
    phone: str | None
    birthday: date | None
    card_number: str
    card_payload: str
    promotions: bool
    balance: int
    card_file_id: str | None
    card_file_key: str | None
    created_at: datetime
    last_seen_at: datetime
    forgotten: bool
    tier: str | None = None  # the tier the customer was last told about
    unreachable_at: datetime | None = None  # blocked the bot or deleted the account


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    customer_id: int
    kind: EntryKind
    amount: int
    reason: str
    operation_id: str
    operator_id: int | None
    reverses_id: int | None
    bill_minor: int | None
    created_at: datetime
    shortfall: int = 0  # points a reversal could not take back because they were spent


@dataclass(frozen=True, slots=True)
class StaffMember:
    telegram_id: int
    name: str
    added_by: int | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class StaffInvite:
    """A cashier invite link not used yet and still valid."""

    payload: str
    created_by: int
    created_at: datetime
    expires_at: datetime


class InviteOutcome(StrEnum):
    JOINED = "joined"
    ALREADY_STAFF = "already_staff"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class PendingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUSED = "refused"  # confirmed, but the booking was refused (points, limits, offer)


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """An operation drawn as a confirmation button; its id becomes the ledger operation id."""

    id: str
    kind: EntryKind
    customer_id: int
    operator_id: int
    points: int
    bill_minor: int | None
    reverses_id: int | None
    status: PendingStatus
    staff_chat_id: int | None
    staff_message_id: int | None
    customer_message_id: int | None
    created_at: datetime
    expires_at: datetime
    rules: str = ""  # the earning rules a purchase was drafted under
    reward: str = ""  # the catalogue reward or stamp reward a redemption pays for
    offer_id: int | None = None  # an offer applied to this purchase


@dataclass(frozen=True, slots=True)
class Operation:
    """A purchase or redemption with what has been reversed of it so far."""

    entry: LedgerEntry
    refunded_minor: int
    reversed_points: int

    @property
    def open_points(self) -> int:
        return abs(self.entry.amount) - self.reversed_points

    @property
    def open_minor(self) -> int:
        return (self.entry.bill_minor or 0) - self.refunded_minor

    @property
    def reversible(self) -> bool:
        """Whether anything is left to reverse: a redemption's points not yet given back,
        a purchase's bill not yet refunded (which also lowers the spend for tiers)."""
        if self.entry.kind is EntryKind.REDEEM:
            return self.open_points > 0
        return self.open_minor > 0


@dataclass(frozen=True, slots=True)
class Booking:
    """The outcome of booking an operation: `created` is False when its id was booked before."""

    entry: LedgerEntry
    created: bool
    balance: int


class Settlement(StrEnum):
    """How confirming or closing a pending operation ended, decided in one transaction."""

    DONE = "done"  # this call booked it (confirm) or closed it (close)
    ALREADY = "already"  # booked before
    EXPIRED = "expired"
    CLOSED = "closed"  # cancelled, declined or refused before
    UNKNOWN = "unknown"
    INSUFFICIENT = "insufficient"
    OVER_LIMIT = "over_limit"  # more points than the bill may take now
    NOTHING_LEFT = "nothing_left"
    OFFER_GONE = "offer_gone"


@dataclass(frozen=True, slots=True)
class Settled:
    outcome: Settlement
    operation: PendingOperation | None  # as it stands after the transaction
    booking: Booking | None = None
    moved: bool = False  # this call changed the status: it is the one to tell both chats


@dataclass(frozen=True, slots=True)
class EarningContext:
    """What a purchase's earning depends on besides the bill."""

    spend_minor: int  # purchases less refunds since the tier window opened
    earned_today: int  # points purchases earned since the shop's midnight
    last_earned_at: datetime | None  # the last purchase that earned anything


@dataclass(frozen=True, slots=True)
class ExpiringPoints:
    customer: Customer
    points: int
    expires_at: datetime


class ReferralStatus(StrEnum):
    JOINED = "joined"  # attributed at registration, waiting for a qualifying purchase
    QUALIFIED = "qualified"  # both bonuses paid
    CAPPED = "capped"  # qualified above the referrer's monthly cap: recorded, not paid
    REJECTED = "rejected"  # self-referral caught (same phone, booked at the referrer's till)
    REVERSED = "reversed"  # the qualifying purchase was refunded: bonuses taken back


@dataclass(frozen=True, slots=True)
class Referral:
    friend_id: int
    referrer_id: int
    source: str  # "link" or "card"
    status: ReferralStatus
    reason: str
    purchase_entry_id: int | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    """What a qualifying purchase pays, decided by the program in force."""

    min_purchase_minor: int
    friend_bonus: int
    referrer_bonus: int
    monthly_cap: int  # 0 = no cap
    month_start: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReferralDecision:
    referral: Referral
    friend: Booking | None = None
    referrer: Booking | None = None


@dataclass(frozen=True, slots=True)
class ReferralStats:
    joined: int
    qualified: int
    points: int  # referral bonuses earned, less any taken back


@dataclass(frozen=True, slots=True)
class ReferrerRow:
    customer: Customer
    joined: int
    qualified: int
    capped: int


@dataclass(frozen=True, slots=True)
class FlaggedReferral:
    referral: Referral
    friend: Customer
    referrer: Customer
    flag: str  # "capped", "rejected", "burst" or "shared_phone"


class Segment(StrEnum):
    EVERYONE = "everyone"
    TIER = "tier"  # param: tier name
    NEW = "new"  # param: days since joining
    LAPSED = "lapsed"  # param: days without a purchase
    BIRTHDAYS = "birthdays"  # this month (param: month number)
    TOP = "top"  # param: percent of customers by 12-month spend
    REFERRERS = "referrers"
    EXPIRING = "expiring"  # param: days until points expire
    OFFER = "offer"  # param: offer id; the customers it was granted to (not held out)


@dataclass(frozen=True, slots=True)
class Audience:
    segment: Segment
    param: str = ""

    def key(self) -> str:
        return f"{self.segment.value}:{self.param}"

    @classmethod
    def parse(cls, key: str) -> Audience:
        segment, _sep, param = key.partition(":")
        return cls(Segment(segment), param)


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    created_by: int
    text: str
    photo_file_id: str | None
    button_text: str | None
    button_url: str | None
    audience: Audience
    holdout_percent: int
    status: BroadcastStatus
    send_at: datetime
    progress_chat_id: int | None
    progress_message_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    total: int  # recipients, holdout excluded
    pending: int
    sent: int
    blocked: int
    failed: int
    unknown: int  # claimed when the bot stopped, or the send timed out: never sent again
    holdout: int
    skipped: int = 0  # left the audience while it was sent (promotions off, forgotten, gone)

    @property
    def finished(self) -> int:
        return self.total - self.pending


def skip_reason(customer: Customer) -> str:
    """Why a promotion must not go to this customer any more ("" when it may)."""
    if customer.forgotten or customer.telegram_id is None:
        return "forgotten"
    if not customer.promotions:
        return "promotions off"
    if customer.unreachable_at is not None:
        return "unreachable"
    return ""


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming an outbox row found: the recipient as they are now (send to them), the
    reason they no longer get it (the row is settled as skipped), or neither (the row is no
    longer pending, or the broadcast stopped)."""

    customer: Customer | None = None
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class GroupResponse:
    """How one group (receivers or holdout) behaved after a promotion went out."""

    customers: int
    visitors: int  # made at least one purchase in the window
    spend_minor: int  # purchases less refunds in the window


class OfferKind(StrEnum):
    PERCENT = "percent"  # value: percent off the bill
    DISCOUNT = "discount"  # value: minor units off the bill
    POINTS = "points"  # value: bonus points with the purchase
    MULTIPLIER = "multiplier"  # value: x100 (2.0 -> 200) on the purchase's points
    ITEM = "item"  # a free item, named by the title


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    title: str
    kind: OfferKind
    value: int
    valid_from: datetime
    valid_until: datetime
    per_customer: int
    holdout_percent: int


@dataclass(frozen=True, slots=True)
class OfferResults:
    granted: int
    held_out: int
    users: int  # granted customers who used it at least once
    uses: int
    granted_visitors: int  # granted customers with a purchase while it was valid
    holdout_visitors: int


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """Raw figures for [since, until); money in minor units, points as booked."""

    members: int
    new_members: int
    active_members: int  # made a purchase in the period
    repeat_members: int  # made two or more
    visits: int
    revenue_minor: int  # purchases less refunds
    checks_by_tier: dict[str, tuple[int, int]]  # tier -> (purchases, bills total)
    issued: int  # points earned or granted (purchases, bonuses, referrals, positive adjustments)
    redeemed: int
    expired: int
    outstanding: int  # all balances now
    referrals_joined: int
    referrals_qualified: int
    promotions_sent: int
    offer_uses: int
    cashiers: list[tuple[int, str, int]]  # (telegram id, name, operations), busiest first
    tiers: dict[str, int]  # members per tier now


@dataclass(frozen=True, slots=True)
class WeeklySeries:
    """Per-week figures for charts, one value per week in order."""

    joins: list[int]
    visits: list[int]
    issued: list[int]
    spent: list[int]


class StorageError(Exception):
    pass


class InsufficientPoints(StorageError):
    def __init__(self, balance: int, amount: int) -> None:
        super().__init__(f"balance {balance} cannot absorb {amount}")
        self.balance = balance
        self.amount = amount


class OperationConflict(StorageError):
    """The operation id was already used for a different customer, kind or amount."""


class OfferUnavailable(StorageError):
    """The offer is not the customer's, not valid now, or used up."""


class NotFound(StorageError):
    pass


class NothingToReverse(StorageError):
    """The operation is not reversible, or was already reversed in full."""


ReversalRule = Callable[[int, int, int, int], int]
"""(points earned, bill, refunded before, refund now) -> points to take back."""

Reprice = Callable[[PendingOperation, Customer, EarningContext | None], PendingOperation | None]
"""Inside the booking transaction: the operation as it may be booked now (a purchase's
points recomputed against today's earnings, given the purchase's earning context), or None
when the rules refuse it (a redemption over the bill's share)."""


@dataclass(frozen=True, slots=True)
class BookingRules:
    """What the booking transaction needs from the program to decide on its own."""

    reprice: Reprice
    reversal: ReversalRule
    window_start: datetime | None  # tier window, for the earning context
    day_start: datetime  # the shop's midnight, for the daily cap
    lot_expires_at: datetime | None  # expiry of the lot an earning opens
    operator: Callable[[PendingOperation], int | None]  # whom the entry names as operator


CardIdentity = Callable[[], tuple[str, str]]
"""Makes a fresh (card number, card payload) pair; called again on a collision."""


class Storage(Protocol):
    async def close(self) -> None: ...
    async def backup_to(self, target: str) -> None: ...

    # customers
    async def register_customer(
        self,
        telegram_id: int,
        name: str,
        language: str | None,
        welcome_points: int,
        new_card: CardIdentity,
        welcome_expires_at: datetime | None = None,
        tier: str | None = None,
        referrer_id: int | None = None,
        referral_source: str = "link",
    ) -> tuple[Customer, bool]: ...
    async def customer_by_telegram(self, telegram_id: int) -> Customer | None: ...
    async def identify(self, telegram_id: int) -> tuple[Customer | None, bool]: ...
    async def customer(self, customer_id: int) -> Customer | None: ...
    async def customer_by_card_number(self, card_number: str) -> Customer | None: ...
    async def customer_by_payload(self, payload: str) -> Customer | None: ...
    async def touch(self, customer_id: int, name: str) -> None: ...
    async def set_language(self, customer_id: int, language: str) -> None: ...
    async def set_phone(self, customer_id: int, phone: str | None) -> None: ...
    async def set_birthday(self, customer_id: int, birthday: date | None) -> None: ...
    async def set_promotions(self, customer_id: int, enabled: bool) -> None: ...
    async def set_card_file(self, customer_id: int, key: str, file_id: str) -> None: ...
    async def forget_customer(self, customer_id: int) -> None: ...
    async def customers_by_phone(self, phone: str) -> list[Customer]: ...

    # staff
    async def staff_member(self, telegram_id: int) -> StaffMember | None: ...
    async def staff(self) -> list[StaffMember]: ...
    async def revoke_staff(self, telegram_id: int) -> bool: ...
    async def create_invite(self, payload: str, created_by: int, expires_at: datetime) -> None: ...
    async def open_invites(self, now: datetime) -> list[StaffInvite]: ...
    async def revoke_invite(self, payload: str, now: datetime) -> bool: ...
    async def use_invite(
        self, payload: str, telegram_id: int, name: str, now: datetime
    ) -> InviteOutcome: ...

    # operations awaiting confirmation
    async def create_pending(self, operation: PendingOperation) -> None: ...
    async def pending(self, operation_id: str) -> PendingOperation | None: ...
    async def move_pending(
        self, operation_id: str, expected: PendingStatus, new: PendingStatus
    ) -> bool: ...
    async def set_pending_messages(
        self,
        operation_id: str,
        staff_chat_id: int | None = None,
        staff_message_id: int | None = None,
        customer_message_id: int | None = None,
    ) -> PendingOperation | None:
        """Record the chat messages showing an operation; returns the row as it stands then."""
        ...

    async def confirm_pending(self, operation_id: str, rules: BookingRules) -> Settled:
        """Book a pending operation and mark it confirmed in one transaction, unless it is
        no longer pending or has expired by then."""
        ...

    async def close_pending(self, operation_id: str, status: PendingStatus) -> Settled:
        """Cancel, decline or expire a pending operation in one transaction; refused once
        its entry is booked."""
        ...

    # ledger
    async def book(
        self,
        customer_id: int,
        kind: EntryKind,
        amount: int,
        operation_id: str,
        reason: str = "",
        operator_id: int | None = None,
        reverses_id: int | None = None,
        bill_minor: int | None = None,
        rules: str = "",
        expires_at: datetime | None = None,
        offer_id: int | None = None,
    ) -> Booking: ...
    async def grant_birthday(
        self, customer_id: int, points: int, year: int, expires_at: datetime | None = None
    ) -> Booking | None: ...
    async def reverse(
        self,
        original_id: int,
        refund_minor: int | None,
        operation_id: str,
        operator_id: int,
        rule: ReversalRule,
        expires_at: datetime | None = None,
    ) -> Booking: ...
    async def operations(self, customer_id: int, limit: int) -> list[Operation]: ...
    async def lot_left(self, entry_id: int) -> int:
        """Points an earning's lot still holds: what a refund of it can take back."""
        ...

    async def operation(self, entry_id: int) -> Operation | None: ...
    async def operator_entries(self, operator_id: int, since: datetime) -> list[LedgerEntry]: ...
    async def entry_by_operation(self, operation_id: str) -> LedgerEntry | None: ...
    async def history(self, customer_id: int, limit: int, offset: int = 0) -> list[LedgerEntry]: ...
    async def count_entries(self, customer_id: int) -> int: ...
    async def ledger_sum(self, customer_id: int) -> int: ...
    async def balance_mismatches(self) -> list[tuple[int, int, int]]: ...
    async def lot_mismatches(self) -> list[tuple[int, int, int]]: ...

    # the program: tiers, scheduled grants, expiry, giving back
    async def earning_context(
        self, customer_id: int, window_start: datetime | None, day_start: datetime
    ) -> EarningContext: ...
    async def spends(self, window_start: datetime | None) -> list[tuple[Customer, int]]: ...
    async def set_tier(self, customer_id: int, tier: str) -> None: ...
    async def move_tiers(self, moves: list[tuple[int, str | None, str]]) -> set[int]:
        """Apply (customer id, tier read, new tier) in one transaction, each only where the
        customer still holds the tier read; returns the ids of those moved."""
        ...

    async def birthday_customers(self, month: int, day: int) -> list[Customer]: ...
    async def expire_due(self, now: datetime) -> list[Booking]: ...
    async def expiring(
        self, now: datetime, until: datetime, customer_id: int | None = None
    ) -> list[ExpiringPoints]: ...
    async def claim_mark(self, customer_id: int, kind: str, period: str) -> bool: ...
    async def job_day(self, name: str) -> date | None: ...
    async def set_job_day(self, name: str, day: date) -> None: ...
    async def donations_total(self) -> int: ...

    # referrals
    async def referral_payload(self, customer_id: int, new_payload: Callable[[], str]) -> str: ...
    async def customer_by_referral(self, payload: str) -> Customer | None: ...
    async def referral(self, friend_id: int) -> Referral | None: ...
    async def qualify_referral(
        self, friend_id: int, purchase: LedgerEntry, operator_id: int, terms: ReferralTerms
    ) -> ReferralDecision | None: ...
    async def reverse_referral(
        self, purchase_entry_id: int, open_minor: int, min_purchase_minor: int
    ) -> ReferralDecision | None: ...
    async def referral_stats(self, referrer_id: int) -> ReferralStats: ...
    async def referral_totals(self) -> tuple[int, int]: ...

    # promotions
    async def audience_size(self, audience: Audience, now: datetime) -> int: ...
    async def sample_customer(self, audience: Audience, now: datetime) -> Customer | None: ...
    async def create_broadcast(
        self,
        created_by: int,
        text: str,
        photo_file_id: str | None,
        button: tuple[str, str] | None,
        audience: Audience,
        holdout_percent: int,
        send_at: datetime,
    ) -> Broadcast: ...
    async def broadcast(self, broadcast_id: int) -> Broadcast | None: ...
    async def broadcasts(self, statuses: tuple[BroadcastStatus, ...]) -> list[Broadcast]: ...
    async def cancel_broadcast(self, broadcast_id: int) -> bool: ...
    async def set_broadcast_progress(
        self, broadcast_id: int, chat_id: int, message_id: int
    ) -> None: ...
    async def start_due_broadcast(self, now: datetime) -> Broadcast | None: ...
    async def next_recipients(self, broadcast_id: int, limit: int) -> list[Customer]: ...
    async def claim_recipient(self, broadcast_id: int, customer_id: int) -> Claim: ...
    async def settle_recipient(
        self, broadcast_id: int, customer_id: int, status: str, error: str = ""
    ) -> None: ...
    async def outbox_counts(self, broadcast_id: int) -> OutboxCounts: ...
    async def finish_broadcast(self, broadcast_id: int) -> None: ...
    async def mark_unreachable(self, customer_id: int) -> None: ...
    async def create_offer(
        self,
        title: str,
        kind: OfferKind,
        value: int,
        valid_from: datetime,
        valid_until: datetime,
        per_customer: int,
        holdout_percent: int,
        audience: Audience,
        created_by: int,
    ) -> Offer: ...
    async def create_offer_for(
        self,
        title: str,
        kind: OfferKind,
        value: int,
        valid_from: datetime,
        valid_until: datetime,
        customer_ids: list[int],
    ) -> Offer: ...
    async def audience_customers(self, audience: Audience, now: datetime) -> list[Customer]: ...
    async def offer(self, offer_id: int) -> Offer | None: ...
    async def period_figures(self, since: datetime, until: datetime) -> PeriodFigures: ...
    async def weekly_series(self, bounds: list[datetime]) -> WeeklySeries: ...
    async def export_customers(self) -> list[tuple[Any, ...]]: ...
    async def export_ledger(self) -> list[tuple[Any, ...]]: ...
    async def operations_since(
        self, since: datetime, customer_id: int | None, operator_id: int | None
    ) -> int: ...
    async def offers_for(self, customer_id: int, now: datetime) -> list[Offer]: ...
    async def offer_results(self, offer_id: int) -> OfferResults: ...
    async def recent_offers(self, limit: int) -> list[Offer]: ...
    async def recent_broadcasts(self, limit: int) -> list[Broadcast]: ...
    async def broadcast_response(
        self, broadcast_id: int, days: int
    ) -> tuple[GroupResponse, GroupResponse] | None: ...
    async def top_referrers(self, limit: int) -> list[ReferrerRow]: ...
    async def flagged_referrals(
        self, burst_window: timedelta, burst_count: int, limit: int
    ) -> list[FlaggedReferral]: ...
