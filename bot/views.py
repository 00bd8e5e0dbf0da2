"""Texts the bot shows, built from domain records in the current update's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, parse_pattern

from bot.card import CardView
from bot.i18n import _, ngettext
from bot.phones import mask_phone
from bot.program import BUILTIN_TIER_NAMES, Program, points_value_minor
from bot.tokens import format_card_number
from storage import Customer, EntryKind, LedgerEntry, Operation


def locale() -> str:
    return I18n.get_current().current_locale


@cache
def number_formats(code: str) -> tuple[Locale, NumberPattern, NumberPattern]:
    """A locale's integer and money patterns, parsed once: every reply shows several numbers."""
    parsed = Locale.parse(code)
    return parsed, parsed.decimal_formats[None], parse_pattern("#,##0.00")


def number(value: int) -> str:
    parsed, integer, _money = number_formats(locale())
    return integer.apply(value, parsed)


def money(minor: int) -> str:
    parsed, _integer, pattern = number_formats(locale())
    return pattern.apply(Decimal(minor) / 100, parsed)


def points(count: int) -> str:
    return ngettext("{count} point", "{count} points", count, count=number(count))


def tier_name(name: str) -> str:
    # Built-in tier names are translated; names the owner made up are shown as written.
    return _(name) if name in BUILTIN_TIER_NAMES else name


def holder_name(customer: Customer) -> str:
    return customer.name or _("Customer")


def card_view(customer: Customer, program: Program, shop_name: str, link: str) -> CardView:
    return CardView(
        shop_name=shop_name,
        holder=holder_name(customer),
        card_number=format_card_number(customer.card_number),
        balance=points(customer.balance),
        tier=tier_name(program.tier_for(0).name),
        link=link,
        label_holder=_("Card holder"),
        label_number=_("Card number"),
        label_balance=_("Balance"),
        label_tier=_("Tier"),
        footer=_("Show this QR code at the till to collect and spend points."),
    )


def card_caption(customer: Customer, program: Program, shop_name: str) -> str:
    return _(
        "<b>{shop}</b> loyalty card\n"
        "Card number: <code>{number}</code>\n"
        "Balance: <b>{balance}</b>\n"
        "Tier: {tier}\n\n"
        "Show the QR code at the till, or tell the cashier your card number.",
        shop=escape(shop_name),
        number=format_card_number(customer.card_number),
        balance=points(customer.balance),
        tier=escape(tier_name(program.tier_for(0).name)),
    )


def balance_text(customer: Customer, program: Program) -> str:
    return _(
        "Your balance: <b>{balance}</b>\nTier: {tier}",
        balance=points(customer.balance),
        tier=escape(tier_name(program.tier_for(0).name)),
    )


def entry_label(kind: EntryKind) -> str:
    labels = {
        EntryKind.WELCOME: _("Welcome bonus"),
        EntryKind.PURCHASE: _("Purchase"),
        EntryKind.REDEEM: _("Points spent"),
        EntryKind.REFUND: _("Refund"),
        EntryKind.ADJUST: _("Adjustment"),
        EntryKind.BIRTHDAY: _("Birthday bonus"),
        EntryKind.REFERRAL: _("Referral bonus"),
        EntryKind.EXPIRE: _("Points expired"),
    }
    return labels[kind]


def when(moment: datetime, zone: ZoneInfo) -> str:
    return format_datetime(moment.astimezone(zone), format="short", locale=locale())


def history_text(entries: list[LedgerEntry], page: int, pages: int, zone: ZoneInfo) -> str:
    if not entries:
        return _("No points yet. Show your card at the till to start collecting.")
    lines = [_("<b>Your points history</b> (page {page} of {pages})", page=page + 1, pages=pages)]
    for entry in entries:
        sign = "+" if entry.amount > 0 else "\u2212" if entry.amount < 0 else ""
        line = f"{when(entry.created_at, zone)} · <b>{sign}{number(abs(entry.amount))}</b> · "
        line += entry_label(entry.kind)
        if entry.bill_minor is not None:
            line += " · " + _("bill {amount}", amount=money(entry.bill_minor))
        lines.append(line)
    return "\n".join(lines)


def birthday_text(born: date | None) -> str:
    if born is None:
        return _("not set")
    return format_date(born, format="long", locale=locale())


# --- the cashier's desk -------------------------------------------------------------------


def staff_view_text(customer: Customer, program: Program) -> str:
    return _(
        "👤 <b>{name}</b>\n"
        "Card: <code>{number}</code> · Phone: {phone}\n"
        "Tier: {tier} · Balance: <b>{balance}</b> (worth {worth})\n\n"
        "Type the purchase amount, or choose an action:",
        name=escape(holder_name(customer)),
        number=format_card_number(customer.card_number),
        phone=mask_phone(customer.phone),
        tier=escape(tier_name(program.tier_for(0).name)),
        balance=points(customer.balance),
        worth=money(points_value_minor(program, customer.balance)),
    )


def operation_label(operation: Operation, zone: ZoneInfo) -> str:
    entry = operation.entry
    moment = when(entry.created_at, zone)
    if entry.kind is EntryKind.REDEEM:
        return _("{when} · spent {points}", when=moment, points=points(-entry.amount))
    return _(
        "{when} · purchase {amount} · {points}",
        when=moment,
        amount=money(operation.open_minor),
        points=points(operation.open_points),
    )


def shift_text(entries: list[LedgerEntry]) -> str:
    purchases = [e for e in entries if e.kind is EntryKind.PURCHASE]
    redeemed = [e for e in entries if e.kind is EntryKind.REDEEM]
    refunds = [e for e in entries if e.kind is EntryKind.REFUND]
    return _(
        "<b>Your shift today</b>\n"
        "Purchases: {purchases} for {sales}, {issued} given\n"
        "Points spent: {redeemed_count} times, {redeemed}\n"
        "Refunds and undos: {refunds}",
        purchases=number(len(purchases)),
        sales=money(sum(e.bill_minor or 0 for e in purchases)),
        issued=points(sum(e.amount for e in purchases)),
        redeemed_count=number(len(redeemed)),
        redeemed=points(-sum(e.amount for e in redeemed)),
        refunds=number(len(refunds)),
    )
