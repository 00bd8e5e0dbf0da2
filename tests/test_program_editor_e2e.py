"""The program edited while the bot runs: an owner changes it in Telegram (buttons, typed
values, /set), sees the preview, confirms once; the desk follows at once; history and going
back; bad values named by key and booked nowhere; the command line's export and apply,
picked up by the running bot."""

from __future__ import annotations

import asyncio
import logging
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.domain.program.model import Earning, Program, Tier
from storage import EntryKind, SQLiteStorage
from storage.files import DatabaseLock
from tests.conftest import OWNER_ID, TEST_PROGRAM, make_settings
from tests.fakeapi import TOKEN, FakeTelegram, SentMessage
from tests.test_desk_e2e import book_purchase, customer_with_card, hire_cashier, open_by_link
from tests.test_process_e2e import bot_env

Start = Callable[..., Any]


def owner(fake: FakeTelegram) -> dict[str, Any]:
    return fake.user(OWNER_ID, "Olga")


async def ask(fake: FakeTelegram, text: str) -> SentMessage:
    fake.send_message(owner(fake), text)
    return await fake.next_message(OWNER_ID)


async def confirm(fake: FakeTelegram, preview: SentMessage) -> None:
    assert "Put it in force?" in preview.content, preview.content
    fake.press(owner(fake), preview, preview.callback("Confirm"))
    await fake.wait_for(lambda: "is in force" in preview.content)


async def purchase(fake: FakeTelegram, cashier: dict[str, Any], payload: str, amount: str) -> str:
    await open_by_link(fake, cashier, payload)
    confirmation = await book_purchase(fake, cashier, amount)
    fake.press(cashier, confirmation, confirmation.callback("Confirm"))
    await fake.wait_for(lambda: "Booked" in confirmation.content)
    return confirmation.content


async def test_earn_rate_changed_by_buttons_applies_to_the_next_purchase(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    _ann, customer, _card = await customer_with_card(app, fake, 5001)
    shown = await ask(fake, "/program")
    assert "press Change" in shown.content
    fake.press(owner(fake), shown, shown.callback("Change"))
    await fake.wait_for(lambda: "Change the program" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Earning"))
    await fake.wait_for(lambda: "Earn rate: 1.00" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Earn rate"))
    prompt = await fake.next_message(OWNER_ID)
    assert "Type the new value for Earn rate (now 1.00)" in prompt.content
    preview = await ask(fake, "2")
    assert "Earn rate: 1.00 → 2.00" in preview.content
    assert "A 10.00 purchase earns 20 points instead of 10 points" in preview.content
    data = preview.callback("Confirm")
    first = fake.press(owner(fake), preview, data)
    second = fake.press(owner(fake), preview, data)  # a double tap books one version
    await fake.wait_for(lambda: "Version 2 is in force" in preview.content)
    await fake.wait_for(lambda: first in fake.callback_answers and second in fake.callback_answers)
    assert "no longer valid" in str(fake.callback_answers[second].get("text"))
    version = await app.shop.storage.program_version()
    assert version is not None and (version.number, version.origin) == (2, "telegram")
    assert version.author_id == OWNER_ID and version.document["earn_rate"] == 2
    assert await app.shop.storage.program_version_number() == 2

    # No restart: the desk books by the new rate at once.
    booked = await purchase(fake, cashier, customer.card_payload, "12.50")
    assert "+25 points" in booked
    entries = await app.shop.storage.history(customer.id, 5)
    assert [e.amount for e in entries if e.kind is EntryKind.PURCHASE] == [25]


async def test_bad_values_are_named_by_key_and_change_nothing(
    app: Application, fake: FakeTelegram
) -> None:
    answers = {
        "/set earn_rate lots": "earn_rate: must be an amount like 500 or 499.99",
        "/set tiers[2].spend 0": "tiers[2].spend: must be higher than the tier before",
        "/set tiers[3].spend 400": "tiers[3].spend: must be higher than the tier before",
        "/set max_redeem_share 150": "max_redeem_share: must be a whole number from 0 to 100",
        "/set colour blue": "colour: is not a known setting",
        "/set tiers[9].spend 5": "tiers[9].spend: there is no item 9",
        "/set earning gold": 'earning: must be one of "points", "cashback", "stamps"',
        "/set welcome_bonus": "welcome_bonus: type the new value after the key",
    }
    for command, problem in answers.items():
        reply = await ask(fake, command)
        assert problem in reply.content and "Nothing was changed" in reply.content, reply.content
        assert reply.inline_markup is None
    # Typed into the editor's step: the error, and the step waits for a better value.
    shown = await ask(fake, "/program")
    fake.press(owner(fake), shown, shown.callback("Change"))
    await fake.wait_for(lambda: "Change the program" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Bonuses"))
    await fake.wait_for(lambda: "Welcome bonus" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Welcome bonus"))
    await fake.next_message(OWNER_ID)
    reply = await ask(fake, "fifty")
    assert "welcome_bonus: must be a whole number" in reply.content
    reply = await ask(fake, "2000000")
    assert "welcome_bonus: must be a whole number from 0 to 1000000" in reply.content
    reply = await ask(fake, "/cancel")
    assert "Nothing was changed" in reply.content
    assert await app.shop.storage.program_version_number() == 1
    assert app.shop.program == TEST_PROGRAM


async def test_tiers_added_by_set_and_by_buttons_then_history_and_back(
    app: Application, fake: FakeTelegram
) -> None:
    listing = await ask(fake, "/set")
    assert "tiers[2].spend" in listing.content and "earn_rate" in listing.content
    preview = await ask(fake, '/set tiers[4] {name = "Platinum", spend = 3000}')
    assert "Platinum is added." in preview.content
    assert "moving down a tier at the next daily review: 0" in preview.content
    await confirm(fake, preview)
    assert [t.name for t in app.shop.program.tiers][-1] == "Platinum"

    shown = await ask(fake, "/program")
    fake.press(owner(fake), shown, shown.callback("Change"))
    await fake.wait_for(lambda: "Change the program" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Tiers"))
    await fake.wait_for(lambda: "Platinum" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Add a tier"))
    await fake.next_message(OWNER_ID)
    preview = await ask(fake, "Diamond 5000 2.5")
    assert "Diamond is added." in preview.content
    await confirm(fake, preview)
    diamond = app.shop.program.tiers[-1]
    assert (diamond.name, diamond.spend_minor, diamond.multiplier_hundredths) == (
        "Diamond",
        500_000,
        250,
    )
    # A threshold by button: the tier, its spend, the typed value.
    fake.press(owner(fake), shown, shown.callback("Silver"))
    await fake.wait_for(lambda: "spend to reach" in shown.content)
    fake.press(owner(fake), shown, shown.callback("spend to reach"))
    await fake.next_message(OWNER_ID)
    preview = await ask(fake, "800")
    assert "Silver will need 800.00 instead of 500.00." in preview.content
    await confirm(fake, preview)
    assert app.shop.program.tiers[1].spend_minor == 80_000

    history = await ask(fake, "/program history")
    for number in (4, 3, 2, 1):
        assert f"Version {number}" in history.content
    assert "Platinum is added." in history.content and "from the program file" in history.content
    fake.press(owner(fake), history, history.callback("Back to version 1"))
    preview = await fake.next_message(OWNER_ID)
    assert "Platinum is removed." in preview.content and "Diamond is removed." in preview.content
    await confirm(fake, preview)
    first, last = (
        await app.shop.storage.program_version_at(1),
        await app.shop.storage.program_version(),
    )
    assert first is not None and last is not None
    assert (last.number, last.origin, last.document) == (5, "revert", first.document)
    assert app.shop.program == TEST_PROGRAM


async def test_a_stale_preview_is_refused(app: Application, fake: FakeTelegram) -> None:
    earlier = await ask(fake, "/set welcome_bonus 70")
    later = await ask(fake, "/set welcome_bonus 80")
    await confirm(fake, later)
    fake.press(owner(fake), earlier, earlier.callback("Confirm"))
    await fake.wait_for(lambda: "changed meanwhile" in earlier.content)
    assert app.shop.program.welcome_bonus == 80
    assert await app.shop.storage.program_version_number() == 2
    # Pressing Cancel on a fresh preview changes nothing.
    preview = await ask(fake, "/set welcome_bonus 90")
    fake.press(owner(fake), preview, preview.callback("Cancel"))
    await fake.wait_for(lambda: "Nothing was changed" in preview.content)
    assert app.shop.program.welcome_bonus == 80


async def test_choices_are_buttons_and_menus_follow_the_cause(
    app: Application, fake: FakeTelegram
) -> None:
    shown = await ask(fake, "/program")
    fake.press(owner(fake), shown, shown.callback("Change"))
    await fake.wait_for(lambda: "Change the program" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Reports"))
    await fake.wait_for(lambda: "Weekly digest" in shown.content)
    fake.press(owner(fake), shown, shown.callback("Weekly digest"))
    await fake.wait_for(lambda: any(b["text"] == "no" for b in shown.buttons()))
    fake.press(owner(fake), shown, shown.callback("no"))
    preview = await fake.next_message(OWNER_ID)
    assert "Weekly digest: yes → no" in preview.content
    await confirm(fake, preview)
    assert app.shop.program.weekly_digest is False

    def menus_with_give() -> int:
        menus = [c for c in fake.requests if c.method == "setMyCommands"]
        return sum("give" in [m["command"] for m in c.params["commands"]] for c in menus)

    assert menus_with_give() == 0
    preview = await ask(fake, "/set cause Animal shelter")
    await confirm(fake, preview)
    # Every language's menu offers /give now.
    await fake.wait_for(lambda: menus_with_give() >= 6)
    # The "what changed" message opens the promotion composer with a draft.
    pressed = fake.press(owner(fake), preview, preview.callback("Tell customers"))
    draft = await fake.next_message(OWNER_ID)
    await fake.wait_for(lambda: pressed in fake.callback_answers)
    assert "Here is a draft" in str(fake.callback_answers[pressed].get("text"))
    assert "Good cause: — → Animal shelter" in draft.content
    reply = await ask(fake, draft.content)
    assert "Add a link button?" in reply.content


async def test_switching_away_from_stamps_says_what_happens_to_them(
    start_app: Start, fake: FakeTelegram
) -> None:
    stamps = Program(
        welcome_bonus=0,
        tiers=(Tier("Bronze", 0),),
        earning=Earning.STAMPS,
        stamp_reward="Free coffee",
    )
    app: Application = await start_app(stamps)
    cashier = await hire_cashier(fake)
    _ann, customer, _card = await customer_with_card(app, fake, 5002)
    await purchase(fake, cashier, customer.card_payload, "4")
    preview = await ask(fake, "/set earning points")
    assert "Customers with a balance: 1 (1 stamp in all)" in preview.content, preview.content
    assert "each counts as one point from now on" in preview.content
    assert "As points they are worth 0.05 off bills in all." in preview.content
    await confirm(fake, preview)
    assert app.shop.program.earning is Earning.POINTS
    stored = await app.shop.storage.customer(customer.id)
    assert stored is not None and stored.balance == 1


async def cli(tmp_path: Path, settings_db: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "program",
        *args,
        cwd=tmp_path,
        env=bot_env(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=f"sqlite:///{settings_db}"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_cli_export_and_apply_reach_the_running_bot(
    app: Application, fake: FakeTelegram, tmp_path: Path
) -> None:
    database = app.shop.settings.database_path
    exported = tmp_path / "exported.toml"
    code, out, _err = await cli(tmp_path, database, "export", str(exported))
    assert code == 0 and "Program version 1 written" in out
    document = tomllib.loads(exported.read_text())
    assert document["welcome_bonus"] == 50 and document["tiers"][1]["spend"] == 500

    broken = tmp_path / "broken.toml"
    broken.write_text(exported.read_text().replace("earn_rate = 1\n", 'earn_rate = "a lot"\n'))
    code, _out, err = await cli(tmp_path, database, "apply", str(broken))
    assert code == 2 and "earn_rate: must be an amount like 500 or 499.99" in err
    assert await app.shop.storage.program_version_number() == 1

    changed = tmp_path / "changed.toml"
    changed.write_text(exported.read_text().replace("earn_rate = 1\n", "earn_rate = 3\n"))
    # Held as `python -m bot` holds it: apply goes through the database all the same.
    lock = DatabaseLock(database).acquire()
    try:
        code, out, _err = await cli(tmp_path, database, "apply", str(changed))
    finally:
        lock.release()
    assert code == 0 and "is now version 2; the running bot applies it" in out, out
    version = await app.shop.storage.program_version()
    assert version is not None and (version.origin, version.author_id) == ("cli", None)
    # The running bot takes it in by itself, with no restart and no update to prompt it.
    await fake.wait_for(lambda: app.shop.program.earn_rate_hundredths == 300)
    code, out, _err = await cli(tmp_path, database, "apply", str(changed))
    assert code == 0 and "already in force (version 2)" in out

    cashier = await hire_cashier(fake)
    _ann, customer, _card = await customer_with_card(app, fake, 5003)
    assert "+30 points" in await purchase(fake, cashier, customer.card_payload, "10")


async def test_start_up_keeps_the_database_and_says_so(
    tmp_path: Path, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, fake.base_url)
    storage = await SQLiteStorage.open(settings.database_path)
    await storage.close()
    first = await Application.create(settings, seed=TEST_PROGRAM)  # seeds version 1
    await first.close()
    other = Program(welcome_bonus=5, tiers=(Tier("Bronze", 0),))
    with caplog.at_level(logging.WARNING):
        second = await Application.create(settings, seed=other)
    try:
        assert second.shop.program == TEST_PROGRAM and second.shop.live.version == 1
        lines = [r.getMessage() for r in caplog.records if "version 1" in r.getMessage()]
        assert lines == [
            "The program in force is version 1 from the database, not program.toml; "
            "to put the file in force: python -m bot program apply program.toml"
        ]
    finally:
        await second.close()


async def test_renaming_a_tier_moves_its_holders_without_a_second_congratulation(
    app: Application, fake: FakeTelegram
) -> None:
    cashier = await hire_cashier(fake)
    _ann, customer, _card = await customer_with_card(app, fake, 5071)
    await purchase(fake, cashier, customer.card_payload, "600")
    await fake.wait_for(lambda: any("reached Silver" in m.content for m in fake.messages(5071)))
    preview = await ask(fake, "/set tiers[2].name Argent")
    await confirm(fake, preview)
    held = await app.shop.storage.customer(customer.id)
    assert held is not None and held.tier == "Argent"
    await purchase(fake, cashier, customer.card_payload, "10")
    await fake.idle()
    assert not any("Argent" in m.content for m in fake.messages(5071)), [
        m.content for m in fake.messages(5071)
    ]
