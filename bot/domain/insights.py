"""The owner's figures as rules: periods of local days, shares, CSV exports that no
spreadsheet runs as formulas, and alerts on unusual activity. Rendered by
`bot.services.reports`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from html import escape

from bot.domain.context import Context
from bot.domain.marks import N_
from bot.domain.program.rules import local_midnight
from storage import EntryKind, Revenue

PERIODS = (7, 30, 90)
# Revenue booked: the bills of purchases less what was refunded of them (a refund entry
# carries the refunded amount as its bill). Redemptions and donations are not money taken.
REVENUE = Revenue(adds=frozenset({EntryKind.PURCHASE}), takes=frozenset({EntryKind.REFUND}))
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    first: date  # local dates, both included
    last: date
    since: datetime  # UTC bounds: [since, until)
    until: datetime


def period(zone: tzinfo, days: int, today: date) -> Period:
    """The last `days` local days up to and including `today`."""
    first = today - timedelta(days=days - 1)
    return between(zone, first, today)


def between(zone: tzinfo, first: date, last: date) -> Period:
    return Period(
        first, last, local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    )


def percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}" if whole else "0.0"


# A text cell starting with one of these is a formula to Excel, LibreOffice or Sheets
# (OWASP, "CSV Injection"); Telegram names and typed reasons are chosen by anyone.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Columns always written as text: a phone number (+380…, or digits with a leading 0) must
# not turn into a formula, nor into a number that loses its + and leading zeros.
TEXT_COLUMNS = frozenset({"phone"})


def csv_cell(value: object, as_text: bool = False) -> object:
    """A cell a spreadsheet shows as written: risky text gets OWASP's leading apostrophe,
    which spreadsheets read as "this is text"; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and (as_text or value.startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def to_csv(header: list[str], rows: list[tuple[object, ...]]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs open Cyrillic and Thai names correctly;
    text quoted, numbers bare, nothing that runs as a formula."""
    out = io.StringIO()
    csv.writer(out).writerow(header)
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    text = [name in TEXT_COLUMNS for name in header]
    writer.writerows(
        [csv_cell(value, as_text) for value, as_text in zip(row, text, strict=True)] for row in rows
    )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


CUSTOMER_HEADER = [
    "card_number", "name", "phone", "birthday", "language", "tier", "balance", "promotions",
    "joined_at",
]  # fmt: skip
LEDGER_HEADER = [
    "entry", "created_at", "card_number", "kind", "points", "bill", "reason", "operator",
    "reverses", "shortfall",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Alert:
    """A notice for owners: an untranslated message and its parameters, rendered later in
    each owner's language."""

    message: str
    params: dict[str, object]


async def unusual_activity(
    context: Context, customer_id: int, operator_id: int | None
) -> list[Alert]:
    """Alerts for owners when a booking crosses a daily threshold: once a day each, as
    exactly one booking crosses it."""
    program, storage = context.program, context.storage
    start = local_midnight(context.today(), context.zone)
    alerts = []
    if program.alert_customer_operations:
        count = await storage.operations_since(start, customer_id, None)
        if count == program.alert_customer_operations + 1:
            customer = await storage.customer(customer_id)
            alerts.append(
                Alert(
                    N_(
                        "⚠️ Unusual activity: {name} (card {card}) has had {count} operations today."
                    ),
                    {
                        "name": escape(customer.name if customer else "?"),
                        "card": customer.card_number if customer else "?",
                        "count": count,
                    },
                )
            )
    if program.alert_cashier_operations and operator_id is not None:
        count = await storage.operations_since(start, None, operator_id)
        if count == program.alert_cashier_operations + 1:
            alerts.append(
                Alert(
                    N_(
                        "⚠️ Unusual activity: cashier {cashier} has booked {count} operations today."
                    ),
                    {"cashier": operator_id, "count": count},
                )
            )
    return alerts
