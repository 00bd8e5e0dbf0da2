"""The storage behind the program's rules, on every backend: lots spent oldest first and
expired once, refunds from their own lot, birthdays on 28 February, marks, tier spend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.tokens import new_card_identity
from storage import EntryKind, Storage

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


async def join(storage: Storage, telegram_id: int) -> int:
    customer, _ = await storage.register_customer(
        telegram_id, "X", "en", 0, new_card_identity, tier="Bronze"
    )
    return customer.id


async def test_spending_takes_the_oldest_points_first(storage: Storage) -> None:
    customer = await join(storage, 1)
    soon, later = NOW + timedelta(days=10), NOW + timedelta(days=40)
    await storage.book(customer, EntryKind.PURCHASE, 100, "a", expires_at=soon)
    await storage.book(customer, EntryKind.PURCHASE, 100, "b", expires_at=later)
    await storage.book(customer, EntryKind.REDEEM, -150, "c")
    # The first lot is used up, so only 50 of the second are left to expire.
    expiring = await storage.expiring(NOW, NOW + timedelta(days=60), customer)
    assert [(e.points, e.expires_at) for e in expiring] == [(50, later)]
    assert await storage.expire_due(soon + timedelta(days=1)) == []
    expired = await storage.expire_due(later)
    assert [b.entry.amount for b in expired] == [-50]
    assert expired[0].entry.kind is EntryKind.EXPIRE and expired[0].balance == 0
    assert await storage.expire_due(later + timedelta(days=1)) == []  # never twice
    assert await storage.lot_mismatches() == [] and await storage.balance_mismatches() == []


async def test_refund_takes_points_from_its_own_purchase_first(storage: Storage) -> None:
    from bot.domain.program.rules import reversal_points

    customer = await join(storage, 2)
    await storage.book(customer, EntryKind.ADJUST, 100, "old", expires_at=NOW)
    bought = await storage.book(
        customer, EntryKind.PURCHASE, 40, "buy", bill_minor=4000, expires_at=NOW + timedelta(1)
    )
    await storage.reverse(bought.entry.id, None, "undo", 1, reversal_points)
    # The refund emptied the purchase's own lot; the old lot still expires whole.
    assert [b.entry.amount for b in await storage.expire_due(NOW)] == [-100]
    assert await storage.expire_due(NOW + timedelta(days=2)) == []


async def test_birthday_query_includes_feb_29_on_feb_28(storage: Storage) -> None:
    leap, plain = await join(storage, 3), await join(storage, 4)
    await storage.set_birthday(leap, date(2000, 2, 29))
    await storage.set_birthday(plain, date(1990, 2, 28))
    on_28 = {c.id for c in await storage.birthday_customers(2, 28)}
    assert on_28 == {leap, plain}
    assert {c.id for c in await storage.birthday_customers(2, 29)} == {leap}


async def test_marks_claim_once(storage: Storage) -> None:
    customer = await join(storage, 5)
    assert await storage.claim_mark(customer, "expiry_reminder", "2026-03-03")
    assert not await storage.claim_mark(customer, "expiry_reminder", "2026-03-03")
    assert await storage.claim_mark(customer, "expiry_reminder", "2026-03-04")


async def test_spend_counts_purchases_less_refunds_in_the_window(storage: Storage) -> None:
    from bot.domain.program.rules import reversal_points

    customer = await join(storage, 6)
    bought = await storage.book(customer, EntryKind.PURCHASE, 100, "p1", bill_minor=100_00)
    await storage.reverse(bought.entry.id, 30_00, "r1", 1, reversal_points)
    context = await storage.earning_context(customer, None, NOW - timedelta(days=1000))
    assert context.spend_minor == 70_00
    future = await storage.earning_context(customer, datetime.now(UTC) + timedelta(1), NOW)
    assert future.spend_minor == 0  # nothing inside a window that starts later
    assert context.last_earned_at is not None
