"""The storage contract for customers and the ledger's invariants, on every backend."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from bot.domain.tokens import new_card_identity
from storage import EntryKind, InsufficientPoints, NotFound, OperationConflict, Storage


async def register(storage: Storage, telegram_id: int = 1, welcome: int = 0):  # type: ignore[no-untyped-def]
    customer, _ = await storage.register_customer(
        telegram_id, "Ann", "en", welcome, new_card_identity
    )
    return customer


async def test_register_is_idempotent_and_welcome_is_first_entry(storage: Storage) -> None:
    first, created = await storage.register_customer(5, "Bo", "uk", 25, new_card_identity)
    again, created_again = await storage.register_customer(5, "Bo", "uk", 25, new_card_identity)
    assert created and not created_again
    assert again.id == first.id and again.card_payload == first.card_payload
    entries = await storage.history(first.id, 10)
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.WELCOME, 25)]
    assert first.balance == 25 == await storage.ledger_sum(first.id)


async def test_no_welcome_entry_when_bonus_is_zero(storage: Storage) -> None:
    customer = await register(storage, welcome=0)
    assert await storage.count_entries(customer.id) == 0


async def test_card_number_collision_draws_again(storage: Storage) -> None:
    draws = iter(
        [
            ("12345674", "c_aaaaaaaaaaaaaaaaaaaaaa"),
            ("12345674", "c_bbbbbbbbbbbbbbbbbbbbbb"),
            ("76543210", "c_cccccccccccccccccccccc"),
        ]
    )
    a, _ = await storage.register_customer(1, "A", "en", 0, lambda: next(draws))
    b, _ = await storage.register_customer(2, "B", "en", 0, lambda: next(draws))
    assert a.card_number == "12345674" and b.card_number == "76543210"


async def test_book_once_per_operation_id(storage: Storage) -> None:
    customer = await register(storage)
    first = await storage.book(customer.id, EntryKind.PURCHASE, 120, "op-1", bill_minor=12000)
    again = await storage.book(customer.id, EntryKind.PURCHASE, 120, "op-1", bill_minor=12000)
    assert first.created and not again.created
    assert again.entry.id == first.entry.id and again.balance == 120
    assert await storage.count_entries(customer.id) == 1


async def test_reused_operation_id_with_other_content_conflicts(storage: Storage) -> None:
    customer = await register(storage)
    await storage.book(customer.id, EntryKind.PURCHASE, 10, "op-x")
    with pytest.raises(OperationConflict):
        await storage.book(customer.id, EntryKind.PURCHASE, 11, "op-x")


async def test_balance_never_negative(storage: Storage) -> None:
    customer = await register(storage)
    await storage.book(customer.id, EntryKind.PURCHASE, 30, "a")
    with pytest.raises(InsufficientPoints):
        await storage.book(customer.id, EntryKind.REDEEM, -31, "b")
    assert (await storage.customer(customer.id)).balance == 30  # type: ignore[union-attr]
    assert await storage.count_entries(customer.id) == 1


async def test_unknown_customer(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.book(999, EntryKind.ADJUST, 5, "zz")
    with pytest.raises(NotFound):
        await storage.forget_customer(999)


async def test_profile_fields(storage: Storage) -> None:
    customer = await register(storage)
    await storage.set_phone(customer.id, "+380671234567")
    await storage.set_birthday(customer.id, date(2000, 2, 29))
    await storage.set_language(customer.id, "th")
    await storage.set_promotions(customer.id, False)
    await storage.set_card_file(customer.id, "key", "file-1")
    got = await storage.customer(customer.id)
    assert got is not None
    assert (got.phone, got.birthday, got.language, got.promotions) == (
        "+380671234567",
        date(2000, 2, 29),
        "th",
        False,
    )
    assert (got.card_file_key, got.card_file_id) == ("key", "file-1")
    assert await storage.customer_by_card_number(got.card_number) == got
    assert await storage.customer_by_payload(got.card_payload) == got


async def test_forget_keeps_ledger_and_drops_personal_data(storage: Storage) -> None:
    customer = await register(storage, 42, welcome=10)
    await storage.set_phone(customer.id, "+15551234567")
    await storage.set_birthday(customer.id, date(1990, 1, 1))
    await storage.forget_customer(customer.id)
    gone = await storage.customer(customer.id)
    assert gone is not None and gone.forgotten
    assert (gone.telegram_id, gone.name, gone.phone, gone.birthday) == (None, "", None, None)
    assert await storage.customer_by_telegram(42) is None
    assert await storage.customer_by_card_number(customer.card_number) is None
    assert await storage.customer_by_payload(customer.card_payload) is None
    assert await storage.ledger_sum(customer.id) == 10 == gone.balance
    # The same person may join again and gets a new card.
    again = await register(storage, 42)
    assert again.id != customer.id and again.card_payload != customer.card_payload


async def test_concurrent_credits_all_land(storage: Storage) -> None:
    customer = await register(storage)
    results = await asyncio.gather(
        *(storage.book(customer.id, EntryKind.PURCHASE, i, f"op-{i}") for i in range(1, 51))
    )
    assert all(r.created for r in results)
    assert await storage.count_entries(customer.id) == 50
    assert (await storage.customer(customer.id)).balance == sum(range(1, 51))  # type: ignore[union-attr]
    assert await storage.balance_mismatches() == []


async def test_tier_moves_apply_only_where_the_tier_read_still_holds(
    storage: Storage,
) -> None:
    ann, bo, cy = [await register(storage, telegram_id) for telegram_id in (61, 62, 63)]
    await storage.set_tier(ann.id, "Silver")
    await storage.set_tier(bo.id, "Gold")  # upgraded after the review read "Silver"
    moved = await storage.move_tiers(
        [(ann.id, "Silver", "Bronze"), (bo.id, "Silver", "Bronze"), (cy.id, None, "Bronze")]
    )
    assert moved == {ann.id, cy.id}
    tiers = [(await storage.customer(c.id)).tier for c in (ann, bo, cy)]  # type: ignore[union-attr]
    assert tiers == ["Bronze", "Gold", "Bronze"]
    assert await storage.move_tiers([]) == set()


async def test_earning_context_counts_the_window_today_and_the_last_visit(
    storage: Storage,
) -> None:
    ann = await register(storage, 91)
    await storage.book(ann.id, EntryKind.PURCHASE, 12, "e1", bill_minor=1200)
    await storage.book(ann.id, EntryKind.PURCHASE, 0, "e2", bill_minor=50)  # earned nothing
    first = await storage.entry_by_operation("e1")
    assert first is not None
    context = await storage.earning_context(ann.id, None, first.created_at)
    assert (context.spend_minor, context.earned_today, context.last_earned_at) == (
        1250,
        12,
        first.created_at,
    )
