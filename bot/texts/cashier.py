"""What cashiers read at the desk: the open customer, drafts to confirm, results, the shift."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.desk import Outcome
from bot.domain.parsing import AmountError, mask_phone
from bot.domain.program.model import Program
from bot.domain.program.rules import Earned, EarnNote, points_value_minor, stamp_rewards
from bot.domain.tokens import format_card_number
from bot.i18n import _
from bot.texts.common import customer_name, reward_text, stamp_row, tier_name
from bot.texts.numbers import money, number, points, signed_points, when
from storage import Booking, Customer, EntryKind, LedgerEntry, Operation
from storage.records import InviteOutcome, PendingOperation

if TYPE_CHECKING:
    from bot.domain.standing import Standing


def invite_outcome_text(outcome: InviteOutcome) -> str:
    return {
        InviteOutcome.JOINED: _(
            "Welcome to the team! You are now a cashier. Scan a customer's card with your "
            "phone camera, send a photo of it, or type the card number or phone number."
        ),
        InviteOutcome.ALREADY_STAFF: _("You are a cashier already."),
        InviteOutcome.USED: _("This invite has already been used. Ask the owner for a new one."),
        InviteOutcome.EXPIRED: _("This invite has expired. Ask the owner for a new one."),
        InviteOutcome.UNKNOWN: _("This invite is not valid. Ask the owner for a new one."),
    }[outcome]


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
        name=customer_name(customer),
        number=format_card_number(customer.card_number),
        phone=mask_phone(customer.phone),
        status=status,
    )


def amount_error_text(error: AmountError, program: Program) -> str:
    texts = {
        "format": _("Please type an amount like 12.50 (digits, one dot or comma)."),
        "decimals": _("At most two digits after the separator, like 12.50."),
        "zero": _("The amount must be more than zero."),
        "too_large": _(
            "That is more than the limit of {limit}. Please check the amount.",
            limit=money(program.max_purchase_minor),
        ),
    }
    return texts[error.reason]


def earn_note_text(program: Program, zone: ZoneInfo, earned: Earned) -> str:
    """Why a purchase earns less than its bill would, for the cashier; empty when it doesn't."""
    if earned.note is EarnNote.BELOW_MINIMUM:
        return _(
            "This amount is below the minimum purchase of {minimum}, so it earns no points.",
            minimum=money(program.min_purchase_minor),
        )
    if earned.note is EarnNote.COOLDOWN and earned.next_visit_at is not None:
        return _(
            "This visit does not count: the last one was too recent. Visits count again "
            "from {time}.",
            time=when(earned.next_visit_at, zone),
        )
    if earned.note is EarnNote.DAILY_CAP:
        return _(
            "The daily limit of {cap} per customer is reached, so this purchase earns less.",
            cap=points(program.daily_cap),
        )
    return ""


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


def waiting_text(customer: Customer, amount: int, worth: int, reward: str | None) -> str:
    """The cashier's message while the customer decides on a spending request."""
    if reward is not None:
        return _(
            "Waiting for {name} to confirm spending {points} on {reward}…",
            name=customer_name(customer),
            points=points(amount),
            reward=escape(reward),
        )
    return _(
        "Waiting for {name} to confirm spending {points} ({worth} off)…",
        name=customer_name(customer),
        points=points(amount),
        worth=money(worth),
    )


def spending_result(
    outcome: Outcome, operation: PendingOperation, name: str, worth: int, balance: int
) -> str:
    """The cashier's waiting message once the request is settled; `name` is escaped."""
    amount = operation.points
    if outcome is Outcome.BOOKED and operation.reward:
        return _(
            "✅ {name} confirmed: <b>-{points}</b>. Give: <b>{reward}</b>. Balance now {balance}.",
            name=name,
            points=points(amount),
            reward=escape(operation.reward),
            balance=points(balance),
        )
    if outcome is Outcome.BOOKED:
        return _(
            "✅ {name} confirmed: <b>-{points}</b>. Take {worth} off the bill. "
            "Balance now {balance}.",
            name=name,
            points=points(amount),
            worth=money(worth),
            balance=points(balance),
        )
    if outcome is Outcome.EXPIRED:
        return _("⌛ The customer did not answer in time. Nothing was booked.")
    if outcome is Outcome.INSUFFICIENT:
        return _("✖ Not enough points any more. Nothing was booked.")
    if outcome is Outcome.OVER_LIMIT:
        return _("✖ More points than this bill may take now. Nothing was booked.")
    return _("✖ Spending was declined or cancelled. Nothing was booked.")


def booked_text(booking: Booking, customer: Customer) -> str:
    """The cashier's (or owner's) confirmation, once the entry is booked."""
    entry = booking.entry
    if entry.kind is EntryKind.ADJUST:
        return _(
            "Done: {change} for {name} ({reason}). Balance now {balance}.",
            change=signed_points(entry.amount),
            name=customer_name(customer),
            reason=escape(entry.reason),
            balance=points(booking.balance),
        )
    if entry.kind is EntryKind.PURCHASE:
        return _(
            "✅ Booked: purchase {bill}, <b>+{points}</b>. {name} now has {balance}.",
            bill=money(entry.bill_minor or 0),
            points=points(entry.amount),
            name=customer_name(customer),
            balance=points(booking.balance),
        )
    text = _(
        "✅ Booked: {change} for {name}. Balance now {balance}.",
        change=signed_points(entry.amount),
        name=customer_name(customer),
        balance=points(booking.balance),
    )
    if entry.shortfall:
        text += "\n" + _(
            "{points} had already been spent or had expired, and could not be taken back.",
            points=points(entry.shortfall),
        )
    return text


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
