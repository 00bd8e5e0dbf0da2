"""Words every role's texts share: names, tiers, rewards, offers, and how an operation ended."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.desk import Outcome
from bot.domain.program.model import BUILTIN_TIER_NAMES, Program
from bot.domain.program.rules import stamp_rewards
from bot.i18n import _, ngettext
from bot.texts.numbers import format_decimal_hundredths, locale, money, number, points
from storage import Customer, Offer, OfferKind

if TYPE_CHECKING:
    from bot.domain.standing import Standing


def stale_button() -> str:
    """A press on a button that no longer means anything (forged, outdated or foreign)."""
    return _("This button is no longer valid.")


def tier_name(name: str) -> str:
    # Built-in tier names are translated; names the owner made up are shown as written.
    return _(name) if name in BUILTIN_TIER_NAMES else name


def holder_name(customer: Customer) -> str:
    return customer.name or _("Customer")


def customer_name(customer: Customer) -> str:
    """The holder's name, escaped for an HTML message."""
    return escape(holder_name(customer))


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


def outcome_text(outcome: Outcome) -> str:
    return {
        Outcome.ALREADY: _("Already done: this operation was booked once."),
        Outcome.EXPIRED: _("This confirmation has expired. Nothing was booked."),
        Outcome.CLOSED: _("This operation was cancelled. Nothing was booked."),
        Outcome.FORBIDDEN: _("This button is not yours."),
        Outcome.UNKNOWN: stale_button(),
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
