"""The records storage exchanges with the bot: frozen dataclasses and enums, every backend's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


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
    IMPORT = "import"  # a plastic card's balance (and lifetime spend) brought over
    CLAIM = "claim"  # points moved when a joining customer claims their imported card


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
    legacy_number: str | None = None  # the old plastic card's number, for imported cards


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
    holder_id: int | None = None  # the card holding its points now, after a claim retired it

    def held_by(self, customer_id: int) -> bool:
        """Whether it is reversed from this customer's card."""
        return (self.holder_id or self.entry.customer_id) == customer_id

    @property
    def open_points(self) -> int:
        return abs(self.entry.amount) - self.reversed_points

    @property
    def open_minor(self) -> int:
        return (self.entry.bill_minor or 0) - self.refunded_minor

    @property
    def reversible(self) -> bool:
        """Anything left to reverse: a redemption's points, or a purchase's bill (and spend)."""
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
