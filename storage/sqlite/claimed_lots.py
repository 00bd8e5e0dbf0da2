"""Where an entry's points are after claims: a claim retires the claimant's card into the
claimed one and moves each open lot by a claim entry named after it, so a refund of a
purchase booked before the claim finds its points (and books) on the card that stays."""

from __future__ import annotations

import sqlite3

from storage.sqlite.engine import one

MAX_CLAIMS = 100  # claims one card went through: a bound, not a limit anyone reaches


def claimed_lot(card_id: int, lot: int) -> str:
    """The operation id of the claim entry that moved `lot` onto `card_id`."""
    return f"claim:{card_id}:lot:{lot}"


def held_lot(db: sqlite3.Connection, entry_id: int) -> tuple[int, int | None]:
    """(card, lot) holding what is left of an entry's points: its own card and lot, or,
    when claims retired that card, the card it went into and the claim entry's lot that
    took the points over (None: the lot was empty then, nothing of it moved)."""
    (customer_id,) = one(db, "SELECT customer_id FROM ledger WHERE id = ?", (entry_id,))
    lot: int | None = entry_id
    for _step in range(MAX_CLAIMS):
        (merged_into,) = one(db, "SELECT merged_into FROM customers WHERE id = ?", (customer_id,))
        if merged_into is None:
            break
        customer_id = int(merged_into)
        if lot is not None:
            moved = one(
                db,
                "SELECT id FROM ledger WHERE customer_id = ? AND operation_id = ?",
                (customer_id, claimed_lot(customer_id, lot)),
            )
            lot = int(moved[0]) if moved else None
    return int(customer_id), lot
