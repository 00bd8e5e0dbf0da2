"""Forgetting leaves no identifier: donations name no operator, and the key that recognises
a returning customer needs a secret kept outside the database."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from pathlib import Path

from bot.app import Application
from bot.domain.program.model import Program
from bot.domain.tokens import new_card_identity
from storage import EntryKind, SQLiteStorage
from storage.migrations import MIGRATIONS
from tests.conftest import TEST_PROGRAM
from tests.test_desk_e2e import customer_with_card


async def test_a_donation_names_no_operator(start_app: object, fake: object) -> None:
    program = Program(welcome_bonus=50, tiers=TEST_PROGRAM.tiers, cause="Trees")
    app: Application = await start_app(program)  # type: ignore[operator]
    ann, customer, _ = await customer_with_card(app, fake, 4701)
    fake.send_message(ann, "/give")  # type: ignore[attr-defined]
    await fake.next_message(4701)  # type: ignore[attr-defined]
    fake.send_message(ann, "20")  # type: ignore[attr-defined]
    confirm = await fake.next_message(4701)  # type: ignore[attr-defined]
    fake.press(ann, confirm, confirm.callback("Yes"))  # type: ignore[attr-defined]
    await fake.wait_for(lambda: "Thank you" in confirm.content)  # type: ignore[attr-defined]
    [donation] = [e for e in await app.shop.storage.history(customer.id, 10) if e.amount < 0]
    assert donation.kind is EntryKind.DONATION and donation.operator_id is None
    rows = await app.shop.storage.export_ledger()
    assert all(4701 not in row for row in rows)  # ledger.csv never shows the customer's id
    database = sqlite3.connect(app.shop.settings.database_path)
    operators = database.execute("SELECT operator_id FROM pending_operations").fetchall()
    database.close()
    assert (4701,) not in operators


async def _join(storage: SQLiteStorage, telegram_id: int) -> bool:
    """Whether joining grants the welcome bonus (so: whether they were not recognised)."""
    customer, _ = await storage.register_customer(telegram_id, "X", "en", 50, new_card_identity)
    return customer.balance == 50


async def test_the_former_key_needs_the_secret_beside_the_database(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    storage = await SQLiteStorage.open(str(path))
    customer, _ = await storage.register_customer(4702, "Ann", "en", 50, new_card_identity)
    await storage.forget_customer(customer.id)
    await storage.close()
    key_file = tmp_path / "shop.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    db = sqlite3.connect(path)
    (stored,) = db.execute("SELECT former_key FROM customers").fetchone()
    (salt,) = db.execute("SELECT value FROM meta WHERE key = 'former_salt'").fetchone()
    db.close()
    # What the database alone offers (its salt, any id) does not give the stored key.
    assert stored != hashlib.sha256(f"{salt}:4702".encode()).hexdigest()
    assert "4702" not in stored

    copy = tmp_path / "elsewhere.db"  # a backup restored without the key file
    copy.write_bytes(path.read_bytes())
    stranger = await SQLiteStorage.open(str(copy))
    assert await _join(stranger, 4702)  # not recognised: the secret is not in the file
    await stranger.close()

    storage = await SQLiteStorage.open(str(path))  # the same key file: recognised
    assert not await _join(storage, 4702)
    await storage.close()


async def test_former_keys_of_earlier_versions_are_keyed_and_still_recognised(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:7]:  # a database as the previous version left it
        db.executescript(script)
    db.execute("PRAGMA user_version = 7")
    db.execute("INSERT INTO meta (key, value) VALUES ('former_salt', 'abc')")
    legacy = hashlib.sha256(b"abc:4703").hexdigest()
    db.execute(
        "INSERT INTO customers (telegram_id, name, card_number, card_payload, created_at, "
        "last_seen_at, forgotten_at, former_key) VALUES (NULL, '', 'f-1', 'f-1', 't', 't', "
        "'t', ?)",
        (legacy,),
    )
    db.execute(
        "INSERT INTO ledger (customer_id, kind, amount, reason, operation_id, operator_id, "
        "created_at) VALUES (1, 'donation', 0, 'donation', 'op-1', 4703, 't')"
    )
    db.execute(
        "INSERT INTO ledger (customer_id, kind, amount, reason, operation_id, operator_id, "
        "created_at) VALUES (1, 'purchase', 0, 'purchase', 'op-2', 2000, 't')"
    )
    db.close()

    storage = await SQLiteStorage.open(str(path))
    try:
        assert not await _join(storage, 4703)  # recognised across the upgrade
        assert await _join(storage, 4704)
    finally:
        await storage.close()
    db = sqlite3.connect(path)
    keys = [
        k for (k,) in db.execute("SELECT former_key FROM customers WHERE former_key IS NOT NULL")
    ]
    operators = db.execute("SELECT kind, operator_id FROM ledger ORDER BY id").fetchall()
    db.close()
    assert keys and legacy not in keys
    assert operators[:2] == [("donation", None), ("purchase", 2000)]
    storage = await SQLiteStorage.open(str(path))  # keyed once: opening again changes nothing
    await storage.close()
    db = sqlite3.connect(path)
    assert [
        k for (k,) in db.execute("SELECT former_key FROM customers WHERE former_key IS NOT NULL")
    ] == keys
    db.close()
