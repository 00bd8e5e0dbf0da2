"""The storage contract for imported (unclaimed) cards, walk-ins and claims, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.insights import REVENUE
from bot.domain.tokens import new_card_identity
from storage import (
    Audience,
    BookedByClaimant,
    EntryKind,
    ImportClash,
    ImportedCustomer,
    PendingOperation,
    PendingStatus,
    ReferralStatus,
    Segment,
    Storage,
    unclaimed,
)

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def row(legacy: str, phone: str | None, balance: int, spend: int = 0) -> ImportedCustomer:
    return ImportedCustomer(
        legacy_number=legacy,
        name=f"Holder {legacy}",
        phone=phone,
        birthday=date(1990, 5, 17),
        balance=balance,
        spend_minor=spend,
        joined=date(2019, 4, 2),
        tier="Silver" if spend else "Bronze",
        reason=f"imported from card {legacy}",
    )


ROWS = [row("004512", "+380671234567", 340, 60_000), row("004513", "+380671234568", 0, 1_500)]


async def test_import_writes_unclaimed_cards_with_one_entry_each(storage: Storage) -> None:
    outcome = await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    assert (outcome.created, outcome.already, outcome.points) == (2, 0, 340)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None and unclaimed(card) and card.telegram_id is None
    assert (card.balance, card.tier, card.phone, card.name) == (
        340,
        "Silver",
        "+380671234567",
        "Holder 004512",
    )
    assert card.created_at.date() == date(2019, 4, 2) and card.birthday == date(1990, 5, 17)
    entries = await storage.history(card.id, 10)
    assert [(e.kind, e.amount, e.operation_id) for e in entries] == [
        (EntryKind.IMPORT, 340, "import:f1:004512")
    ]
    assert await storage.ledger_sum(card.id) == 340
    # The lifetime spend counts for tiers, in a lifetime window and a rolling one.
    assert (await storage.earning_context(card.id, None, NOW)).spend_minor == 60_000
    assert (await storage.earning_context(card.id, NOW, NOW)).spend_minor == 60_000
    empty = await storage.customer_by_legacy_number("004513")
    assert empty is not None and empty.balance == 0
    assert (await storage.earning_context(empty.id, None, NOW)).spend_minor == 1_500
    assert await storage.balance_mismatches() == []
    assert await storage.lot_mismatches() == []


async def test_same_file_twice_books_nothing_twice(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    again = await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    assert (again.created, again.already, again.points) == (0, 2, 0)
    clashes = await storage.import_clashes("f1", ["004512", "004513", "9"], ["+380671234567"])
    assert clashes.imported == {"004512", "004513"}
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None and await storage.count_entries(card.id) == 1


async def test_a_clash_writes_nothing(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS[:1], new_card_identity, NOW)
    other_file = [row("777", None, 10), row("004512", "+380501112233", 5)]
    with pytest.raises(ImportClash):
        await storage.import_customers("f2", other_file, new_card_identity, NOW)
    assert await storage.customer_by_legacy_number("777") is None
    same_phone = [row("778", "+380671234567", 5)]
    with pytest.raises(ImportClash):
        await storage.import_customers("f3", same_phone, new_card_identity, NOW)
    clashes = await storage.import_clashes("f2", ["004512", "777"], ["+380671234567"])
    assert clashes.cards == {"004512"} and clashes.phones == {"+380671234567"}
    assert clashes.imported == frozenset()


async def test_unclaimed_cards_are_reachable_by_nobody(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    await storage.register_customer(9, "Ann", "en", 0, new_card_identity)
    assert await storage.audience_size(Audience(Segment.EVERYONE), NOW) == 1


async def test_walk_in_is_one_card_per_phone(storage: Storage) -> None:
    card, created = await storage.create_walk_in("+380931112233", new_card_identity, "Bronze", NOW)
    again, created_again = await storage.create_walk_in(
        "+380931112233", new_card_identity, "Bronze", NOW
    )
    assert created and not created_again and again.id == card.id
    assert unclaimed(card) and card.balance == 0 and card.legacy_number is None
    assert (await storage.unclaimed_by_phone("+380931112233")) == card


async def test_claim_moves_the_account_onto_the_imported_card(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    own, _ = await storage.register_customer(42, "Ann", "uk", 50, new_card_identity)
    result = await storage.claim_card(own.id, card.id, "+380671234567", NOW)
    assert result is not None and result.carried == 50 and result.legacy_number == "004512"
    claimed = result.customer
    assert claimed.id == card.id and claimed.telegram_id == 42 and not unclaimed(claimed)
    assert claimed.balance == 390 == await storage.ledger_sum(card.id)
    # The card the customer already holds keeps working: its number and QR moved along.
    assert (claimed.card_number, claimed.card_payload) == (own.card_number, own.card_payload)
    assert claimed.language == "uk" and claimed.tier == "Silver"
    assert await storage.customer_by_telegram(42) == claimed
    assert await storage.customer_by_payload(own.card_payload) == claimed
    retired = await storage.customer(own.id)
    assert retired is not None and retired.forgotten and retired.balance == 0
    assert await storage.ledger_sum(own.id) == 0
    kinds = [(e.kind, e.amount) for e in await storage.history(card.id, 10)]
    assert kinds == [(EntryKind.CLAIM, 50), (EntryKind.IMPORT, 340)]
    # Once only: the card is no longer unclaimed.
    assert await storage.claim_card(own.id, card.id, "+380671234567", NOW) is None
    assert await storage.unclaimed_by_phone("+380671234567") is None
    assert await storage.balance_mismatches() == []
    assert await storage.lot_mismatches() == []


async def test_claim_needs_the_card_phone(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    own, _ = await storage.register_customer(42, "Ann", "uk", 0, new_card_identity)
    assert await storage.claim_card(own.id, card.id, "+380990000000", NOW) is None
    unchanged = await storage.customer(card.id)
    assert unchanged is not None and unclaimed(unchanged) and unchanged.balance == 340


async def test_forgetting_frees_the_legacy_number(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS[:1], new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    await storage.forget_customer(card.id)
    assert await storage.customer_by_legacy_number("004512") is None
    clashes = await storage.import_clashes("f9", ["004512"], ["+380671234567"])
    assert clashes.cards == frozenset() and clashes.phones == frozenset()


async def test_claim_carries_the_claimants_spend_and_referral(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004513")
    assert card is not None
    friend, _ = await storage.register_customer(7, "Bo", "en", 0, new_card_identity)
    own, _ = await storage.register_customer(
        42, "Ann", "en", 0, new_card_identity, referrer_id=friend.id
    )
    await storage.book(own.id, EntryKind.PURCHASE, 12, "p1", bill_minor=2_000)
    result = await storage.claim_card(own.id, card.id, "+380671234568", NOW)
    assert result is not None and result.carried == 12
    # 15.00 imported + 20.00 bought on the card the claimant had: both count for tiers.
    assert (await storage.earning_context(card.id, None, NOW)).spend_minor == 3_500
    # The referral stays on record with the account, but a plastic-card customer was no
    # friend brought by the referrer: it will not pay.
    referral = await storage.referral(card.id)
    assert referral is not None and referral.referrer_id == friend.id
    assert (referral.status, referral.reason) == (ReferralStatus.REJECTED, "existing_customer")
    assert await storage.referral(own.id) is None
    assert await storage.balance_mismatches() == []
    assert await storage.lot_mismatches() == []


async def test_claimed_points_keep_their_expiry(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    soon = NOW + timedelta(days=30)
    own, _ = await storage.register_customer(
        42, "Ann", "uk", 50, new_card_identity, welcome_expires_at=soon
    )
    assert await storage.claim_card(own.id, card.id, "+380671234567", NOW) is not None
    expiring = await storage.expiring(NOW, soon + timedelta(days=1), card.id)
    assert [(e.points, e.expires_at) for e in expiring] == [(50, soon)]
    expired = await storage.expire_due(soon + timedelta(seconds=1))
    assert [(b.entry.customer_id, b.entry.amount) for b in expired] == [(card.id, -50)]
    assert (await storage.customer(card.id)).balance == 340  # type: ignore[union-attr]
    assert await storage.balance_mismatches() == [] and await storage.lot_mismatches() == []


async def test_a_draft_waiting_at_claim_time_follows_the_account(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    own, _ = await storage.register_customer(42, "Ann", "uk", 0, new_card_identity)
    draft = PendingOperation(
        id="op-claim-draft", kind=EntryKind.PURCHASE, customer_id=own.id, operator_id=7,
        points=12, bill_minor=1250, reverses_id=None, status=PendingStatus.PENDING,
        staff_chat_id=None, staff_message_id=None, customer_message_id=None,
        created_at=NOW, expires_at=NOW + timedelta(minutes=10),
    )  # fmt: skip
    await storage.create_pending(draft)
    assert await storage.claim_card(own.id, card.id, "+380671234567", NOW) is not None
    moved = await storage.pending("op-claim-draft")
    assert moved is not None and moved.customer_id == card.id


async def test_imports_and_claims_are_no_new_members(storage: Storage) -> None:
    # Plastic cards brought over were members already; a walk-in claimed later is one
    # member, not two.
    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    walk_in, _ = await storage.create_walk_in("+380501112233", new_card_identity, None, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    for telegram_id, target, phone in ((42, card, "+380671234567"), (43, walk_in, walk_in.phone)):
        own, _ = await storage.register_customer(telegram_id, "Ann", "uk", 0, new_card_identity)
        assert phone and await storage.claim_card(own.id, target.id, phone, NOW) is not None
    await storage.register_customer(44, "Bo", "en", 0, new_card_identity)
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    figures = await storage.period_figures(since, until, REVENUE)
    assert figures.new_members == 2  # the walk-in's card and Bo's
    assert sum((await storage.join_sources(since, until)).values()) == 2
    assert sum((await storage.weekly_series([since, until])).joins) == 2


async def test_a_fresh_walk_in_claimed_keeps_the_referral_waiting(storage: Storage) -> None:
    walk_in, _ = await storage.create_walk_in("+380501112233", new_card_identity, None, NOW)
    friend, _ = await storage.register_customer(7, "Bo", "en", 0, new_card_identity)
    own, _ = await storage.register_customer(
        42, "Ann", "en", 0, new_card_identity, referrer_id=friend.id
    )
    assert await storage.claim_card(own.id, walk_in.id, "+380501112233", NOW) is not None
    referral = await storage.referral(walk_in.id)
    assert referral is not None and referral.status is ReferralStatus.JOINED


async def test_a_walk_in_with_purchases_claimed_does_not_make_a_referred_friend(
    storage: Storage,
) -> None:
    walk_in, _ = await storage.create_walk_in("+380501112233", new_card_identity, None, NOW)
    await storage.book(walk_in.id, EntryKind.PURCHASE, 50, "p-w", operator_id=7, bill_minor=5_000)
    friend, _ = await storage.register_customer(8, "Bo", "en", 0, new_card_identity)
    own, _ = await storage.register_customer(
        42, "Ann", "en", 0, new_card_identity, referrer_id=friend.id
    )
    assert await storage.claim_card(own.id, walk_in.id, "+380501112233", NOW) is not None
    referral = await storage.referral(walk_in.id)
    assert referral is not None and referral.status is ReferralStatus.REJECTED


async def test_staff_cannot_claim_a_card_they_booked_on_themselves(storage: Storage) -> None:
    cashier_tg = 777
    walk_in, _ = await storage.create_walk_in("+380501112233", new_card_identity, None, NOW)
    await storage.book(
        walk_in.id, EntryKind.PURCHASE, 500, "p-self", operator_id=cashier_tg, bill_minor=50_000
    )
    own, _ = await storage.register_customer(cashier_tg, "Cash", "uk", 10, new_card_identity)
    with pytest.raises(BookedByClaimant):
        await storage.claim_card(own.id, walk_in.id, "+380501112233", NOW)
    card = await storage.customer(walk_in.id)
    assert card is not None and unclaimed(card) and card.balance == 500
    mine = await storage.customer(own.id)
    assert mine is not None and mine.telegram_id == cashier_tg and mine.balance == 10
    assert await storage.balance_mismatches() == [] and await storage.lot_mismatches() == []


async def test_a_forgotten_imported_card_is_not_counted_as_a_new_member(
    storage: Storage,
) -> None:
    await storage.import_customers("f1", ROWS[:1], new_card_identity, NOW)
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    card = await storage.customer_by_legacy_number("004512")
    own, _ = await storage.register_customer(42, "Ann", "uk", 0, new_card_identity)
    assert card is not None
    await storage.claim_card(own.id, card.id, "+380671234567", NOW)
    assert (await storage.period_figures(since, until, REVENUE)).new_members == 0
    await storage.forget_customer(card.id)
    assert (await storage.period_figures(since, until, REVENUE)).new_members == 0
    assert (await storage.weekly_series([since, until])).joins == [0]


async def test_a_retired_card_takes_no_phone_or_birthday(storage: Storage) -> None:
    await storage.import_customers("f1", ROWS[:1], new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    own, _ = await storage.register_customer(42, "Ann", "uk", 0, new_card_identity)
    assert card is not None
    await storage.claim_card(own.id, card.id, "+380671234567", NOW)
    await storage.set_phone(own.id, "+380671234567")
    await storage.set_birthday(own.id, date(1990, 1, 1))
    retired = await storage.customer(own.id)
    assert retired is not None and (retired.phone, retired.birthday) == (None, None)


async def test_a_purchase_made_before_a_claim_is_refunded_from_the_claimed_card(
    storage: Storage,
) -> None:
    from bot.domain.program.rules import reversal_points

    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None
    own, _ = await storage.register_customer(42, "Ann", "uk", 0, new_card_identity)
    bought = await storage.book(
        own.id, EntryKind.PURCHASE, 20, "p1", operator_id=7, bill_minor=2_000
    )
    assert await storage.claim_card(own.id, card.id, "+380671234567", NOW) is not None
    # The claimed card lists it, and its points are where the claim moved them.
    listed = [op for op in await storage.operations(card.id, 18)]
    assert [op.entry.id for op in listed] == [bought.entry.id]
    assert listed[0].held_by(card.id) and not listed[0].held_by(own.id)
    assert await storage.lot_left(bought.entry.id) == 20
    refund = await storage.reverse(bought.entry.id, 1_000, "r1", 7, reversal_points)
    assert (refund.entry.customer_id, refund.entry.amount, refund.balance) == (card.id, -10, 350)
    assert await storage.lot_left(bought.entry.id) == 10
    # The plastic card's own 340 points are untouched; the rest goes back in full.
    refund = await storage.reverse(bought.entry.id, None, "r2", 7, reversal_points)
    assert (refund.entry.amount, refund.entry.shortfall, refund.balance) == (-10, 0, 340)
    assert await storage.lot_left(bought.entry.id) == 0
    # The refunded bill no longer counts for tiers: 600.00 imported is what is left.
    assert (await storage.earning_context(card.id, None, NOW)).spend_minor == 60_000
    assert await storage.balance_mismatches() == [] and await storage.lot_mismatches() == []


async def test_a_claim_moved_purchase_spent_since_refunds_with_a_shortfall(
    storage: Storage,
) -> None:
    from bot.domain.program.rules import reversal_points

    await storage.import_customers("f1", ROWS, new_card_identity, NOW)
    card = await storage.customer_by_legacy_number("004513")  # 0 points imported
    assert card is not None
    own, _ = await storage.register_customer(42, "Ann", "uk", 0, new_card_identity)
    bought = await storage.book(
        own.id, EntryKind.PURCHASE, 20, "p1", operator_id=7, bill_minor=2_000
    )
    assert await storage.claim_card(own.id, card.id, "+380671234568", NOW) is not None
    await storage.book(card.id, EntryKind.REDEEM, -15, "spent", operator_id=7)
    refund = await storage.reverse(bought.entry.id, None, "r1", 7, reversal_points)
    assert (refund.entry.customer_id, refund.entry.amount, refund.entry.shortfall) == (
        card.id,
        -5,
        15,
    )
    assert refund.balance == 0
    assert await storage.balance_mismatches() == [] and await storage.lot_mismatches() == []


async def test_a_purchase_follows_two_claims_to_its_refund(storage: Storage) -> None:
    from bot.domain.program.rules import reversal_points

    first, _ = await storage.create_walk_in("+380501112233", new_card_identity, None, NOW)
    second, _ = await storage.create_walk_in("+380501112244", new_card_identity, None, NOW)
    own, _ = await storage.register_customer(42, "Ann", "uk", 5, new_card_identity)
    bought = await storage.book(
        own.id, EntryKind.PURCHASE, 20, "p1", operator_id=7, bill_minor=2_000
    )
    assert await storage.claim_card(own.id, first.id, "+380501112233", NOW) is not None
    assert await storage.claim_card(first.id, second.id, "+380501112244", NOW) is not None
    assert [op.entry.id for op in await storage.operations(second.id, 18)] == [bought.entry.id]
    assert await storage.lot_left(bought.entry.id) == 20
    refund = await storage.reverse(bought.entry.id, None, "r1", 7, reversal_points)
    assert (refund.entry.customer_id, refund.entry.amount, refund.balance) == (second.id, -20, 5)
    assert await storage.balance_mismatches() == [] and await storage.lot_mismatches() == []
