"""The port for cards brought over from plastic: importing customers without a Telegram
account (unclaimed cards), finding them, walk-ins registered at the till, and claiming a card
when its owner joins. Records and the Protocol, the same for every backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from storage.records import Customer

CardIdentity = Callable[[], tuple[str, str]]
"""Makes a fresh (card number, card payload) pair; called again on a collision."""


def unclaimed(customer: Customer) -> bool:
    """An imported or walk-in card nobody has opened in Telegram yet: there is no chat."""
    return customer.telegram_id is None and not customer.forgotten


@dataclass(frozen=True, slots=True)
class ImportedCustomer:
    """One row to import, as the domain decided it (tier from the lifetime spend)."""

    legacy_number: str
    name: str
    phone: str | None
    birthday: date | None
    balance: int
    spend_minor: int
    joined: date | None
    tier: str | None
    reason: str  # the import entry's reason, naming the old card


@dataclass(frozen=True, slots=True)
class ImportClashes:
    """What of a file's rows already exists: legacy numbers this same file imported before,
    legacy numbers and phones live customers hold otherwise."""

    imported: frozenset[str]
    cards: frozenset[str]
    phones: frozenset[str]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    already: int  # rows this file imported before: nothing booked again
    points: int  # points booked by this call


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """A claimed card: the customer as they are now (the claimed row, now holding the
    Telegram account) and the points the new card's holder brought along."""

    customer: Customer
    legacy_number: str | None
    carried: int  # points moved from the card the claimant had before


class ImportClash(Exception):
    """A legacy number or phone was taken between the dry run and the import: nothing
    was written."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class BookedByClaimant(Exception):
    """The card holds entries the claimant booked themselves (staff at the till on their
    own phone's card): it does not move to their account; nothing was written."""


class Imports(Protocol):
    async def import_clashes(
        self, digest: str, legacy_numbers: list[str], phones: list[str]
    ) -> ImportClashes: ...
    async def import_customers(
        self,
        digest: str,
        rows: list[ImportedCustomer],
        new_card: CardIdentity,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ImportOutcome: ...
    async def customer_by_legacy_number(self, legacy_number: str) -> Customer | None: ...
    async def unclaimed_by_phone(self, phone: str) -> Customer | None: ...
    async def create_walk_in(
        self, phone: str, new_card: CardIdentity, tier: str | None, now: datetime
    ) -> tuple[Customer, bool]: ...
    async def claim_card(
        self, claimant_id: int, unclaimed_id: int, phone: str, now: datetime
    ) -> ClaimResult | None:
        """None when the card is no longer unclaimed or not this phone's; raises
        `BookedByClaimant` when the claimant booked on it. Either way nothing changes."""
        ...
