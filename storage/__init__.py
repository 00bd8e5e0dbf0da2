"""Persistence behind one interface (`Storage`); `open_storage` picks the backend."""

from __future__ import annotations

from pathlib import Path

from storage.base import (
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
    InsufficientPoints,
    InviteOutcome,
    LedgerEntry,
    NotFound,
    NothingToReverse,
    Offer,
    OfferKind,
    OfferResults,
    OfferUnavailable,
    Operation,
    OperationConflict,
    OutboxCounts,
    PendingOperation,
    PendingStatus,
    PeriodFigures,
    Referral,
    ReferralDecision,
    ReferralStats,
    ReferralStatus,
    ReferralTerms,
    ReferrerRow,
    Segment,
    StaffInvite,
    StaffMember,
    Storage,
    StorageError,
    WeeklySeries,
)
from storage.sqlite import SQLiteStorage

__all__ = [
    "Audience",
    "Booking",
    "Broadcast",
    "BroadcastStatus",
    "Claim",
    "Customer",
    "EarningContext",
    "EntryKind",
    "ExpiringPoints",
    "FlaggedReferral",
    "GroupResponse",
    "InsufficientPoints",
    "InviteOutcome",
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
    "Referral",
    "ReferralDecision",
    "ReferralStats",
    "ReferralStatus",
    "ReferralTerms",
    "ReferrerRow",
    "SQLiteStorage",
    "Segment",
    "StaffInvite",
    "StaffMember",
    "Storage",
    "StorageError",
    "WeeklySeries",
    "open_storage",
]


async def open_storage(database_path: str) -> Storage:
    """Open (creating and migrating) the database; the parent folder must exist."""
    if database_path != ":memory:":
        parent = Path(database_path).expanduser().resolve().parent
        if not parent.is_dir():
            raise FileNotFoundError(parent)
    return await SQLiteStorage.open(database_path)
