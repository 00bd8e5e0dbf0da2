"""The storage contract for join sources and the shop's look, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.tokens import new_card_identity
from storage import DIRECT_SOURCE, REFERRAL_SOURCE, BrandingState, Storage

WIDE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


async def test_join_sources_count_tags_referrals_and_direct(storage: Storage) -> None:
    inviter, _ = await storage.register_customer(1, "Inviter", "en", 0, new_card_identity)
    counter_a, _ = await storage.register_customer(2, "A", "en", 0, new_card_identity)
    counter_b, _ = await storage.register_customer(3, "B", "en", 0, new_card_identity)
    flyer, _ = await storage.register_customer(4, "C", "en", 0, new_card_identity)
    await storage.register_customer(5, "Friend", "en", 0, new_card_identity, referrer_id=inviter.id)
    for customer, tag in ((counter_a, "counter"), (counter_b, "counter"), (flyer, "flyer")):
        await storage.record_join_source(customer.id, tag)
    # The first source recorded stays: a second call changes nothing.
    await storage.record_join_source(flyer.id, "counter")
    assert await storage.join_sources(*WIDE) == {
        "counter": 2,
        "flyer": 1,
        REFERRAL_SOURCE: 1,
        DIRECT_SOURCE: 1,
    }


async def test_join_sources_only_count_the_period(storage: Storage) -> None:
    customer, _ = await storage.register_customer(1, "A", "en", 0, new_card_identity)
    await storage.record_join_source(customer.id, "window")
    now = datetime.now(UTC)
    assert await storage.join_sources(now - timedelta(hours=1), now + timedelta(hours=1)) == {
        "window": 1
    }
    assert await storage.join_sources(now + timedelta(hours=1), now + timedelta(hours=2)) == {}


async def test_branding_starts_empty_and_keeps_palette_and_logo_apart(storage: Storage) -> None:
    assert await storage.branding() == BrandingState()
    assert await storage.logo() is None
    await storage.set_palette("forest")
    assert await storage.branding() == BrandingState("forest", None)
    await storage.set_logo(b"\x89PNG fake", "abc123")
    assert await storage.branding() == BrandingState("forest", "abc123")
    assert await storage.logo() == b"\x89PNG fake"
    await storage.set_palette("berry")
    assert await storage.logo() == b"\x89PNG fake"
    await storage.set_logo(None, None)
    assert await storage.branding() == BrandingState("berry", None)
    assert await storage.logo() is None


async def test_a_logo_needs_its_digest(storage: Storage) -> None:
    with pytest.raises(ValueError):
        await storage.set_logo(b"png", None)
    assert await storage.branding() == BrandingState()
