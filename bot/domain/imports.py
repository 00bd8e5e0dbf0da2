"""Customers brought over from plastic cards: the dry run of a CSV (rows to import, rows with
problems, rows this file imported before) against the customers as they are, and the import
itself, booked through storage in one transaction. Nothing is written until `import_rows` is
called with the dry run's rows. Reading the file is `bot.domain.import_file`'s.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain.context import Context
from bot.domain.import_file import (
    MAX_BYTES,
    MAX_ROWS,
    FileProblem,
    ImportFileError,
    ImportRow,
    RowIssue,
    RowProblem,
    decode,
    normalize_legacy,
    read_rows,
    shown_value,
)
from bot.domain.program.rules import lot_expiry
from bot.domain.tokens import new_card_identity
from storage.ports_imports import ImportedCustomer, ImportOutcome

__all__ = [
    "EXAMPLE_CSV",
    "MAX_BYTES",
    "MAX_ROWS",
    "DryRun",
    "FileProblem",
    "ImportFileError",
    "ImportRow",
    "RowIssue",
    "RowProblem",
    "decode",
    "dry_run",
    "import_rows",
    "normalize_legacy",
    "read_rows",
]

SHOWN_PROBLEMS = 20  # lines listed one by one; the rest are only counted
# The example the bot sends with /import; docs/plastic-cards-example.csv is the same file.
EXAMPLE_CSV = (
    "card_number,name,phone,birthday,balance,spend,joined\n"
    "004512,Olena Koval,+380 67 123 45 67,17.05.1990,340,12500.00,02.04.2019\n"
    "004513,Ivan Petrenko,+380 50 765 43 21,,120,2300.50,15.09.2021\n"
    "004514,Maria Shevchuk,+380 93 111 22 33,03.11.1985,0,,\n"
)


@dataclass(frozen=True, slots=True)
class DryRun:
    digest: str  # names the file: operation ids derive from it
    rows: tuple[ImportRow, ...]
    issues: tuple[RowIssue, ...]
    already: int = 0  # rows this same file imported before
    total_rows: int = 0

    @property
    def points(self) -> int:
        return sum(row.balance for row in self.rows)

    def counts(self) -> dict[RowProblem, int]:
        found: dict[RowProblem, int] = {}
        for issue in self.issues:
            found[issue.problem] = found.get(issue.problem, 0) + 1
        return found

    @property
    def shown(self) -> tuple[RowIssue, ...]:
        return self.issues[:SHOWN_PROBLEMS]


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def operation_id(digest: str, legacy_number: str) -> str:
    """The import entry's id: the same file's same card books once, however often sent."""
    return f"import:{digest}:{legacy_number}"


@dataclass
class _Split:
    rows: list[ImportRow] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    already: int = 0


async def dry_run(context: Context, data: bytes) -> DryRun:
    """What importing `data` would do, against the customers as they are now. Raises
    `ImportFileError` for a problem with the whole file."""
    digest = file_digest(data)
    # Reading 10 000 rows takes a few tenths of a second: off the event loop.
    good, issues, count = await asyncio.to_thread(
        read_rows, data, context.phone_region, context.today()
    )
    clashes = await context.storage.import_clashes(
        digest,
        [row.legacy_number for row in good],
        [row.phone for row in good if row.phone is not None],
    )
    split = _Split(issues=issues)
    for row in good:
        if row.legacy_number in clashes.imported:
            split.already += 1
        elif row.legacy_number in clashes.cards:
            split.issues.append(
                RowIssue(row.line, RowProblem.CARD_TAKEN, shown_value(row.legacy_number))
            )
        elif row.phone is not None and row.phone in clashes.phones:
            split.issues.append(RowIssue(row.line, RowProblem.PHONE_TAKEN, shown_value(row.phone)))
        else:
            split.rows.append(row)
    split.issues.sort(key=lambda issue: issue.line)
    return DryRun(digest, tuple(split.rows), tuple(split.issues), split.already, count)


def to_import(context: Context, rows: Iterable[ImportRow]) -> list[ImportedCustomer]:
    """The rows as storage writes them, each with the tier its lifetime spend reaches."""
    program = context.program
    return [
        ImportedCustomer(
            legacy_number=row.legacy_number,
            name=row.name,
            phone=row.phone,
            birthday=row.birthday,
            balance=row.balance,
            spend_minor=row.spend_minor,
            joined=row.joined,
            tier=program.tier_for(row.spend_minor).name,
            reason=f"imported from card {row.legacy_number}",
        )
        for row in rows
    ]


async def import_rows(context: Context, run: DryRun) -> ImportOutcome:
    """Book the dry run's rows in one transaction; rows booked before count as already."""
    # Imported points expire like points earned today (when the program expires any).
    return await context.storage.import_customers(
        run.digest,
        to_import(context, run.rows),
        new_card_identity,
        context.now(),
        lot_expiry(context.program, context.now()),
    )
