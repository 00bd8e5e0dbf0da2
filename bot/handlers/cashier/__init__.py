"""The cashier's desk: invites accepted, the four ways to find a customer, purchase, spend,
refund, the Confirm buttons, /shift. Owners work the desk too (the role check admits them)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter

from bot.domain.tokens import LinkKind
from bot.handlers.cashier import confirm, invite, lookup, purchase, redeem, refund, shift
from bot.handlers.cashier.invite import StartLink
from bot.handlers.cashier.view import Desk
from bot.keyboards.cashier import DeskCb, OfferCb, PickCb, RewardCb
from bot.keyboards.common import OpCb
from bot.keyboards.imports import WalkInCb
from bot.telegram.filters import OnLoop
from bot.telegram.roles import HasRole, Role


def build_router() -> Router:
    """Every filter here is narrow (role, desk state, link kind): what the desk does not
    take falls through to the customers' routers. The order is the order updates try."""
    router = Router(name="staff")
    staff_only = HasRole(Role.CASHIER)
    router.message.register(
        invite.accept_invite, CommandStart(deep_link=True), StartLink(LinkKind.STAFF_INVITE)
    )
    router.message.register(
        lookup.scanned_link, CommandStart(deep_link=True), StartLink(LinkKind.CARD), staff_only
    )
    router.message.register(lookup.scanned_photo, OnLoop(F.photo), staff_only)
    # Typed text: a card number or phone anywhere, an amount once a customer is open.
    router.message.register(lookup.typed, OnLoop(F.text.regexp(lookup.LOOKUP_PATTERN)), staff_only)
    router.message.register(lookup.typed, OnLoop(F.text.regexp(lookup.LEGACY_PATTERN)), staff_only)
    not_command = OnLoop(F.text & ~F.text.startswith("/"))
    for step in (Desk.refund_amount, Desk.redeem_points, Desk.redeem_bill, Desk.customer):
        router.message.register(lookup.typed, StateFilter(step), not_command, staff_only)
    router.callback_query.register(purchase.offer_chosen, OfferCb.filter(), staff_only)
    router.callback_query.register(lookup.desk_action, DeskCb.filter(), staff_only)
    router.callback_query.register(lookup.walk_in, WalkInCb.filter(), staff_only)
    router.callback_query.register(redeem.reward_picked, RewardCb.filter(), staff_only)
    router.callback_query.register(refund.picked, PickCb.filter(), staff_only)
    router.callback_query.register(confirm.staff_decides, OpCb.filter(), staff_only)
    router.message.register(shift.shift, Command("shift"), staff_only)
    return router
