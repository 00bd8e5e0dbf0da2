"""What storage raises: every backend raises these for the same situations."""

from __future__ import annotations


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
