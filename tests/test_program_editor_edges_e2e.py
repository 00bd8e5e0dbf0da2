"""The program editor's edges: a save landing while a preview is made, huge numbers, long
catalogues, removed items, cleared shares, what customers are told, and the desk's reward
buttons after the catalogue changed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.app import Application
from bot.domain.clock import utcnow
from bot.domain.program.document import program_to_document
from bot.domain.program.editing import validate
from bot.domain.program.loader import MAX_REWARDS, MAX_TIERS
from storage import Customer
from tests.conftest import OWNER_ID, TEST_PROGRAM
from tests.fakeapi import FakeTelegram
from tests.test_desk_e2e import customer_with_card, hire_cashier, open_by_link
from tests.test_program_editor_e2e import ask, cli, confirm, owner


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


async def test_a_middle_tier_removed_reads_as_removed_everywhere(
    app: Application, fake: FakeTelegram
) -> None:
    preview = await ask(fake, "/set tiers[2] remove")
    assert "Silver is removed." in preview.content, preview.content
    assert "Gold is removed" not in preview.content and "→" not in preview.content
    await confirm(fake, preview)
    history = await ask(fake, "/program history")
    assert "Silver is removed." in history.content, history.content
    assert "Gold is removed" not in history.content
    assert [t.name for t in app.shop.program.tiers] == ["Bronze", "Gold"]


async def test_a_cleared_tier_share_is_previewed(app: Application, fake: FakeTelegram) -> None:
    await confirm(fake, await ask(fake, "/set tiers[2].max_redeem_share 30"))
    preview = await ask(fake, "/set tiers[2].max_redeem_share -")
    assert "Silver · share of a bill: 30% → — (the program's 50% applies)" in preview.content, (
        preview.content
    )
    await confirm(fake, preview)
    assert app.shop.program.tiers[1].max_redeem_share is None


async def test_going_back_over_automatic_offers_is_a_change(
    app: Application, fake: FakeTelegram
) -> None:
    document = program_to_document(TEST_PROGRAM)
    document["auto_offers"] = [
        {"when": "birthday", "title": "Birthday cake", "reward": "item", "valid_days": 7}
    ]
    document = program_to_document(validate(document))
    await app.shop.storage.save_program_version(document, 1, None, "cli", utcnow())
    await app.shop.live.sync(app.shop.storage, force=True)
    history = await ask(fake, "/program history")
    assert "Automatic offers changed." in history.content, history.content
    fake.press(owner(fake), history, history.callback("Back to version 1"))
    preview = await fake.next_message(OWNER_ID)
    assert "Automatic offers changed." in preview.content, preview.content
    await confirm(fake, preview)
    assert app.shop.program.auto_offers == ()


async def test_names_are_unique(app: Application, fake: FakeTelegram) -> None:
    reply = await ask(fake, "/set tiers[2].name Gold")  # the second Gold is the one named
    assert "tiers[3].name: is used by another tier" in reply.content, reply.content
    await confirm(fake, await ask(fake, "/set rewards[1] Tea 40"))
    reply = await ask(fake, "/set rewards[2] Tea 45")
    assert "rewards[2].name: is used by another reward" in reply.content, reply.content
    assert [t.name for t in app.shop.program.tiers] == ["Bronze", "Silver", "Gold"]
    assert len(app.shop.program.rewards) == 1


async def test_a_long_catalogue_is_listed_in_several_messages(
    app: Application, fake: FakeTelegram
) -> None:
    document = program_to_document(TEST_PROGRAM)
    document["tiers"] = [
        {"name": f"Tier & number {i:02d} with a long name"[:32], "spend": i * 100}
        for i in range(MAX_TIERS)
    ]
    document["rewards"] = [
        {"name": f"Reward & number {i:02d} long name"[:32], "cost": 1000 + i}
        for i in range(MAX_REWARDS)
    ]
    document = program_to_document(validate(document))
    await app.shop.storage.save_program_version(document, 1, None, "cli", utcnow())
    await app.shop.live.sync(app.shop.storage, force=True)
    fake.send_message(owner(fake), "/set")
    listing = [await fake.next_message(OWNER_ID)]
    while "alert_cashier_operations" not in listing[-1].content:
        listing.append(await fake.next_message(OWNER_ID))
    assert len(listing) > 1 and "earn_rate" in listing[0].content
    text = "\n".join(m.content for m in listing)
    assert f"rewards[{MAX_REWARDS}].cost" in text and f"tiers[{MAX_TIERS}].name" in text
    reply = await ask(fake, f"/set rewards[{MAX_REWARDS + 1}] One more 5")
    assert f"rewards: must have at most {MAX_REWARDS} rewards" in reply.content, reply.content
    reply = await ask(fake, f"/set tiers[{MAX_TIERS + 1}] One more 99999")
    assert f"tiers: must have at most {MAX_TIERS} tiers" in reply.content, reply.content
    shown = await ask(fake, "/program")
    fake.press(owner(fake), shown, shown.callback("Change"))
    await fake.wait_for(lambda: "Change the program" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Rewards catalogue"))
    await fake.wait_for(lambda: "Rewards catalogue" in shown.content)
    assert f"{MAX_REWARDS}. Reward & number 29" in shown.content, shown.content


async def test_customers_are_not_told_of_owner_settings_and_buttons_are_plain(
    app: Application, fake: FakeTelegram
) -> None:
    await confirm(fake, await ask(fake, "/set welcome_bonus 70"))
    await confirm(fake, await ask(fake, "/set weekly_digest no"))
    await confirm(fake, await ask(fake, "/set max_purchase 500"))
    history = await ask(fake, "/program history")
    fake.press(owner(fake), history, history.callback("Back to version 1"))
    preview = await fake.next_message(OWNER_ID)
    assert "Weekly digest" in preview.content and "Welcome bonus" in preview.content
    await confirm(fake, preview)
    fake.press(owner(fake), preview, preview.callback("Tell customers"))
    draft = await fake.next_message(OWNER_ID)
    assert "Welcome bonus: 70 → 50" in draft.content, draft.content
    assert "Weekly digest" not in draft.content and "Largest purchase" not in draft.content

    await confirm(fake, await ask(fake, "/set rewards[1] Tea & Co 40"))
    shown = await ask(fake, "/program")
    fake.press(owner(fake), shown, shown.callback("Change"))
    await fake.wait_for(lambda: "Change the program" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Rewards catalogue"))
    await fake.wait_for(lambda: "1. Tea & Co" in shown.content)
    assert shown.button("Tea & Co")["text"] == "Tea & Co"
    fake.press(owner(fake), shown, shown.callback("Tea & Co"))
    await fake.wait_for(lambda: "name: Tea & Co" in shown.content)
    assert shown.button("name")["text"] == "Tea & Co · name: Tea & Co"


async def test_a_reward_button_shown_before_the_catalogue_changed_is_refused(
    app: Application, fake: FakeTelegram
) -> None:
    await confirm(fake, await ask(fake, "/set rewards[1] Coffee 40"))
    await confirm(fake, await ask(fake, "/set rewards[2] Cake 45"))
    cashier = await hire_cashier(fake)
    _user, customer, _card = await customer_with_card(app, fake, 5001)  # 50 welcome points
    view = await open_by_link(fake, cashier, customer.card_payload)
    fake.press(cashier, view, view.callback("Spend"))
    menu = await fake.next_message(cashier["id"])
    await confirm(fake, await ask(fake, "/set rewards[1] remove"))  # Cake moves up to 1
    seen = len(fake.messages(5001))
    pressed = fake.press(cashier, menu, menu.callback("Coffee"))
    await fake.wait_for(lambda: pressed in fake.callback_answers)
    assert "no longer valid" in str(fake.callback_answers[pressed].get("text"))
    await fake.idle()
    assert len(fake.messages(5001)) == seen  # the customer is asked for nothing
    # A fresh menu offers what the catalogue holds now, and it works.
    fake.press(cashier, view, view.callback("Spend"))
    menu = await fake.next_message(cashier["id"])
    fake.press(cashier, menu, menu.callback("Cake"))
    request = await fake.next_message(5001)
    assert "Cake" in request.content, request.content


async def test_program_apply_names_a_huge_number(app: Application, tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    huge.write_text("earn_rate = 1e30\n", encoding="utf-8")
    code, _out, err = await cli(tmp_path, app.shop.settings.database_path, "apply", str(huge))
    assert code == 2 and "earn_rate: must be an amount like 500 or 499.99" in err, err
    assert "Traceback" not in err
    assert await app.shop.storage.program_version_number() == 1
