"""Importing a plastic-card CSV: the dry run and the import transaction, timed, on a database
that already holds customers.

.venv/bin/python -m bench.import_csv --rows 10000 --existing 10000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain import imports
from bot.domain.context import Context
from bot.domain.program.model import Program, Tier
from bot.domain.promotions import audience_filter
from storage import SQLiteStorage
from tests.helpers import seed_customers

PROGRAM = Program(
    welcome_bonus=0, tiers=(Tier("Bronze", 0), Tier("Silver", 50_000), Tier("Gold", 150_000))
)


def csv_file(rows: int) -> bytes:
    """A cp1251, semicolon-separated export as an old card system writes it."""
    lines = ["Номер картки;Ім'я;Телефон;День народження;Бали;Сума;Дата"]
    for index in range(rows):
        lines.append(
            f"{index:06d};Клієнт {index};+38067{index:07d};"
            f"{index % 28 + 1:02d}.{index % 12 + 1:02d}.1985;{index % 900};"
            f"{index % 3000}.50;01.02.2020"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


async def main(rows: int, existing: int) -> None:
    data = csv_file(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "bench.db")
        storage = await SQLiteStorage.open(path, audiences=audience_filter)
        try:
            seed_customers(path, existing, 1_000_000)
            context = Context(storage, PROGRAM, ZoneInfo("Europe/Kyiv"), "UA")
            started = time.perf_counter()
            run = await imports.dry_run(context, data)
            checked = time.perf_counter()
            outcome = await imports.import_rows(context, run)
            done = time.perf_counter()
            again = await imports.import_rows(context, await imports.dry_run(context, data))
            assert outcome.created == rows and again.created == 0, (outcome, again)
            assert await storage.balance_mismatches() == []
        finally:
            await storage.close()
    print(
        f"{rows} rows ({len(data) / 1e6:.1f} MB, {existing} customers before): "
        f"dry run {checked - started:.2f} s, import {done - checked:.2f} s, "
        f"total {done - started:.2f} s; {len(run.issues)} problems"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--existing", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.existing))
