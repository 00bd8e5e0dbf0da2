"""Each promotion audience on a seeded database; opted-out, forgotten and unreachable
customers are never in any of them."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.clock import utcnow
from bot.domain.tokens import new_card_identity
from storage import Audience, EntryKind, Segment, Storage
from tests.storage_contract.conftest import Backend


async def customer(storage: Storage, telegram_id: int, tier: str | None = "Bronze") -> int:
    created, _ = await storage.register_customer(
        telegram_id, f"C{telegram_id}", "en", 0, new_card_identity, tier=tier
    )
    return created.id


async def members(storage: Storage, audience: Audience, days_ahead: int = 0) -> set[int]:
    """Who the outbox would hold for this audience: the same query a broadcast fills it with."""
    now = utcnow() + timedelta(days=days_ahead)
    created = await storage.create_broadcast(1, "x", None, None, audience, 0, now)
    started = await storage.start_due_broadcast(now)
    assert started is not None and started.id == created.id
    chosen = {c.id for c in await storage.next_recipients(created.id, 100_000)}
    assert await storage.cancel_broadcast(created.id)
    assert len(chosen) == await storage.audience_size(audience, now)
    return chosen


async def test_everyone_leaves_out_opted_out_forgotten_and_unreachable(
    storage: Storage,
) -> None:
    ids = [await customer(storage, 100 + i) for i in range(5)]
    await storage.forget_customer(ids[1])
    await storage.mark_unreachable(ids[2])
    assert await storage.audience_size(Audience(Segment.EVERYONE), utcnow()) == 3
    await storage.set_promotions(ids[3], False)
    assert await storage.audience_size(Audience(Segment.EVERYONE), utcnow()) == 2
    sample = await storage.sample_customer(Audience(Segment.EVERYONE), utcnow())
    assert sample is not None and sample.id in (ids[0], ids[4])


async def test_tier_new_lapsed_and_birthdays(storage: Storage) -> None:
    bronze_legacy = await customer(storage, 201, tier=None)
    silver = await customer(storage, 202, tier="Silver")
    buyer = await customer(storage, 203)
    assert await members(storage, Audience(Segment.TIER, "Silver")) == {silver}
    assert await members(storage, Audience(Segment.TIER, "Bronze|first")) == {bronze_legacy, buyer}
    assert await members(storage, Audience(Segment.NEW, "30"), days_ahead=10) == {
        bronze_legacy,
        silver,
        buyer,
    }
    assert await members(storage, Audience(Segment.NEW, "30"), days_ahead=31) == set()
    await storage.book(buyer, EntryKind.PURCHASE, 10, "p", bill_minor=1000)
    assert await members(storage, Audience(Segment.LAPSED, "60"), days_ahead=10) == set()
    assert await members(storage, Audience(Segment.LAPSED, "60"), days_ahead=61) == {
        bronze_legacy,
        silver,
        buyer,
    }
    await storage.set_birthday(silver, date(1990, 3, 9))
    assert await members(storage, Audience(Segment.BIRTHDAYS, "3")) == {silver}
    assert await members(storage, Audience(Segment.BIRTHDAYS, "4")) == set()


async def test_top_spenders_referrers_and_expiring(storage: Storage) -> None:
    ids = [await customer(storage, 300 + i) for i in range(20)]
    for rank, customer_id in enumerate(ids, start=1):
        await storage.book(customer_id, EntryKind.PURCHASE, 1, f"p{rank}", bill_minor=rank * 100)
    assert await members(storage, Audience(Segment.TOP, "10")) == set(ids[-2:])
    friend, _ = await storage.register_customer(
        400, "F", "en", 0, new_card_identity, referrer_id=ids[0]
    )
    assert await members(storage, Audience(Segment.REFERRERS)) == {ids[0]}
    await storage.book(ids[5], EntryKind.ADJUST, 40, "lot", expires_at=utcnow() + timedelta(5))
    assert await members(storage, Audience(Segment.EXPIRING, "14")) == {ids[5]}
    assert await members(storage, Audience(Segment.EXPIRING, "3")) == set()
    assert friend.id not in await members(storage, Audience(Segment.TOP, "10"))


async def test_holdout_share_is_kept_out_of_the_outbox(storage: Storage, backend: Backend) -> None:
    backend.seed(1000, 50_000)  # into the storage fixture's database
    created = await storage.create_broadcast(
        1, "x", None, None, Audience(Segment.EVERYONE), 10, utcnow()
    )
    await storage.start_due_broadcast(utcnow())
    counts = await storage.outbox_counts(created.id)
    assert 50 <= counts.holdout <= 150  # 10% drawn at random
    assert counts.total == 1000 - counts.holdout == counts.pending
    recipients = await storage.next_recipients(created.id, 5000)
    assert len(recipients) == counts.total


async def test_response_of_receivers_and_holdout(storage: Storage, backend: Backend) -> None:
    backend.seed(200, 60_000)
    created = await storage.create_broadcast(
        1, "x", None, None, Audience(Segment.EVERYONE), 50, utcnow() - timedelta(seconds=1)
    )
    await storage.start_due_broadcast(utcnow())
    recipients = await storage.next_recipients(created.id, 1000)
    for recipient in recipients:
        assert await storage.claim_recipient(created.id, recipient.id)
        await storage.settle_recipient(created.id, recipient.id, "sent")
        if recipient.id % 2 == 0:  # half of the receivers come back
            await storage.book(
                recipient.id, EntryKind.PURCHASE, 5, f"v{recipient.id}", bill_minor=500
            )
    receivers, holdout = await storage.broadcast_response(created.id, 14)  # type: ignore[misc]
    assert receivers.customers + holdout.customers == 200
    came_back = sum(1 for recipient in recipients if recipient.id % 2 == 0)
    assert receivers.customers == len(recipients) and receivers.visitors == came_back > 0
    assert holdout.visitors == 0 and holdout.spend_minor == 0
    assert receivers.spend_minor == receivers.visitors * 500
