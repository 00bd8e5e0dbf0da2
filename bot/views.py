"""Texts the bot shows, built from domain records in the current update's language."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from html import escape, unescape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import (
    NumberPattern,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_pattern,
)

from bot.domain.desk import Outcome
from bot.domain.parsing import mask_phone
from bot.domain.program.model import BUILTIN_TIER_NAMES, Earning, Program, TierWindow
from bot.domain.program.rules import points_value_minor, stamp_rewards
from bot.domain.tokens import format_card_number
from bot.i18n import _, ngettext
from bot.media.card import CardView
from storage import (
    Customer,
    EntryKind,
    ExpiringPoints,
    LedgerEntry,
    Offer,
    OfferKind,
    Operation,
)

if TYPE_CHECKING:
    from bot.domain.standing import Standing


def locale() -> str:
    return I18n.get_current().current_locale


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


# Stamp programs count stamps where others count points; set per update (and per job) from
# the program in force, so every text that shows a balance says the right word.
counting_stamps: ContextVar[bool] = ContextVar("counting_stamps", default=False)


def points(count: int) -> str:
    if counting_stamps.get():
        return ngettext("{count} stamp", "{count} stamps", count, count=number(count))
    return ngettext("{count} point", "{count} points", count, count=number(count))


def stamp_row(program: Program, stamps: int) -> str:
    """Filled and empty circles for the stamps towards the next reward."""
    size = program.stamps_for_reward
    filled = size if stamps >= size else stamps % size
    return "●" * filled + "○" * (size - filled)


def reward_text(program: Program) -> str:
    """What a full stamp card pays for, in the customer's language."""
    if program.stamp_reward:
        return escape(program.stamp_reward)
    return _("{amount} off your bill", amount=money(program.stamp_reward_discount_minor))


def tier_name(name: str) -> str:
    # Built-in tier names are translated; names the owner made up are shown as written.
    return _(name) if name in BUILTIN_TIER_NAMES else name


def holder_name(customer: Customer) -> str:
    return customer.name or _("Customer")


def progress_text(program: Program, customer: Customer, standing: Standing | None) -> str:
    """One line on what comes next: the stamp reward, or the next tier."""
    if program.stamps:
        rewards = stamp_rewards(program, customer.balance)
        if rewards:
            return _("Reward ready: {reward}. Ask at the till!", reward=reward_text(program))
        left = program.stamps_for_reward - customer.balance % program.stamps_for_reward
        return ngettext(
            "{count} more stamp to {reward}.",
            "{count} more stamps to {reward}.",
            left,
            count=number(left),
            reward=reward_text(program),
        )
    if standing is None or standing.next is None:
        return ""
    tier, missing = standing.next
    return _(
        "Spend {amount} more to reach {tier}.", amount=money(missing), tier=tier_name(tier.name)
    )


def card_view(
    customer: Customer, program: Program, standing: Standing, shop_name: str, link: str
) -> CardView:
    progress = progress_text(program, customer, standing)
    return CardView(
        shop_name=shop_name,
        holder=holder_name(customer),
        card_number=format_card_number(customer.card_number),
        balance=points(customer.balance),
        tier=tier_name(standing.tier.name),
        link=link,
        label_holder=_("Card holder"),
        label_number=_("Card number"),
        label_balance=_("Balance"),
        label_tier=_("Stamps") if program.stamps else _("Tier"),
        footer=unescape(progress)
        or _("Show this QR code at the till to collect and spend points."),
        stamps=(
            f"{min(customer.balance, program.stamps_for_reward)}/{program.stamps_for_reward}"
            if program.stamps
            else ""
        ),
    )


def card_caption(customer: Customer, program: Program, standing: Standing, shop_name: str) -> str:
    if program.stamps:
        text = _(
            "<b>{shop}</b> loyalty card\n"
            "Card number: <code>{number}</code>\n"
            "Stamps: {row} ({stamps})",
            shop=escape(shop_name),
            number=format_card_number(customer.card_number),
            row=stamp_row(program, customer.balance),
            stamps=points(customer.balance),
        )
    else:
        text = _(
            "<b>{shop}</b> loyalty card\n"
            "Card number: <code>{number}</code>\n"
            "Balance: <b>{balance}</b>\n"
            "Tier: {tier}",
            shop=escape(shop_name),
            number=format_card_number(customer.card_number),
            balance=points(customer.balance),
            tier=escape(tier_name(standing.tier.name)),
        )
    progress = progress_text(program, customer, standing)
    if progress:
        text += "\n" + progress
    return text + "\n\n" + _("Show the QR code at the till, or tell the cashier your card number.")


def balance_text(
    customer: Customer, program: Program, standing: Standing, expiring: ExpiringPoints | None
) -> str:
    if program.stamps:
        text = _(
            "Your stamps: {row} ({stamps})",
            row=stamp_row(program, customer.balance),
            stamps=points(customer.balance),
        )
    else:
        text = _(
            "Your balance: <b>{balance}</b>\nTier: {tier}",
            balance=points(customer.balance),
            tier=escape(tier_name(standing.tier.name)),
        )
        multiplier = standing.tier.multiplier_hundredths
        if multiplier != 100:
            text += " · " + _(
                "points \u00d7{multiplier}", multiplier=format_decimal_hundredths(multiplier)
            )
    progress = progress_text(program, customer, standing)
    if progress:
        text += "\n" + progress
    if expiring is not None:
        text += "\n" + _(
            "{points} expire on {date}.",
            points=points(expiring.points),
            date=format_date(expiring.expires_at, format="long", locale=locale()),
        )
    return text


def format_decimal_hundredths(value: int) -> str:
    """150 -> "1.5", 200 -> "2" in the current language's notation."""
    formats = number_formats(locale())
    return formats.integer.apply(Decimal(value) / 100, formats.locale)


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
        EntryKind.DONATION: _("Donation"),
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


def staff_view_text(customer: Customer, program: Program, standing: Standing) -> str:
    if program.stamps:
        status = _(
            "Stamps: {row} ({stamps})",
            row=stamp_row(program, customer.balance),
            stamps=points(customer.balance),
        )
        rewards = stamp_rewards(program, customer.balance)
        if rewards:
            status += "\n" + _("🎁 Reward ready: {reward}", reward=reward_text(program))
    else:
        status = _(
            "Tier: {tier} · Balance: <b>{balance}</b> (worth {worth})",
            tier=escape(tier_name(standing.tier.name)),
            balance=points(customer.balance),
            worth=money(points_value_minor(program, customer.balance)),
        )
    return _(
        "👤 <b>{name}</b>\n"
        "Card: <code>{number}</code> · Phone: {phone}\n"
        "{status}\n\n"
        "Type the purchase amount, or choose an action:",
        name=escape(holder_name(customer)),
        number=format_card_number(customer.card_number),
        phone=mask_phone(customer.phone),
        status=status,
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


# --- the program in plain words -----------------------------------------------------------


def program_text(program: Program, for_owner: bool) -> str:
    """The rules in force, for customers in plain words; owners also see the file's keys."""
    lines = [_("<b>How our loyalty program works</b>")]
    if program.earning is Earning.STAMPS:
        lines.append(
            _(
                "Get a stamp for every visit. Collect {stamps} for {reward}.",
                stamps=points(program.stamps_for_reward),
                reward=reward_text(program),
            )
        )
    elif program.earning is Earning.CASHBACK:
        lines.append(
            _(
                "{percent}% of every purchase comes back to you as points, each worth {value}.",
                percent=format_decimal_hundredths(program.cashback_hundredths),
                value=money(program.point_value_minor),
            )
        )
    else:
        lines.append(
            _(
                "Every {unit} you spend earns {rate} points (rounded down).",
                unit=money(100),
                rate=format_decimal_hundredths(program.earn_rate_hundredths),
            )
        )
    if program.min_purchase_minor:
        lines.append(_("Purchases from {amount} count.", amount=money(program.min_purchase_minor)))
    if program.visit_cooldown:
        minutes = int(program.visit_cooldown.total_seconds() // 60)
        lines.append(
            ngettext(
                "One visit counts every {count} minute.",
                "One visit counts every {count} minutes.",
                minutes,
                count=number(minutes),
            )
        )
    if program.daily_cap:
        lines.append(_("You can earn up to {cap} a day.", cap=points(program.daily_cap)))
    if not program.stamps:
        lines.append(
            _(
                "{points} take {value} off a bill; points can pay up to {share}% of it.",
                points=points(100),
                value=money(points_value_minor(program, 100)),
                share=number(program.max_redeem_share),
            )
        )
        if program.rewards:
            rewards = ", ".join(
                f"{escape(reward.name)} ({points(reward.cost)})" for reward in program.rewards
            )
            lines.append(_("Rewards: {rewards}.", rewards=rewards))
    if len(program.tiers) > 1:
        lines.append(
            _("<b>Levels</b>, by what you spend in 12 months:")
            if program.tier_window is TierWindow.ROLLING
            else _("<b>Levels</b>, by all you have ever spent:")
        )
        for tier in program.tiers:
            parts = [_("from {amount}", amount=money(tier.spend_minor))]
            if tier.multiplier_hundredths != 100 and not program.stamps:
                parts.append(
                    _(
                        "points \u00d7{multiplier}",
                        multiplier=format_decimal_hundredths(tier.multiplier_hundredths),
                    )
                )
            if tier.max_redeem_share is not None and not program.stamps:
                parts.append(
                    _("pay up to {share}% with points", share=number(tier.max_redeem_share))
                )
            lines.append(f"• {escape(tier_name(tier.name))}: " + ", ".join(parts))
    if program.welcome_bonus:
        lines.append(_("Welcome gift: {points}.", points=points(program.welcome_bonus)))
    if program.birthday_bonus:
        lines.append(_("Birthday gift: {points}.", points=points(program.birthday_bonus)))
    if program.expiry_days:
        lines.append(
            ngettext(
                "Points expire {count} day after you earn them; we remind you before.",
                "Points expire {count} days after you earn them; we remind you before.",
                program.expiry_days,
                count=number(program.expiry_days),
            )
        )
    if program.referrals:
        lines.append(
            _(
                "Invite friends with /invite: when a friend's first purchase reaches {amount}, "
                "you get {bonus} and your friend {friend_bonus}.",
                amount=money(program.referral_min_purchase_minor),
                bonus=points(program.referral_bonus),
                friend_bonus=points(program.referral_friend_bonus),
            )
        )
    if program.cause:
        lines.append(
            _("Give back: donate points to {cause} with /give.", cause=escape(program.cause))
        )
    if for_owner:
        lines.append(
            _(
                "To change the rules, edit the program file (PROGRAM_FILE) and restart the "
                "bot. Points already earned keep their rules and expiry."
            )
        )
    return "\n".join(lines)


def giving_text(program: Program, customer: Customer, total: int) -> str:
    return _(
        "<b>Give back: {cause}</b>\n"
        "Together our customers have given {total}.\n"
        "You have {balance}. How many would you like to give? Type a number.",
        cause=escape(program.cause),
        total=points(total),
        balance=points(customer.balance),
    )


def outcome_text(outcome: Outcome) -> str:
    return {
        Outcome.ALREADY: _("Already done: this operation was booked once."),
        Outcome.EXPIRED: _("This confirmation has expired. Nothing was booked."),
        Outcome.CLOSED: _("This operation was cancelled. Nothing was booked."),
        Outcome.FORBIDDEN: _("This button is not yours."),
        Outcome.UNKNOWN: _("This button is no longer valid."),
        Outcome.INSUFFICIENT: _("Not enough points any more. Nothing was booked."),
        Outcome.NOTHING_LEFT: _("This operation has already been refunded in full."),
        Outcome.OFFER_GONE: _("This offer is no longer available. Nothing was booked."),
        Outcome.OVER_LIMIT: _("More points than this bill may take now. Nothing was booked."),
        Outcome.BOOKED: _("Done."),
    }[outcome]


def offer_reward(offer: Offer) -> str:
    """What an offer gives, in the current language."""
    if offer.kind is OfferKind.PERCENT:
        return _("{percent}% off", percent=number(offer.value))
    if offer.kind is OfferKind.DISCOUNT:
        return _("{amount} off", amount=money(offer.value))
    if offer.kind is OfferKind.POINTS:
        return _("+{points} with a purchase", points=points(offer.value))
    if offer.kind is OfferKind.MULTIPLIER:
        return _(
            "points \u00d7{multiplier} on a purchase",
            multiplier=format_decimal_hundredths(offer.value),
        )
    return _("free: {item}", item=escape(offer.title))


def offer_line(offer: Offer, zone: ZoneInfo) -> str:
    return _(
        "🏷 <b>{title}</b>: {reward}, until {date}",
        title=escape(offer.title),
        reward=offer_reward(offer),
        date=format_date(offer.valid_until.astimezone(zone), format="medium", locale=locale()),
    )


def offers_text(offers: list[Offer], zone: ZoneInfo) -> str:
    if not offers:
        return _("You have no offers right now. We will let you know when there is one.")
    lines = [_("<b>Your offers</b> (show your card at the till to use one):")]
    lines += [offer_line(offer, zone) for offer in offers]
    return "\n".join(lines)
