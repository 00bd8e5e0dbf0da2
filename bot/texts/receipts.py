"""What customers are told about their card from elsewhere: receipts of what the desk
booked, spending requests and how they ended, a new tier, news about their invitations."""

from __future__ import annotations

from html import escape

from bot.domain.desk import Outcome
from bot.domain.program.model import Program, Tier
from bot.i18n import _
from bot.texts.common import progress_text, tier_name
from bot.texts.numbers import format_decimal_hundredths, money, points, signed_points
from storage import Booking, Customer, EntryKind


def receipt_text(shop_name: str, program: Program, booking: Booking, customer: Customer) -> str:
    """The customer's receipt for a booking made by someone else; `customer` is the record
    as it stands after the booking."""
    entry = booking.entry
    shop = escape(shop_name)
    if entry.kind is EntryKind.ADJUST:
        return _(
            "{change} on your {shop} card: {reason}. Balance: <b>{balance}</b>.",
            change=signed_points(entry.amount),
            shop=shop,
            reason=escape(entry.reason),
            balance=points(booking.balance),
        )
    if entry.kind is EntryKind.PURCHASE:
        text = _(
            "<b>+{points}</b> at {shop} for your purchase of {bill}. Balance: <b>{balance}</b>.",
            points=points(entry.amount),
            shop=shop,
            bill=money(entry.bill_minor or 0),
            balance=points(booking.balance),
        )
        if program.stamps:
            text += "\n" + progress_text(program, customer, None)
        return text
    return _(
        "{change} at {shop}: a refund or correction. Balance: <b>{balance}</b>.",
        change=signed_points(entry.amount),
        shop=shop,
        balance=points(booking.balance),
    )


def upgrade_text(shop_name: str, program: Program, tier: Tier) -> str:
    text = _(
        "🎉 Congratulations! You have reached <b>{tier}</b> at {shop}.",
        tier=escape(tier_name(tier.name)),
        shop=escape(shop_name),
    )
    if tier.multiplier_hundredths != 100 and not program.stamps:
        text += " " + _(
            "From now on every purchase earns {multiplier} times the points.",
            multiplier=format_decimal_hundredths(tier.multiplier_hundredths),
        )
    return text


def spending_request(shop_name: str, amount: int, worth: int, reward: str | None) -> str:
    """The question a customer answers before any of their points are spent."""
    if reward is not None:
        return _(
            "Spend <b>{points}</b> at {shop} on <b>{reward}</b>? "
            "This request is valid for 2 minutes.",
            points=points(amount),
            shop=escape(shop_name),
            reward=escape(reward),
        )
    return _(
        "Spend <b>{points}</b> at {shop} to take <b>{worth}</b> off your bill? "
        "This request is valid for 2 minutes.",
        points=points(amount),
        shop=escape(shop_name),
        worth=money(worth),
    )


def spending_result(outcome: Outcome, amount: int, balance: int) -> str:
    """The customer's request once settled."""
    if outcome is Outcome.BOOKED:
        return _(
            "✅ You spent {points}. Balance: <b>{balance}</b>.",
            points=points(amount),
            balance=points(balance),
        )
    if outcome is Outcome.EXPIRED:
        return _("This request has expired. Your points were not spent.")
    if outcome is Outcome.INSUFFICIENT:
        return _("You do not have enough points for this any more.")
    if outcome is Outcome.OVER_LIMIT:
        return _("This is more points than this bill may take now. Your points were not spent.")
    return _("Spending request closed. Your points were not spent.")


# --- referrals ----------------------------------------------------------------------------


def friend_gift_text(gift: Booking) -> str:
    return _(
        "🎁 Your first purchase unlocked your invitation gift: <b>+{points}</b>. "
        "Balance: {balance}.",
        points=points(gift.entry.amount),
        balance=points(gift.balance),
    )


def referrer_bonus_text(friend_name: str, shop_name: str, bonus: Booking) -> str:
    """`friend_name` is escaped."""
    return _(
        "🎉 Your friend {name} made their first purchase at {shop}: "
        "<b>+{points}</b> for you. Balance: {balance}.",
        name=friend_name,
        shop=escape(shop_name),
        points=points(bonus.entry.amount),
        balance=points(bonus.balance),
    )


def referral_capped_text(friend_name: str) -> str:
    """`friend_name` is escaped."""
    return _(
        "Your friend {name} made their first purchase. You have reached this "
        "month's limit of paid invitations, so this one earns no points. Thank you "
        "for spreading the word!",
        name=friend_name,
    )


def referral_taken_back_text(taken: Booking) -> str:
    return _(
        "The purchase that earned an invitation gift was refunded, so the gift "
        "({points}) was taken back. Balance: {balance}.",
        points=points(taken.entry.shortfall - taken.entry.amount),
        balance=points(taken.balance),
    )
