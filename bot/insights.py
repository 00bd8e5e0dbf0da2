"""The owner's figures: periods in the shop's time zone, the headline text, weekly series
for charts, CSV exports, and alerts on unusual activity."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from bot.charts import bar_chart
from bot.i18n import _
from bot.program import local_midnight
from bot.shop import Shop
from bot.views import money, number, points, points_value_minor, tier_name
from storage import EntryKind, PeriodFigures, Revenue

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


def period(shop: Shop, days: int, today: date | None = None) -> Period:
    """The last `days` local days up to and including today."""
    today = today or shop.now().date()
    first = today - timedelta(days=days - 1)
    return between(shop, first, today)


def between(shop: Shop, first: date, last: date) -> Period:
    zone = shop.settings.timezone
    return Period(
        first, last, local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    )


def percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}" if whole else "0.0"


def stats_text(shop: Shop, span: Period, figures: PeriodFigures) -> str:
    program = shop.program
    lines = [
        _(
            "<b>Figures for {first} to {last}</b>",
            first=span.first.isoformat(),
            last=span.last.isoformat(),
        ),
        _(
            "Members: {members} · new: {new} · active: {active}",
            members=number(figures.members),
            new=number(figures.new_members),
            active=number(figures.active_members),
        ),
        _(
            "Visits: {visits} · revenue booked: {revenue} · came back more than once: {repeat}%",
            visits=number(figures.visits),
            revenue=money(figures.revenue_minor),
            repeat=percent(figures.repeat_members, figures.active_members),
        ),
    ]
    if figures.checks_by_tier:
        checks = ", ".join(
            f"{escape(tier_name(tier or program.tiers[0].name))} "
            f"{money(total // count if count else 0)}"
            for tier, (count, total) in sorted(figures.checks_by_tier.items())
        )
        lines.append(_("Average check by level: {checks}", checks=checks))
    lines += [
        _(
            "Points issued: {issued} · spent: {redeemed} ({rate}%) · expired: {expired}",
            issued=number(figures.issued),
            redeemed=number(figures.redeemed),
            rate=percent(figures.redeemed, figures.issued),
            expired=number(figures.expired),
        ),
        _(
            "Points outstanding: {points}, worth {worth} if all were spent",
            points=points(figures.outstanding),
            worth=money(points_value_minor(program, figures.outstanding)),
        ),
        _(
            "Referrals: {joined} friends joined, {qualified} qualified",
            joined=number(figures.referrals_joined),
            qualified=number(figures.referrals_qualified),
        ),
        _(
            "Promotions delivered: {sent} · offers used: {uses}",
            sent=number(figures.promotions_sent),
            uses=number(figures.offer_uses),
        ),
    ]
    if figures.cashiers:
        top = ", ".join(f"{escape(name)} {number(count)}" for _id, name, count in figures.cashiers)
        lines.append(_("Busiest cashiers: {cashiers}", cashiers=top))
    return "\n".join(lines)


async def weekly_charts(shop: Shop, span: Period, figures: PeriodFigures) -> list[bytes]:
    """Members and visits per week, points issued against spent, and levels today."""
    zone = shop.settings.timezone
    weeks: list[date] = []
    start = span.first - timedelta(days=span.first.weekday())
    while start <= span.last:
        weeks.append(start)
        start += timedelta(days=7)

    # Weeks start on Monday in the shop's time zone; the first and last are cut to the period.
    bounds = [max(local_midnight(week, zone), span.since) for week in weeks] + [span.until]
    series = await shop.storage.weekly_series(bounds)
    labels = [week.strftime("%d.%m") for week in weeks]
    tiers = [tier.name for tier in shop.program.tiers]
    counts = [
        figures.tiers.get(name, 0) + (figures.tiers.get("", 0) if index == 0 else 0)
        for index, name in enumerate(tiers)
    ]
    empty = _("No data for this period yet")
    return [
        bar_chart(
            _("New members and visits per week"),
            labels,
            [
                (_("New members"), series.joins),
                (_("Visits"), series.visits),
            ],
            empty,
        ),
        bar_chart(
            _("Points issued and spent per week"),
            labels,
            [(_("Issued"), series.issued), (_("Spent"), series.spent)],
            empty,
        ),
        bar_chart(
            _("Members by level"),
            [tier_name(name) for name in tiers],
            [(_("Members"), counts)],
            empty,
        ),
    ]


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


async def unusual_activity(
    shop: Shop, customer_id: int, operator_id: int | None
) -> list[Callable[[], str]]:
    """Alerts for owners (rendered later, in each owner's language) when a booking crosses a
    daily threshold: once a day each, as exactly one booking crosses it."""
    program = shop.program
    start = local_midnight(shop.now().date(), shop.settings.timezone)
    alerts = []
    if program.alert_customer_operations:
        count = await shop.storage.operations_since(start, customer_id, None)
        if count == program.alert_customer_operations + 1:
            customer = await shop.storage.customer(customer_id)
            name = escape(customer.name if customer else "?")
            card = customer.card_number if customer else "?"
            alerts.append(
                lambda count=count, name=name, card=card: _(
                    "⚠️ Unusual activity: {name} (card {card}) has had {count} operations today.",
                    name=name,
                    card=card,
                    count=count,
                )
            )
    if program.alert_cashier_operations and operator_id is not None:
        count = await shop.storage.operations_since(start, None, operator_id)
        if count == program.alert_cashier_operations + 1:
            alerts.append(
                lambda count=count: _(
                    "⚠️ Unusual activity: cashier {cashier} has booked {count} operations today.",
                    cashier=operator_id,
                    count=count,
                )
            )
    return alerts
