"""The program's versions on every backend: numbered from 1, newest first, refused when
another version was saved meanwhile, the document kept exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import ProgramChanged, Storage
from tests.storage_contract.conftest import Backend

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DOCUMENT = {
    "earning": "points",
    "earn_rate": 1.5,
    "cause": "Кошеня · แมว",
    "tiers": [{"name": "Bronze", "spend": 0}, {"name": "Silver", "spend": 500, "multiplier": 1.5}],
    "weekly_digest": False,
}


async def test_an_empty_database_has_no_version(storage: Storage) -> None:
    assert await storage.program_version() is None
    assert await storage.program_version_number() is None
    assert await storage.program_versions(10) == []
    assert await storage.program_version_at(1) is None


async def test_versions_are_numbered_and_kept_exactly(storage: Storage) -> None:
    first = await storage.save_program_version(DOCUMENT, None, None, "file", NOW)
    assert (first.number, first.author_id, first.origin) == (1, None, "file")
    changed = {**DOCUMENT, "earn_rate": 2}
    second = await storage.save_program_version(
        changed, 1, 42, "telegram", NOW + timedelta(minutes=1)
    )
    assert second.number == 2 and second.document == changed
    current = await storage.program_version()
    assert current is not None
    assert (current.number, current.document, current.author_id, current.origin) == (
        2,
        changed,
        42,
        "telegram",
    )
    assert current.created_at == NOW + timedelta(minutes=1)
    assert await storage.program_version_number() == 2
    old = await storage.program_version_at(1)
    assert old is not None and old.document == DOCUMENT and old.created_at == NOW


async def test_a_stale_expected_version_saves_nothing(storage: Storage) -> None:
    await storage.save_program_version(DOCUMENT, None, None, "file", NOW)
    await storage.save_program_version({**DOCUMENT, "earn_rate": 2}, 1, 7, "telegram", NOW)
    # A second owner's edit based on version 1 arrives after the first owner's.
    with pytest.raises(ProgramChanged) as raised:
        await storage.save_program_version({**DOCUMENT, "earn_rate": 3}, 1, 8, "telegram", NOW)
    assert (raised.value.expected, raised.value.current) == (1, 2)
    with pytest.raises(ProgramChanged):
        await storage.save_program_version(DOCUMENT, None, None, "file", NOW)  # seeding again
    current = await storage.program_version()
    assert current is not None and current.number == 2 and current.document["earn_rate"] == 2


async def test_listing_is_newest_first_and_bounded(storage: Storage) -> None:
    for number in range(1, 8):
        await storage.save_program_version(
            {**DOCUMENT, "welcome_bonus": number}, number - 1 or None, None, "cli", NOW
        )
    assert [v.number for v in await storage.program_versions(3)] == [7, 6, 5]
    assert [v.number for v in await storage.program_versions(3, before=5)] == [4, 3, 2]
    assert [v.number for v in await storage.program_versions(10, before=2)] == [1]
    assert [v.document["welcome_bonus"] for v in await storage.program_versions(2)] == [7, 6]


async def test_versions_survive_reopening(backend: Backend) -> None:
    store = await backend.open()
    try:
        await store.save_program_version(DOCUMENT, None, None, "file", NOW)
    finally:
        await store.close()
    again = await backend.open()
    try:
        current = await again.program_version()
        assert current is not None and current.document == DOCUMENT
    finally:
        await again.close()


async def test_a_version_that_renames_tiers_moves_their_holders(storage: Storage) -> None:
    from bot.domain.tokens import new_card_identity

    await storage.save_program_version(DOCUMENT, None, None, "file", NOW)
    ids = []
    for telegram_id, tier in ((1, "Bronze"), (2, "Silver"), (3, "Gold")):
        customer, _ = await storage.register_customer(
            telegram_id, "C", "en", 0, new_card_identity, tier=tier
        )
        ids.append(customer.id)
    swapped = {"Bronze": "Silver", "Silver": "Bronze"}  # both at once, in one statement
    await storage.save_program_version(DOCUMENT, 1, 7, "telegram", NOW, renames=swapped)
    tiers = [(await storage.customer(i)).tier for i in ids]  # type: ignore[union-attr]
    assert tiers == ["Silver", "Bronze", "Gold"]
    with pytest.raises(ProgramChanged):  # refused: nobody moves
        await storage.save_program_version(DOCUMENT, 1, 7, "telegram", NOW, renames=swapped)
    assert (await storage.customer(ids[0])).tier == "Silver"  # type: ignore[union-attr]
