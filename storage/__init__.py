"""Persistence behind the ports in `storage.ports`; `open_storage` picks the backend."""

from __future__ import annotations

from pathlib import Path

from storage.errors import (
    InsufficientPoints,
    NotFound,
    NothingToReverse,
    OfferUnavailable,
    OperationConflict,
    StorageError,
)
from storage.ports import (
    AudienceFilter,
    AudienceRule,
    BookingRules,
    ReferralCase,
    ReferralRule,
    ReferralTerms,
    Revenue,
    Storage,
)
from storage.ports_branding import (
    DIRECT_SOURCE,
    REFERRAL_SOURCE,
    Branding,
    BrandingState,
    JoinSources,
)
from storage.ports_imports import (
    BookedByClaimant,
    ClaimResult,
    ImportClash,
    ImportClashes,
    ImportedCustomer,
    ImportOutcome,
    Imports,
    unclaimed,
)
from storage.ports_programs import ProgramChanged, ProgramVersion, ProgramVersions
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
    Segment,
    Settled,
    Settlement,
    StaffInvite,
    StaffMember,
    WeeklySeries,
)
from storage.sqlite import SQLiteStorage

__all__ = [
    "DIRECT_SOURCE",
    "REFERRAL_SOURCE",
    "Audience",
    "AudienceFilter",
    "AudienceRule",
    "BookedByClaimant",
    "Booking",
    "BookingRules",
    "Branding",
    "BrandingState",
    "Broadcast",
    "BroadcastStatus",
    "Claim",
    "ClaimResult",
    "Customer",
    "EarningContext",
    "EntryKind",
    "ExpiringPoints",
    "FlaggedReferral",
    "GroupResponse",
    "ImportClash",
    "ImportClashes",
    "ImportOutcome",
    "ImportedCustomer",
    "Imports",
    "InsufficientPoints",
    "InviteOutcome",
    "JoinSources",
    "LedgerEntry",
    "NotFound",
    "NothingToReverse",
    "Offer",
    "OfferKind",
    "OfferResults",
    "OfferUnavailable",
    "Operation",
    "OperationConflict",
    "OutboxCounts",
    "PendingOperation",
    "PendingStatus",
    "PeriodFigures",
    "ProgramChanged",
    "ProgramVersion",
    "ProgramVersions",
    "Referral",
    "ReferralCase",
    "ReferralDecision",
    "ReferralRule",
    "ReferralStats",
    "ReferralStatus",
    "ReferralTerms",
    "ReferrerRow",
    "Revenue",
    "SQLiteStorage",
    "Segment",
    "Settled",
    "Settlement",
    "StaffInvite",
    "StaffMember",
    "Storage",
    "StorageError",
    "WeeklySeries",
    "open_storage",
    "unclaimed",
]


async def open_storage(database_path: str, audiences: AudienceRule | None = None) -> Storage:
    """Open (creating and migrating) the database; the parent folder must exist.
    `audiences`: what each promotion audience means (see `storage.ports.AudienceRule`)."""
    if database_path != ":memory:":
        parent = Path(database_path).expanduser().resolve().parent
        if not parent.is_dir():
            raise FileNotFoundError(parent)
    return await SQLiteStorage.open(database_path, audiences=audiences)
