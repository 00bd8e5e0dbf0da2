"""Numbers, money, points and moments in the current update's language."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel import Locale
from babel.dates import format_datetime
from babel.numbers import (
    NumberPattern,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_pattern,
)

from bot.i18n import ngettext


def locale() -> str:
    # Texts are rendered inside an update's (or a job's) i18n context, never outside one.
    return I18n.get_current(no_error=False).current_locale


@dataclass(frozen=True)
class NumberFormats:
    """A locale's integer and money patterns, parsed once: every reply shows several numbers.

    Where the locale groups digits by threes with plain ASCII digits (all our languages do),
    numbers are grouped by `format` directly: Babel's general pattern engine cost more than
    the rest of drawing a desk reply. The shortcut is checked against Babel when it is made.
    """

    locale: Locale
    integer: NumberPattern
    money: NumberPattern
    group: str | None = None  # None: the shortcut does not match Babel here
    decimal: str = "."
    minus: str = "-"

    def number(self, value: int) -> str:
        if self.group is None:
            return self.integer.apply(value, self.locale)
        text = f"{abs(value):,}".replace(",", self.group)
        return self.minus + text if value < 0 else text

    def amount(self, minor: int) -> str:
        if self.group is None:
            return self.money.apply(Decimal(minor) / 100, self.locale)
        whole, cents = divmod(abs(minor), 100)
        text = f"{whole:,}".replace(",", self.group) + f"{self.decimal}{cents:02d}"
        return self.minus + text if minor < 0 else text


SAMPLES = (0, 7, 999, 1_000, 12_345, 1_234_567, 10**12 + 5, -1, -1_000, -98_765_432)


@cache
def number_formats(code: str) -> NumberFormats:
    parsed = Locale.parse(code)
    slow = NumberFormats(parsed, parsed.decimal_formats[None], parse_pattern("#,##0.00"))
    fast = NumberFormats(
        slow.locale,
        slow.integer,
        slow.money,
        group=get_group_symbol(parsed),
        decimal=get_decimal_symbol(parsed),
        minus=get_minus_sign_symbol(parsed),
    )
    agree = all(
        fast.number(n) == slow.number(n) and fast.amount(n) == slow.amount(n) for n in SAMPLES
    )
    return fast if agree else slow


def number(value: int) -> str:
    return number_formats(locale()).number(value)


def money(minor: int) -> str:
    return number_formats(locale()).amount(minor)


def format_decimal_hundredths(value: int) -> str:
    """150 -> "1.5", 200 -> "2" in the current language's notation."""
    formats = number_formats(locale())
    return formats.integer.apply(Decimal(value) / 100, formats.locale)


# Stamp programs count stamps where others count points; set per update (and per job) from
# the program in force, so every text that shows a balance says the right word.
counting_stamps: ContextVar[bool] = ContextVar("counting_stamps", default=False)


def points(count: int) -> str:
    if counting_stamps.get():
        return ngettext("{count} stamp", "{count} stamps", count, count=number(count))
    return ngettext("{count} point", "{count} points", count, count=number(count))


def signed_points(amount: int) -> str:
    """+5 points, -5 points (a booking's change)."""
    return ("+" if amount >= 0 else "-") + points(abs(amount))


def when(moment: datetime, zone: ZoneInfo) -> str:
    return format_datetime(moment.astimezone(zone), format="short", locale=locale())
