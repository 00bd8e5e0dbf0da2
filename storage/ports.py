"""The storage interface the bot talks to, one Protocol per concern, and the types of the
rules the domain passes into storage transactions.

The bot depends on these ports only; `tests/storage_contract/` holds what every backend must
pass. Business decisions stay out of the backends: they arrive as pure functions or specs the
domain defines (`BookingRules`, `ReversalRule`, `ReferralRule`, `Revenue`, `AudienceRule`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from storage.ports_branding import Presence
from storage.ports_imports import CardIdentity, Imports
from storage.ports_programs import ProgramVersions
from storage.records import (
    Audience,
    Booking,
    Broadcast,
    BroadcastStatus,
    Claim,
    Customer,
    EarningContext,
    EntryKind,
    ExpiringPoints,
    FlaggedReferral,
    GroupResponse,
    InviteOutcome,
    LedgerEntry,
    Offer,
    OfferKind,
    OfferResults,
    Operation,
    OutboxCounts,
    PendingOperation,
    PendingStatus,
    PeriodFigures,
    Referral,
    ReferralDecision,
    ReferralStats,
    ReferralStatus,
    ReferrerRow,
    Settled,
    StaffInvite,
    StaffMember,
    WeeklySeries,
)

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
class ReferralCase:
    """What the referral decision looks at, read inside the transaction that acts on it."""

    referral: Referral  # still waiting (joined)
    friend: Customer
    referrer: Customer
    purchase: LedgerEntry
    operator_id: int  # who booked the purchase
    paid_this_month: int  # the referrer's referrals qualified since `terms.month_start`


ReferralVerdict = tuple[ReferralStatus, str] | None
ReferralRule = Callable[[ReferralCase, ReferralTerms], ReferralVerdict]
"""The decision on a waiting referral: (qualified, ""), (rejected or capped, reason), or
None when this purchase does not decide it (the referral keeps waiting). Storage pays
both bonuses for a qualified one (`bot.referrals.decide`)."""


@dataclass(frozen=True, slots=True)
class Revenue:
    """What the period figures count as money taken: the bills of `adds` less the bills of
    `takes` (a refund carries the refunded amount as its bill). The domain owns it
    (`bot.insights.REVENUE`); every backend only sums by kind."""

    adds: frozenset[EntryKind]
    takes: frozenset[EntryKind]


@dataclass(frozen=True, slots=True)
class AudienceFilter:
    """Who an audience holds, as neutral conditions over customers, all of which must hold
    (none: everyone). The domain says what each `Segment` means (`bot.broadcast.
    audience_filter`); a backend only translates the conditions. Whatever the filter,
    promotions reach only customers who are not forgotten, opted in and reachable."""

    tiers: tuple[str, ...] = ()  # holds one of these tiers...
    untiered: bool = False  # ...or none yet (alone: only customers without a tier)
    joined_since: datetime | None = None
    no_purchase_since: datetime | None = None  # last purchase (else joining) before this
    birthday_month: int | None = None
    top_spend_percent: int | None = None  # this share (at least one) of the customers with
    spend_since: datetime | None = None  # any spend since `spend_since`, by that spend
    referred_friends: bool = False  # invited at least one friend who joined
    granted_offer: int | None = None  # was granted this offer (not held out)
    points_expiring: tuple[datetime, datetime] | None = None  # lots expiring in (start, end]


AudienceRule = Callable[[Audience, datetime], AudienceFilter]
"""What an audience means at a moment; a scheduled broadcast's is resolved when it starts."""


class Lifecycle(Protocol):  # backups and closing
    async def close(self) -> None: ...
    async def backup_to(self, target: str) -> None: ...


class Customers(Protocol):
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
    async def mark_unreachable(self, customer_id: int) -> None: ...


class Staff(Protocol):
    async def staff_member(self, telegram_id: int) -> StaffMember | None: ...
    async def staff(self) -> list[StaffMember]: ...
    async def revoke_staff(self, telegram_id: int) -> bool: ...
    async def create_invite(self, payload: str, created_by: int, expires_at: datetime) -> None: ...
    async def open_invites(self, now: datetime) -> list[StaffInvite]: ...
    async def revoke_invite(self, payload: str, now: datetime) -> bool: ...
    async def use_invite(
        self, payload: str, telegram_id: int, name: str, now: datetime
    ) -> InviteOutcome: ...


class Pending(Protocol):
    """Operations awaiting confirmation."""

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


class Ledger(Protocol):
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
    async def operations_since(
        self, since: datetime, customer_id: int | None, operator_id: int | None
    ) -> int: ...


class Grants(Protocol):
    """The program: tiers, scheduled grants, expiry, giving back."""

    async def earning_context(
        self, customer_id: int, window_start: datetime | None, day_start: datetime
    ) -> EarningContext: ...
    async def spends(self, window_start: datetime | None) -> list[tuple[Customer, int]]: ...
    async def set_tier(self, customer_id: int, tier: str) -> None: ...
    async def move_tiers(self, moves: list[tuple[int, str | None, str]]) -> set[int]:
        """Apply (customer id, tier read, new tier) in one transaction, each only where the
        customer still holds the tier read; returns the ids of those moved."""
        ...

    async def grant_birthday(
        self, customer_id: int, points: int, year: int, expires_at: datetime | None = None
    ) -> Booking | None: ...
    async def birthday_customers(self, month: int, day: int) -> list[Customer]: ...
    async def expire_due(self, now: datetime) -> list[Booking]: ...
    async def expiring(
        self, now: datetime, until: datetime, customer_id: int | None = None
    ) -> list[ExpiringPoints]: ...
    async def claim_mark(self, customer_id: int, kind: str, period: str) -> bool: ...
    async def job_day(self, name: str) -> date | None: ...
    async def set_job_day(self, name: str, day: date) -> None: ...
    async def donations_total(self) -> int: ...


class Referrals(Protocol):
    async def referral_payload(self, customer_id: int, new_payload: Callable[[], str]) -> str: ...
    async def customer_by_referral(self, payload: str) -> Customer | None: ...
    async def referral(self, friend_id: int) -> Referral | None: ...
    async def qualify_referral(
        self,
        friend_id: int,
        purchase: LedgerEntry,
        operator_id: int,
        terms: ReferralTerms,
        rule: ReferralRule,
    ) -> ReferralDecision | None: ...
    async def reverse_referral(
        self, purchase_entry_id: int, open_minor: int, min_purchase_minor: int
    ) -> ReferralDecision | None: ...
    async def referral_stats(self, referrer_id: int) -> ReferralStats: ...
    async def referral_totals(self) -> tuple[int, int]: ...
    async def top_referrers(self, limit: int) -> list[ReferrerRow]: ...
    async def flagged_referrals(
        self, burst_window: timedelta, burst_count: int, limit: int
    ) -> list[FlaggedReferral]: ...


class Segments(Protocol):
    """Audiences, as the domain's `AudienceRule` (given when the storage opens) defines them."""

    async def audience_size(self, audience: Audience, now: datetime) -> int: ...
    async def sample_customer(self, audience: Audience, now: datetime) -> Customer | None: ...
    async def audience_customers(self, audience: Audience, now: datetime) -> list[Customer]: ...


class Promotions(Protocol):
    """Broadcasts and their outbox."""

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
    async def recent_broadcasts(self, limit: int) -> list[Broadcast]: ...
    async def broadcast_response(
        self, broadcast_id: int, days: int
    ) -> tuple[GroupResponse, GroupResponse] | None: ...


class Offers(Protocol):
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
    async def offer(self, offer_id: int) -> Offer | None: ...
    async def offers_for(self, customer_id: int, now: datetime) -> list[Offer]: ...
    async def offer_results(self, offer_id: int) -> OfferResults: ...
    async def recent_offers(self, limit: int) -> list[Offer]: ...


class Reports(Protocol):
    """The owner's figures and exports."""

    async def period_figures(
        self, since: datetime, until: datetime, revenue: Revenue
    ) -> PeriodFigures: ...
    async def weekly_series(self, bounds: list[datetime]) -> WeeklySeries: ...
    async def export_customers(self) -> list[tuple[Any, ...]]: ...
    async def export_ledger(self) -> list[tuple[Any, ...]]: ...


class Storage(
    Lifecycle,
    Imports,
    Customers,
    Staff,
    Pending,
    Ledger,
    Grants,
    Referrals,
    Segments,
    Promotions,
    Offers,
    Reports,
    Presence,
    ProgramVersions,
    Protocol,
):
    """Everything the bot asks of storage."""
