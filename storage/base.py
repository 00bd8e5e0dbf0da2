"""The storage interface the bot talks to, and the records it exchanges.

Handlers and domain code depend on `Storage` only, so a PostgreSQL backend can be added
beside the SQLite one without touching them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol


class EntryKind(StrEnum):
    WELCOME = "welcome"
    PURCHASE = "purchase"
    REDEEM = "redeem"
    REFUND = "refund"
    ADJUST = "adjust"
    BIRTHDAY = "birthday"
    REFERRAL = "referral"
    EXPIRE = "expire"


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


@dataclass(frozen=True, slots=True)
class Booking:
    """The outcome of booking an operation: `created` is False when its id was booked before."""

    entry: LedgerEntry
    created: bool
    balance: int


class StorageError(Exception):
    pass


class InsufficientPoints(StorageError):
    def __init__(self, balance: int, amount: int) -> None:
        super().__init__(f"balance {balance} cannot absorb {amount}")
        self.balance = balance
        self.amount = amount


class OperationConflict(StorageError):
    """The operation id was already used for a different customer, kind or amount."""


class NotFound(StorageError):
    pass


CardIdentity = Callable[[], tuple[str, str]]
"""Makes a fresh (card number, card payload) pair; called again on a collision."""


class Storage(Protocol):
    async def close(self) -> None: ...

    # customers
    async def register_customer(
        self,
        telegram_id: int,
        name: str,
        language: str | None,
        welcome_points: int,
        new_card: CardIdentity,
    ) -> tuple[Customer, bool]: ...
    async def customer_by_telegram(self, telegram_id: int) -> Customer | None: ...
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
    ) -> Booking: ...
    async def history(self, customer_id: int, limit: int, offset: int = 0) -> list[LedgerEntry]: ...
    async def count_entries(self, customer_id: int) -> int: ...
    async def ledger_sum(self, customer_id: int) -> int: ...
    async def balance_mismatches(self) -> list[tuple[int, int, int]]: ...
