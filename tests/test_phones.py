"""Phone numbers in E.164: every market's local and international forms, PHONE_REGION, the
migration of stored numbers, and the desk finding North Macedonian numbers."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.config import ConfigError, load_settings
from bot.domain import finding
from bot.domain.context import Context
from bot.domain.parsing import mask_phone, parse_phone
from bot.domain.program.model import DEFAULT_PROGRAM
from bot.domain.tokens import new_card_identity
from storage import SQLiteStorage
from storage.migrations import MIGRATIONS, split_sql
from tests.fakeapi import TOKEN, FakeTelegram
from tests.helpers import join
from tests.test_desk_e2e import CASHIER_ID, hire_cashier
from tests.test_process_e2e import finish, run_bot
from tests.test_units import settings_env

Start = Callable[..., Any]

# (region, stored E.164, what people type: local forms, then international ones)
FORMS = [
    ("UA", "+380671234567", ["067 123 45 67", "0671234567", "(067) 123-45-67"]),
    ("UA", "+380671234567", ["+380 67 123 45 67", "00380 67 123 45 67", "+380671234567"]),
    ("RU", "+79123456789", ["8 912 345-67-89", "8 (912) 345 67 89", "89123456789"]),
    ("RU", "+79123456789", ["+7 912 345 67 89", "+7 (912) 345-67-89"]),
    ("MK", "+38970123456", ["070 123 456", "070 123-456", "070123456"]),
    ("MK", "+38970123456", ["+389 70 123 456", "00389 70 123 456"]),
    ("MK", "+38923123456", ["02 312 3456", "023123456"]),
    ("MK", "+38923123456", ["+389 2 312 3456", "00389 2 312 3456"]),
    ("TH", "+66812345678", ["081 234 5678", "0812345678", "081-234-5678"]),
    ("TH", "+66812345678", ["+66 81 234 5678", "+66812345678"]),
    ("TH", "+6621234567", ["02 123 4567", "+66 2 123 4567"]),
    # English names no country: a shop in England sets PHONE_REGION=GB.
    ("GB", "+447911123456", ["07911 123456", "+44 7911 123456", "00 44 7911 123456"]),
    (None, "+380671234567", ["+380 67 123 45 67", "+380671234567"]),
    (None, "+38970123456", ["+389 70 123 456"]),
]


@pytest.mark.parametrize(("region", "stored", "typed"), FORMS)
def test_local_and_international_forms(region: str | None, stored: str, typed: list[str]) -> None:
    for text in typed:
        assert parse_phone(text, region) == stored, text


@pytest.mark.parametrize(
    ("region", "text"),
    [
        (None, "067 123 45 67"),  # no region: local numbers cannot be read
        (None, "0671234567"),
        ("UA", "12345678"),  # not a possible Ukrainian number
        ("MK", "070 12"),
        ("UA", "+1 555 CALL NOW"),
        ("UA", "٠٦٧١٢٣٤٥٦٧"),  # other scripts' digits
        ("UA", "+" + "9" * 16),
        ("UA", ""),
    ],
)
def test_not_phone_numbers(region: str | None, text: str) -> None:
    assert parse_phone(text, region) is None


def test_masked_for_cashiers() -> None:
    assert mask_phone("+38970123456") == "+38970••••56"
    assert mask_phone("+6621234567") == "+66212•••67"


@pytest.mark.parametrize(
    ("locale", "region"), [("uk", "UA"), ("ru", "RU"), ("mk", "MK"), ("th", "TH"), ("en", None)]
)
def test_phone_region_follows_default_locale(
    monkeypatch: pytest.MonkeyPatch, locale: str, region: str | None
) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN, DEFAULT_LOCALE=locale)
    monkeypatch.delenv("PHONE_REGION", raising=False)
    assert load_settings(env_file=None).phone_region == region


@pytest.mark.parametrize(("value", "region"), [("mk", "MK"), (" GB ", "GB"), ("none", None)])
def test_phone_region_set(monkeypatch: pytest.MonkeyPatch, value: str, region: str | None) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN, DEFAULT_LOCALE="uk", PHONE_REGION=value)
    assert load_settings(env_file=None).phone_region == region


@pytest.mark.parametrize("value", ["XX", "Ukraine", "380", "U"])
def test_phone_region_invalid(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN, PHONE_REGION=value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert [(p.variable, p.params) for p in caught.value.problems] == [
        ("PHONE_REGION", {"value": value})
    ]


async def test_invalid_phone_region_stops_the_bot_in_its_language(tmp_path: Path) -> None:
    code, stderr = await finish(
        await run_bot(tmp_path, BOT_TOKEN=TOKEN, DEFAULT_LOCALE="mk", PHONE_REGION="XX")
    )
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "PHONE_REGION" in stderr and "XX" in stderr
    assert any("\u0400" <= char <= "\u04ff" for char in stderr)  # Macedonian: translated


async def test_desk_lookup_in_every_market(storage: SQLiteStorage) -> None:
    owners: dict[str, int] = {}
    for index, stored in enumerate(sorted({stored for _r, stored, _t in FORMS})):
        customer, _ = await storage.register_customer(
            9100 + index, f"C{index}", "en", 0, new_card_identity
        )
        await storage.set_phone(customer.id, stored)
        owners[stored] = customer.id
    for region, stored, typed in FORMS:
        context = Context(storage, DEFAULT_PROGRAM, UTC, phone_region=region)
        for text in typed:
            found = await finding.find_customers(context, text)
            assert found is not None, (region, text)
            assert [c.id for c in found] == [owners[stored]], (region, text)
    # The same digits in another country are someone else: no guessing by trailing digits.
    macedonia = Context(storage, DEFAULT_PROGRAM, UTC, phone_region="MK")
    assert not await finding.find_customers(macedonia, "067 123 45 67")


async def test_macedonian_numbers_at_the_desk(start_app: Start, fake: FakeTelegram) -> None:
    app: Application = await start_app(phone_region="MK")
    cashier = await hire_cashier(fake)
    for user_id, name, shared in ((9201, "Ana", "38970123456"), (9202, "Boris", "+38923123456")):
        user = fake.user(user_id, name)
        await join(fake, user, skip_profile=False)  # stops at the phone question
        fake.send_contact(user, shared, contact_user_id=user_id)
        assert "saved" in (await fake.next_message(user_id)).content
    ana = await app.shop.storage.customer_by_telegram(9201)
    boris = await app.shop.storage.customer_by_telegram(9202)
    assert ana and boris and (ana.phone, boris.phone) == ("+38970123456", "+38923123456")
    for typed, name in (
        ("070 123 456", "Ana"),
        ("+389 70 123 456", "Ana"),
        ("02 312 3456", "Boris"),
    ):
        fake.send_message(cashier, typed)
        view = await fake.next_message(CASHIER_ID)
        assert name in view.content, (typed, view.content)
        # Masked: the cashier never reads the number itself.
        assert "70123456" not in view.content and "3123456" not in view.content


async def test_migration_stores_phones_as_e164(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    version = next(i for i, script in enumerate(MIGRATIONS) if "phone_e164(" in script)
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        for statement in split_sql(script):
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    stored = {
        1: "+380671234567",  # already E.164
        2: "+3800671234567",  # the trunk zero kept after the country code
        3: "66812345678",  # no plus
        4: "+38970123456",
        5: "+1234567",  # not a possible number: kept as it was
        6: None,
    }
    with db:
        for key, phone in stored.items():
            db.execute(
                "INSERT INTO customers (telegram_id, name, language, card_number, card_payload, "
                "created_at, last_seen_at, phone) VALUES (?, 'x', 'en', ?, ?, '2026-01-01', "
                "'2026-01-01', ?)",
                (key, f"0000000{key}", f"payload{key}", phone),
            )
    db.close()
    storage = await SQLiteStorage.open(str(path))
    try:
        phones = {key: (await storage.customer_by_telegram(key)).phone for key in stored}  # type: ignore[union-attr]
    finally:
        await storage.close()
    assert phones == {
        1: "+380671234567",
        2: "+380671234567",
        3: "+66812345678",
        4: "+38970123456",
        5: "+1234567",
        6: None,
    }
