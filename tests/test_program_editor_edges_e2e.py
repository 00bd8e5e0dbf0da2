"""The program editor's edges: a save landing while a preview is made, huge numbers, long
catalogues, removed items, cleared shares, what customers are told, and the desk's reward
buttons after the catalogue changed."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.app import Application
from bot.domain.clock import utcnow
from bot.domain.program.document import program_to_document
from bot.domain.program.editing import validate
from storage import Customer
from tests.conftest import TEST_PROGRAM
from tests.fakeapi import FakeTelegram
from tests.test_program_editor_e2e import ask, owner


async def test_a_save_landing_during_the_preview_makes_it_stale(
    app: Application, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = app.shop.storage
    real_spends = storage.spends

    async def spends(start: datetime | None) -> list[tuple[Customer, int]]:
        # Another owner's Confirm lands while this preview counts the tier moves.
        other = dict(program_to_document(TEST_PROGRAM), welcome_bonus=999)
        saved = await storage.save_program_version(other, 1, 2, "telegram", utcnow())
        app.shop.live.put(validate(other), saved.number)
        monkeypatch.setattr(storage, "spends", real_spends)
        return await real_spends(start)

    monkeypatch.setattr(storage, "spends", spends)
    preview = await ask(fake, "/set tiers[2].spend 800")
    assert "Welcome" not in preview.content
    fake.press(owner(fake), preview, preview.callback("Confirm"))
    await fake.wait_for(lambda: "changed meanwhile" in preview.content)
    assert app.shop.program.welcome_bonus == 999
    version = await storage.program_version()
    assert version is not None and version.document["welcome_bonus"] == 999


async def test_a_huge_number_in_an_inline_table_is_named(
    app: Application, fake: FakeTelegram
) -> None:
    reply = await ask(fake, '/set tiers[4] {name = "Platinum", spend = 1e30}')
    assert "tiers[4].spend: must be an amount" in reply.content, reply.content
    assert "Nothing was changed" in reply.content
    assert len(app.shop.program.tiers) == 3
