"""What owners read: the team, referrals, promotion and offer results."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from bot.domain.insights import percent
from bot.domain.marks import N_
from bot.i18n import _
from bot.texts.common import customer_name
from bot.texts.numbers import money, number, when
from storage import (
    FlaggedReferral,
    GroupResponse,
    Offer,
    OfferKind,
    OfferResults,
    ReferrerRow,
    StaffInvite,
    StaffMember,
)

# How long after sending a promotion's results are counted.
RESULT_DAYS = 14


def link_tail(payload: str) -> str:
    """Enough of an invite link to tell it from the others, too little to use it."""
    return payload[-4:]


def staff_text(members: list[StaffMember], invites: list[StaffInvite], zone: ZoneInfo) -> str:
    if members:
        lines = "\n".join(f"• {escape(m.name or str(m.telegram_id))}" for m in members)
        text = _("<b>Cashiers</b>\n{list}", list=lines)
    else:
        text = _("<b>Cashiers</b>\nNobody yet. Invite your first cashier with the button below.")
    if invites:
        links = "\n".join(
            _(
                "• …{tail}: made {made}, valid until {until}",
                tail=link_tail(invite.payload),
                made=when(invite.created_at, zone),
                until=when(invite.expires_at, zone),
            )
            for invite in invites
        )
        text += "\n\n" + _("<b>Invite links not used yet</b>\n{list}", list=links)
    return text


FLAG_TEXTS = {
    "capped": N_("over the monthly cap, not paid"),
    "burst": N_("many friends joined within a day"),
    "shared_phone": N_("shares a phone number with the inviter or another friend"),
    "same_phone": N_("same phone as the inviter, not paid"),
    "own_till": N_("purchase booked by the inviter or the friend themselves, not paid"),
    "referrer_gone": N_("the inviter closed their card, not paid"),
    "existing_customer": N_(
        "the friend claimed a card they already had (plastic or at the till), not paid"
    ),
}


def referral_report(
    joined: int, qualified: int, top: list[ReferrerRow], flagged: list[FlaggedReferral]
) -> str:
    if not joined:
        return _("<b>Referrals</b>\nNo friend has joined through an invitation yet.")
    lines = [
        _(
            "<b>Referrals</b>\nFriends joined: {joined} · made a qualifying purchase: "
            "{qualified} ({share}%)",
            joined=number(joined),
            qualified=number(qualified),
            share=number(qualified * 100 // joined),
        ),
        "",
        _("<b>Top inviters</b>"),
    ]
    for index, row in enumerate(top, start=1):
        lines.append(
            _(
                "{place}. {name}: {joined} joined, {qualified} qualified",
                place=index,
                name=customer_name(row.customer),
                joined=number(row.joined),
                qualified=number(row.qualified),
            )
            + (" · " + _("{count} over the cap", count=number(row.capped)) if row.capped else "")
        )
    if flagged:
        lines += ["", _("<b>To look at</b>")]
        for case in flagged:
            flag = case.referral.reason if case.flag == "rejected" else case.flag
            lines.append(
                f"• {customer_name(case.friend)} ← {customer_name(case.referrer)}: "
                + _(FLAG_TEXTS.get(flag, FLAG_TEXTS["burst"]))
            )
    return "\n".join(lines)


# --- promotions -----------------------------------------------------------------------------


def share_text(group: GroupResponse) -> str:
    rate = group.visitors * 100 / group.customers if group.customers else 0
    average = group.spend_minor // group.customers if group.customers else 0
    return _(
        "{customers} customers · {visitors} came back ({rate}%) · {average} spent on average",
        customers=number(group.customers),
        visitors=number(group.visitors),
        rate=f"{rate:.1f}",
        average=money(average),
    )


def promotion_results(broadcast_id: int, receivers: GroupResponse, holdout: GroupResponse) -> str:
    lines = [
        _(
            "<b>Promotion #{id}: the {days} days after sending</b>",
            id=broadcast_id,
            days=RESULT_DAYS,
        ),
        _("Received it: {line}", line=share_text(receivers)),
    ]
    if holdout.customers:
        lines.append(_("Held out: {line}", line=share_text(holdout)))
        got = receivers.visitors / receivers.customers if receivers.customers else 0
        held = holdout.visitors / holdout.customers
        lines.append(
            _(
                "Uplift: {points} percentage points more customers came back because of it.",
                points=f"{(got - held) * 100:+.1f}",
            )
        )
    else:
        lines.append(_("Keep a holdout next time to see how many would have come back anyway."))
    return "\n".join(lines)


# --- offers ---------------------------------------------------------------------------------


def offer_kind_labels() -> list[tuple[str, str]]:
    return [
        (OfferKind.PERCENT.value, _("% off the bill")),
        (OfferKind.DISCOUNT.value, _("A fixed amount off")),
        (OfferKind.POINTS.value, _("Bonus points with a purchase")),
        (OfferKind.MULTIPLIER.value, _("Points multiplier on a purchase")),
        (OfferKind.ITEM.value, _("A free item (the title names it)")),
    ]


def offer_results_text(offer: Offer, results: OfferResults) -> str:
    lines = [
        _("<b>Offer #{id}: {title}</b>", id=offer.id, title=escape(offer.title)),
        _(
            "Given to {granted}, used by {users} ({rate}%), {uses} uses in all.",
            granted=number(results.granted),
            users=number(results.users),
            rate=percent(results.users, results.granted),
            uses=number(results.uses),
        ),
        _(
            "Came to the shop while it was valid: {visitors} of those who got it ({rate}%).",
            visitors=number(results.granted_visitors),
            rate=percent(results.granted_visitors, results.granted),
        ),
    ]
    if results.held_out:
        lines.append(
            _(
                "Of the holdout: {visitors} of {count} ({rate}%).",
                visitors=number(results.holdout_visitors),
                count=number(results.held_out),
                rate=percent(results.holdout_visitors, results.held_out),
            )
        )
    return "\n".join(lines)
