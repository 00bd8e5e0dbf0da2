"""`python -m bot import FILE.csv` as a real process: the check, --yes, no terminal, a bad
file's exit code, the bot running, and the lines in DEFAULT_LOCALE."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from storage import SQLiteStorage
from tests.fakeapi import TOKEN
from tests.test_process_e2e import ROOT, bot_env

CARDS = "card_number;name;phone;balance\n004512;Olena;+380671234567;340\n004513;Ivan;12;5\n"


async def cli(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    values = {
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": "sqlite:///shop.db",
        "PROGRAM_FILE": str(ROOT / "program.toml"),
        "PHONE_REGION": "UA",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import", *args, cwd=tmp_path,
        env=bot_env(tmp_path, **values), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def imported(tmp_path: Path) -> int | None:
    storage = await SQLiteStorage.open(str(tmp_path / "shop.db"))
    try:
        card = await storage.customer_by_legacy_number("004512")
        return card.balance if card else None
    finally:
        await storage.close()


async def test_check_then_import_with_yes_then_nothing_twice(tmp_path: Path) -> None:
    (tmp_path / "cards.csv").write_text(CARDS)
    code, out, err = await cli(tmp_path, "cards.csv")
    assert code == 0, err
    assert "Ready to import: 1 customer with 340 points" in out
    assert "line 3: phone «12» cannot be read" in out
    assert "run again with --yes" in out  # no terminal: only the report
    assert await imported(tmp_path) is None
    code, out, err = await cli(tmp_path, "cards.csv", "--yes")
    assert code == 0 and "Imported 1 customer with 340 points" in out, err
    assert await imported(tmp_path) == 340
    code, out, _ = await cli(tmp_path, "cards.csv", "--yes")
    assert code == 0 and "1 customer from this file was already imported" in out
    assert await imported(tmp_path) == 340


async def test_file_problems_exit_2_in_the_shop_language(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b"name,email\nAnn,a@example.com\n")
    code, _, err = await cli(tmp_path, "bad.csv", "--yes")
    assert code == 2 and "Found: name, email" in err and "Traceback" not in err
    code, _, err = await cli(tmp_path, "bad.csv", DEFAULT_LOCALE="uk")
    assert code == 2 and "Нічого не імпортовано" in err, err
    code, _, err = await cli(tmp_path, "missing.csv")
    assert code == 2 and "missing.csv does not exist" in err
    with (tmp_path / "huge.csv").open("wb") as huge:
        huge.truncate(50 * 1024 * 1024)  # sparse: refused by its size, never read
    code, _, err = await cli(tmp_path, "huge.csv")
    assert code == 2 and "larger than 5 MB" in err


async def test_on_a_terminal_it_asks_first(tmp_path: Path) -> None:
    import os
    import pty

    (tmp_path / "cards.csv").write_text(CARDS)
    controller, terminal = pty.openpty()
    values = {"BOT_TOKEN": TOKEN, "DATABASE_URL": "sqlite:///shop.db",
              "PROGRAM_FILE": str(ROOT / "program.toml"), "PHONE_REGION": "UA"}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import", "cards.csv", cwd=tmp_path,
        env=bot_env(tmp_path, **values), stdin=terminal,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    os.close(terminal)
    os.write(controller, b"y\n")  # answered before the question: the terminal keeps it
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        os.close(controller)
    assert process.returncode == 0, err.decode()
    assert "Import 1 customer? [y/N]" in out.decode()
    assert await imported(tmp_path) == 340


async def test_tiers_come_from_the_program_in_force(tmp_path: Path) -> None:
    # Once a bot has run, the database holds the rules: an owner lowered Silver to 100.00
    # in Telegram, so a card with 200.00 spent arrives as Silver although the file says 500.
    import dataclasses
    from datetime import UTC, datetime

    from bot.domain.program.document import program_to_document
    from bot.domain.program.loader import load_program

    program = load_program(ROOT / "program.toml")
    silver = dataclasses.replace(program.tiers[1], spend_minor=100_00)
    lowered = dataclasses.replace(program, tiers=(program.tiers[0], silver, *program.tiers[2:]))
    storage = await SQLiteStorage.open(str(tmp_path / "shop.db"))
    try:
        await storage.save_program_version(
            program_to_document(lowered), None, None, "telegram", datetime.now(UTC)
        )
    finally:
        await storage.close()
    (tmp_path / "cards.csv").write_text("card_number;balance;spend\n004512;10;200\n")
    code, _, err = await cli(tmp_path, "cards.csv", "--yes")
    assert code == 0, err
    storage = await SQLiteStorage.open(str(tmp_path / "shop.db"))
    try:
        card = await storage.customer_by_legacy_number("004512")
        assert card is not None and card.tier == silver.name
    finally:
        await storage.close()
