"""What customers read: their card, balance, history, offers, settings, and the welcome."""

from __future__ import annotations

from datetime import date
from html import escape, unescape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.program.model import Program
from bot.domain.tokens import format_card_number
from bot.i18n import _
from bot.media.card import CardView
from bot.texts.common import holder_name, offer_line, progress_text, stamp_row, tier_name
from bot.texts.numbers import format_decimal_hundredths, locale, money, number, points, when
from storage import Customer, EntryKind, ExpiringPoints, LedgerEntry, Offer, ReferralStats

BROUGHT_ALONG = frozenset({EntryKind.IMPORT, EntryKind.CLAIM})

if TYPE_CHECKING:
    from bot.domain.standing import Standing


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
        EntryKind.IMPORT: _("Points from your plastic card"),
        EntryKind.CLAIM: _("Points moved to your card"),
    }
    return labels[kind]


def history_text(entries: list[LedgerEntry], page: int, pages: int, zone: ZoneInfo) -> str:
    if not entries:
        return _("No points yet. Show your card at the till to start collecting.")
    lines = [_("<b>Your points history</b> (page {page} of {pages})", page=page + 1, pages=pages)]
    for entry in entries:
        sign = "+" if entry.amount > 0 else "\u2212" if entry.amount < 0 else ""
        line = f"{when(entry.created_at, zone)} · <b>{sign}{number(abs(entry.amount))}</b> · "
        line += entry_label(entry.kind)
        # Import and claim entries carry lifetime spend brought along, not a bill.
        if entry.bill_minor is not None and entry.kind not in BROUGHT_ALONG:
            line += " · " + _("bill {amount}", amount=money(entry.bill_minor))
        lines.append(line)
    return "\n".join(lines)


def birthday_text(born: date | None) -> str:
    if born is None:
        return _("not set")
    return format_date(born, format="long", locale=locale())


def offers_text(offers: list[Offer], zone: ZoneInfo) -> str:
    if not offers:
        return _("You have no offers right now. We will let you know when there is one.")
    lines = [_("<b>Your offers</b> (show your card at the till to use one):")]
    lines += [offer_line(offer, zone) for offer in offers]
    return "\n".join(lines)


# --- joining ------------------------------------------------------------------------------


def welcome_text(shop_name: str, customer: Customer, program: Program, referred: bool) -> str:
    text = _(
        "Welcome to <b>{shop}</b>! This is your loyalty card: show it at the till "
        "to collect points.",
        shop=escape(shop_name),
    )
    if customer.balance:
        text += "\n" + _(
            "A welcome gift is already on it: {points}.", points=points(customer.balance)
        )
    if referred:
        text += "\n" + referral_welcome(program)
    return text


def referral_welcome(program: Program) -> str:
    return _(
        "You joined on a friend's invitation: after your first purchase of at least {amount}, "
        "you get {bonus} and your friend gets a thank-you too.",
        amount=money(program.referral_min_purchase_minor),
        bonus=points(program.referral_friend_bonus),
    )


def help_text(shop_name: str) -> str:
    return _(
        "<b>{shop}</b> loyalty card\n\n"
        "Show your card's QR code at the till, or tell the cashier your card number "
        "or phone number: points are added to your card with every purchase, and you "
        "can pay with them later. A spending request always comes to this chat first, "
        "so nobody can spend your points without you.\n\n"
        "/card: show your card\n"
        "/balance: your points\n"
        "/history: where your points came from\n"
        "/settings: language, phone number, birthday, promotions\n"
        "/language: change the language\n"
        "/forget: delete your data",
        shop=escape(shop_name),
    )


def invite_page(shop_name: str, program: Program, link: str, stats: ReferralStats) -> str:
    """The customer's invitation page: their link and what it has brought so far."""
    return _(
        "<b>Invite friends to {shop}</b>\n"
        "Your personal link: {link}\n\n"
        "When a friend joins through it and makes a first purchase of at least {amount}, "
        "you get {bonus} and your friend gets {friend_bonus}.\n\n"
        "Friends joined: {joined} · made a purchase: {qualified} · points earned: {points}",
        shop=escape(shop_name),
        link=link,
        amount=money(program.referral_min_purchase_minor),
        bonus=points(program.referral_bonus),
        friend_bonus=points(program.referral_friend_bonus),
        joined=number(stats.joined),
        qualified=number(stats.qualified),
        points=number(stats.points),
    )


def invite_share(shop_name: str) -> str:
    """What friends receive with the link (plain text: Telegram's share page shows it)."""
    return _(
        "Join the {shop} loyalty card in Telegram and get a gift with your first purchase:",
        shop=shop_name,
    )


# --- settings -----------------------------------------------------------------------------


def settings_text(customer: Customer, language: str) -> str:
    """`language`: the name of the language the customer is spoken to in."""
    return _(
        "<b>Settings</b>\nLanguage: {language}\nPhone: {phone}\nBirthday: {birthday}\n"
        "Promotions: {promotions}",
        language=language,
        phone=escape(customer.phone or _("not set")),
        birthday=birthday_text(customer.birthday),
        promotions=_("on") if customer.promotions else _("off"),
    )


def ask_phone_text() -> str:
    return _(
        "Share your phone number so the cashier can find your card by it when you "
        "forget your phone. Tap the button below, or Skip."
    )


def ask_birthday_text() -> str:
    return _(
        "When is your birthday? We will have a gift for you. Type it like 31.12.1990, or tap Skip."
    )


def birthday_format_hint() -> str:
    return _("Please type the date as day.month.year, for example 31.12.1990.")


def birthday_error(reason: str) -> str:
    """Why a typed birthday was refused (`DateError.reason`)."""
    return {
        "format": birthday_format_hint(),
        "calendar": _("There is no such day in the calendar. Please check the date."),
        "future": _("That date is in the future. Please check the year."),
        "past": _("That date is too long ago. Please check the year."),
    }[reason]


def forget_question(customer: Customer) -> str:
    return _(
        "This deletes your name, phone number and birthday and closes your card. "
        "Your {balance} will be lost. Are you sure?",
        balance=points(customer.balance),
    )


def no_card() -> str:
    return _("Send /start to get your card.")
