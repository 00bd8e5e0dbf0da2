"""The cashier's desk: find a customer four ways, book purchases, redemptions and refunds."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace
from html import escape, unescape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import desk, insights, loyalty
from bot import keyboards as kb
from bot.delivery import send_card
from bot.filters import OnLoop
from bot.i18n import _
from bot.middlewares import RateWindow, display_name
from bot.money import AmountError, parse_amount
from bot.notify import edit_for, tell, tell_customer
from bot.program import (
    Earned,
    EarnNote,
    Reward,
    Tier,
    max_redeemable,
    points_value_minor,
    stamp_rewards,
)
from bot.qr import links_in_photo, start_payload
from bot.replies import show
from bot.roles import HasRole, Role
from bot.shop import Shop
from bot.tokens import LinkKind, parse_payload
from bot.views import (
    format_decimal_hundredths,
    money,
    offer_line,
    operation_label,
    outcome_text,
    points,
    progress_text,
    reward_text,
    shift_text,
    staff_view_text,
    tier_name,
    when,
)
from storage import Customer, EntryKind, Offer, ReferralDecision, ReferralStatus
from storage.records import InviteOutcome, PendingOperation, PendingStatus

log = logging.getLogger(__name__)
MAX_PHOTO_BYTES = 10 * 1024 * 1024
REFUND_CHOICES = 6


class Desk(StatesGroup):
    customer = State()  # a customer is open: a typed amount is a purchase
    redeem_bill = State()
    redeem_points = State()
    refund_amount = State()


class StartLink(Filter):
    """A /start whose payload is a well-formed link of the given kind."""

    def __init__(self, kind: LinkKind) -> None:
        self.kind = kind

    async def __call__(self, message: Message, command: CommandObject) -> bool | dict[str, str]:
        link = parse_payload(command.args)
        return {"payload": link[1]} if link and link[0] is self.kind else False


def amount_error_text(error: AmountError, shop: Shop) -> str:
    texts = {
        "format": _("Please type an amount like 12.50 (digits, one dot or comma)."),
        "decimals": _("At most two digits after the separator, like 12.50."),
        "zero": _("The amount must be more than zero."),
        "too_large": _(
            "That is more than the limit of {limit}. Please check the amount.",
            limit=money(shop.program.max_purchase_minor),
        ),
    }
    return texts[error.reason]


def earn_note_text(shop: Shop, earned: Earned) -> str:
    """Why a purchase earns less than its bill would, for the cashier; empty when it doesn't."""
    if earned.note is EarnNote.BELOW_MINIMUM:
        return _(
            "This amount is below the minimum purchase of {minimum}, so it earns no points.",
            minimum=money(shop.program.min_purchase_minor),
        )
    if earned.note is EarnNote.COOLDOWN and earned.next_visit_at is not None:
        return _(
            "This visit does not count: the last one was too recent. Visits count again "
            "from {time}.",
            time=when(earned.next_visit_at, shop.settings.timezone),
        )
    if earned.note is EarnNote.DAILY_CAP:
        return _(
            "The daily limit of {cap} per customer is reached, so this purchase earns less.",
            cap=points(shop.program.daily_cap),
        )
    return ""


async def usable_offer(shop: Shop, customer: Customer, offer_id: int | None) -> Offer | None:
    """The customer's offer with this id if it can be used now; most purchases have none,
    and then nothing is read."""
    if offer_id is None:
        return None
    offers = await shop.storage.offers_for(customer.id, desk.utcnow())
    return next((offer for offer in offers if offer.id == offer_id), None)


def redeem_limit(shop: Shop, customer: Customer, bill: int) -> int:
    return max_redeemable(
        shop.program, customer.balance, bill, loyalty.current_tier(shop.program, customer)
    )


def build_router() -> Router:
    router = Router(name="staff")
    staff_only = HasRole(Role.CASHIER)

    # --- staff invites (anyone may open one) ------------------------------------------------

    @router.message(CommandStart(deep_link=True), StartLink(LinkKind.STAFF_INVITE))
    async def accept_invite(
        message: Message, payload: str, bot: Bot, shop: Shop, role: Role
    ) -> None:
        assert message.from_user
        if role is Role.OWNER:
            await message.answer(_("You are an owner already; this invite stays unused."))
            return
        outcome = await shop.storage.use_invite(
            payload, message.from_user.id, display_name(message.from_user), desk.utcnow()
        )
        texts = {
            InviteOutcome.JOINED: _(
                "Welcome to the team! You are now a cashier. Scan a customer's card with your "
                "phone camera, send a photo of it, or type the card number or phone number."
            ),
            InviteOutcome.ALREADY_STAFF: _("You are a cashier already."),
            InviteOutcome.USED: _(
                "This invite has already been used. Ask the owner for a new one."
            ),
            InviteOutcome.EXPIRED: _("This invite has expired. Ask the owner for a new one."),
            InviteOutcome.UNKNOWN: _("This invite is not valid. Ask the owner for a new one."),
        }
        await message.answer(texts[outcome])
        if outcome is InviteOutcome.JOINED:
            name = escape(display_name(message.from_user))
            for owner in shop.settings.owner_ids:
                await tell(
                    bot,
                    shop,
                    owner,
                    None,
                    lambda: (_("{name} joined as a cashier.", name=name), None),
                )

    # --- finding the customer ---------------------------------------------------------------

    async def open_customer(
        message: Message, shop: Shop, customer: Customer, state: FSMContext
    ) -> None:
        if message.from_user and desk.own_card(message.from_user.id, customer):
            await state.clear()
            await message.answer(
                _(
                    "This is your own card, so you cannot book on it. Ask a colleague to "
                    "serve you; owners correct their own points with /adjust."
                )
            )
            return
        view = secrets.token_urlsafe(6)
        await state.set_state(Desk.customer)
        await state.set_data({"view": view, "customer_id": customer.id})
        standing = await loyalty.standing(shop, customer)
        offers = await shop.storage.offers_for(customer.id, desk.utcnow())
        text = staff_view_text(customer, shop.program, standing)
        if offers:
            text += "\n\n" + "\n".join(
                offer_line(offer, shop.settings.timezone) for offer in offers
            )
        await message.answer(
            text,
            reply_markup=kb.desk_actions(
                view,
                shop.program.stamps,
                [(o.id, _("🏷 Apply: {title}", title=o.title[:30])) for o in offers],
            ),
        )

    @router.message(CommandStart(deep_link=True), StartLink(LinkKind.CARD), staff_only)
    async def scanned_link(
        message: Message, payload: str, bot: Bot, shop: Shop, state: FSMContext
    ) -> None:
        customer = await shop.storage.customer_by_payload(payload)
        if customer is None:
            await message.answer(_("No customer has this card. It may have been closed."))
            return
        if message.from_user and customer.telegram_id == message.from_user.id:
            await send_card(bot, shop, customer, message.chat.id)
            return
        await open_customer(message, shop, customer, state)

    @router.message(OnLoop(F.photo), staff_only)
    async def scanned_photo(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
        assert message.photo
        largest = message.photo[-1]
        if largest.file_size and largest.file_size > MAX_PHOTO_BYTES:
            await message.answer(_("That photo is too large. Please send a smaller one."))
            return
        file = await bot.get_file(largest.file_id)
        data = await bot.download_file(file.file_path or "")
        raw = data.read() if data else b""
        me = await bot.me()
        links = await asyncio.to_thread(links_in_photo, raw)
        for link in links:
            found = parse_payload(start_payload(link, me.username or ""))
            if found and found[0] is LinkKind.CARD:
                customer = await shop.storage.customer_by_payload(found[1])
                if customer is not None:
                    await open_customer(message, shop, customer, state)
                    return
        await message.answer(
            _(
                "I could not read a card in that photo. Tips: hold the phone steady, fill the "
                "frame with the QR code, avoid glare, or simply type the card number."
            )
            if not links
            else _("That QR code is not one of our loyalty cards.")
        )

    # --- typed text: a card number or phone anywhere, an amount once a customer is open ----

    not_command = OnLoop(F.text & ~F.text.startswith("/"))

    @router.message(StateFilter(Desk.customer), not_command, staff_only)
    @router.message(StateFilter(Desk.redeem_bill), not_command, staff_only)
    @router.message(StateFilter(Desk.redeem_points), not_command, staff_only)
    @router.message(StateFilter(Desk.refund_amount), not_command, staff_only)
    @router.message(OnLoop(F.text.regexp(r"^[+\d][\d\s()\-]{6,20}$")), staff_only)
    async def typed(message: Message, bot: Bot, shop: Shop, state: FSMContext) -> None:
        assert message.text
        text = message.text.strip()
        current = await state.get_state()
        found = await desk.find_customers(shop, text)
        looks_like_lookup = found is not None and (current is None or len(text) >= 8)
        if looks_like_lookup:
            assert found is not None
            if len(found) == 1:
                await open_customer(message, shop, found[0], state)
            elif not found:
                await message.answer(_("No customer with that card number or phone."))
            else:
                await message.answer(
                    _(
                        "Several customers share that number. Please type the full phone "
                        "number or the card number."
                    )
                )
            return
        data = await state.get_data()
        customer = await shop.storage.customer(data.get("customer_id", 0)) if data else None
        if customer is None or customer.forgotten:
            await state.clear()
            await message.answer(
                _("Scan a card, send a photo of it, or type a card number or phone number.")
            )
            return
        if current == Desk.redeem_points.state:
            await redeem_points_typed(message, shop, customer, state, text)
            return
        try:
            amount = parse_amount(text, shop.program.max_purchase_minor)
        except AmountError as error:
            await message.answer(amount_error_text(error, shop))
            return
        if current == Desk.redeem_bill.state:
            await redeem_bill_typed(message, shop, customer, state, amount)
        elif current == Desk.refund_amount.state:
            await refund_amount_typed(message, bot, shop, customer, state, amount)
        else:
            await purchase(message, shop, customer, amount, state)

    # --- purchase ----------------------------------------------------------------------------

    async def purchase(
        message: Message, shop: Shop, customer: Customer, amount: int, state: FSMContext
    ) -> None:
        assert message.from_user
        offer = await usable_offer(shop, customer, (await state.get_data()).get("offer_id"))
        operation, earned = await desk.draft_purchase(
            shop, customer, message.from_user.id, amount, offer
        )
        await state.update_data(offer_id=None)  # an offer applies to one purchase
        text = _(
            "Purchase of <b>{amount}</b> for {name}: <b>+{points}</b>. Confirm?",
            amount=money(amount),
            name=escape(customer.name or _("Customer")),
            points=points(operation.points),
        )
        note = earn_note_text(shop, earned)
        if note:
            text += "\n" + note
        if offer is not None:
            text += "\n" + _(
                "Offer applied: {offer}. Give the customer what it promises.",
                offer=offer_line(offer, shop.settings.timezone),
            )
        await message.answer(text, reply_markup=kb.confirm_operation(operation.id))

    @router.callback_query(kb.OfferCb.filter(), staff_only)
    async def offer_chosen(
        query: CallbackQuery, callback_data: kb.OfferCb, shop: Shop, state: FSMContext
    ) -> None:
        customer = await desk_customer(query, callback_data.view, shop, state)
        if customer is None:
            return
        offer = await usable_offer(shop, customer, callback_data.id)
        if offer is None:
            await query.answer(outcome_text(desk.Outcome.OFFER_GONE), show_alert=True)
            return
        await state.update_data(offer_id=offer.id)
        await state.set_state(Desk.customer)
        await query.answer(
            _("{title} will apply to the next purchase. Type the amount.", title=offer.title),
            show_alert=True,
        )

    # --- desk buttons ---------------------------------------------------------------------------

    async def desk_customer(
        query: CallbackQuery, view: str, shop: Shop, state: FSMContext
    ) -> Customer | None:
        data = await state.get_data()
        if data.get("view") != view:
            await query.answer(
                _("This customer view is out of date. Scan the card again."), show_alert=True
            )
            return None
        customer = await shop.storage.customer(data.get("customer_id", 0))
        if customer is None or customer.forgotten:
            await query.answer(_("This card has been closed."), show_alert=True)
            return None
        return customer

    @router.callback_query(kb.DeskCb.filter(), staff_only)
    async def desk_action(
        query: CallbackQuery,
        callback_data: kb.DeskCb,
        bot: Bot,
        shop: Shop,
        state: FSMContext,
    ) -> None:
        customer = await desk_customer(query, callback_data.view, shop, state)
        if customer is None or not isinstance(query.message, Message):
            return
        message = query.message
        action = callback_data.action
        if action == "purchase":
            await state.set_state(Desk.customer)
            await message.answer(_("Type the purchase amount, like 12.50."))
        elif action == "redeem":
            if customer.telegram_id is None:
                await query.answer(_("This card has been closed."), show_alert=True)
                return
            if shop.program.stamps:
                await offer_stamp_reward(message, bot, shop, customer, state, query)
                return
            await state.set_state(Desk.redeem_bill)
            affordable = [
                (index, reward)
                for index, reward in enumerate(shop.program.rewards)
                if reward.cost <= customer.balance
            ]
            await message.answer(
                _(
                    "{name} has {balance}. Type the amount of the bill, like 12.50.",
                    name=escape(customer.name or _("Customer")),
                    balance=points(customer.balance),
                )
                + (("\n" + _("Or pick a reward:")) if affordable else ""),
                reply_markup=kb.rewards(
                    callback_data.view,
                    [
                        (index, f"{reward.name} · {points(reward.cost)}")
                        for index, reward in affordable
                    ],
                ),
            )
        elif action == "redeem_max":
            data = await state.get_data()
            if await state.get_state() != Desk.redeem_points.state or "bill" not in data:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            limit = redeem_limit(shop, customer, data["bill"])
            await request_redeem(message, bot, shop, customer, state, limit, data["bill"], query)
        elif action == "refund":
            await list_operations(message, shop, customer, callback_data.view)
        elif action == "refund_full":
            data = await state.get_data()
            if await state.get_state() != Desk.refund_amount.state or "entry" not in data:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            await draft_reversal(message, shop, customer, state, data["entry"], None, query)
        else:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()

    # --- redemption: the customer confirms in their own chat ---------------------------------

    async def redeem_bill_typed(
        message: Message, shop: Shop, customer: Customer, state: FSMContext, bill: int
    ) -> None:
        limit = redeem_limit(shop, customer, bill)
        if limit <= 0:
            await state.set_state(Desk.customer)
            await message.answer(
                _(
                    "{name} cannot spend points on this bill: the balance is {balance}.",
                    name=escape(customer.name or _("Customer")),
                    balance=points(customer.balance),
                )
            )
            return
        await state.update_data(bill=bill)
        await state.set_state(Desk.redeem_points)
        view = (await state.get_data())["view"]
        await message.answer(
            _(
                "How many points to spend? Up to {limit} on this bill ({worth} off).",
                limit=points(limit),
                worth=money(points_value_minor(shop.program, limit)),
            ),
            reply_markup=kb.spend_all(view, _("Spend {points}", points=points(limit))),
        )

    async def redeem_points_typed(
        message: Message, shop: Shop, customer: Customer, state: FSMContext, text: str
    ) -> None:
        data = await state.get_data()
        bill = data.get("bill", 0)
        limit = redeem_limit(shop, customer, bill)
        compact = text.replace(" ", "")
        if not (compact.isascii() and compact.isdigit()) or not 0 < int(compact) <= limit:
            await message.answer(
                _("Please type a whole number of points from 1 to {limit}.", limit=limit)
            )
            return
        await request_redeem(
            message,
            message.bot,
            shop,
            customer,
            state,
            int(compact),
            bill,
            None,  # type: ignore[arg-type]
        )

    async def request_redeem(
        message: Message,
        bot: Bot,
        shop: Shop,
        customer: Customer,
        state: FSMContext,
        amount: int,
        bill: int | None,
        query: CallbackQuery | None,
        reward: Reward | None = None,
    ) -> None:
        operator = query.from_user.id if query else message.from_user.id  # type: ignore[union-attr]
        operation = await desk.draft_redeem(shop, customer, operator, amount, bill, reward)
        await state.set_state(Desk.customer)
        worth = points_value_minor(shop.program, amount)

        def ask() -> tuple[str, InlineKeyboardMarkup | None]:
            if reward is not None:
                text = _(
                    "Spend <b>{points}</b> at {shop} on <b>{reward}</b>? "
                    "This request is valid for 2 minutes.",
                    points=points(amount),
                    shop=escape(shop.settings.shop_name),
                    reward=escape(reward.name),
                )
            else:
                text = _(
                    "Spend <b>{points}</b> at {shop} to take <b>{worth}</b> off your bill? "
                    "This request is valid for 2 minutes.",
                    points=points(amount),
                    shop=escape(shop.settings.shop_name),
                    worth=money(worth),
                )
            return text, kb.customer_decision(operation.id)

        # The cashier's message first: the customer cannot answer before it exists, so
        # whoever settles the request knows both messages and edits each once.
        waiting = await message.answer(
            _(
                "Waiting for {name} to confirm spending {points} on {reward}…",
                name=escape(customer.name or _("Customer")),
                points=points(amount),
                reward=escape(reward.name),
            )
            if reward is not None
            else _(
                "Waiting for {name} to confirm spending {points} ({worth} off)…",
                name=escape(customer.name or _("Customer")),
                points=points(amount),
                worth=money(worth),
            ),
            reply_markup=kb.cancel_only(operation.id),
        )
        await shop.storage.set_pending_messages(operation.id, waiting.chat.id, waiting.message_id)
        sent = await tell_customer(bot, shop, customer, ask)
        if sent is None:
            closed = await desk.close(
                shop, operation.id, operator, desk.REDEEM_BUTTON, PendingStatus.CANCELLED
            )
            if closed.moved:
                await waiting.edit_text(
                    _("The customer cannot be reached in Telegram, so points cannot be spent now.")
                )
            return
        current = await shop.storage.set_pending_messages(
            operation.id, customer_message_id=sent.message_id
        )
        if current is not None and current.status is PendingStatus.CANCELLED:
            # The cashier withdrew it before its message was recorded: only this knows it.
            await show_redeem_result(bot, shop, current, desk.Outcome.CLOSED, only_customer=True)
            return
        asyncio.create_task(expire_later(bot, shop, operation.id))  # noqa: RUF006

    async def offer_stamp_reward(
        message: Message,
        bot: Bot,
        shop: Shop,
        customer: Customer,
        state: FSMContext,
        query: CallbackQuery,
    ) -> None:
        program = shop.program
        if stamp_rewards(program, customer.balance) < 1:
            await query.answer(
                _(
                    "{name} has {stamps}; a reward needs {needed}.",
                    name=customer.name or _("Customer"),
                    stamps=points(customer.balance),
                    needed=points(program.stamps_for_reward),
                ),
                show_alert=True,
            )
            return
        reward = Reward(unescape(reward_text(program)), program.stamps_for_reward)
        await request_redeem(message, bot, shop, customer, state, reward.cost, None, query, reward)
        await query.answer()

    @router.callback_query(kb.RewardCb.filter(), staff_only)
    async def reward_picked(
        query: CallbackQuery,
        callback_data: kb.RewardCb,
        bot: Bot,
        shop: Shop,
        state: FSMContext,
    ) -> None:
        customer = await desk_customer(query, callback_data.view, shop, state)
        if customer is None or not isinstance(query.message, Message):
            return
        rewards = shop.program.rewards
        if not 0 <= callback_data.index < len(rewards) or customer.telegram_id is None:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        reward = rewards[callback_data.index]
        if reward.cost > customer.balance:
            await query.answer(
                _("Not enough points for {reward}.", reward=reward.name), show_alert=True
            )
            return
        await request_redeem(
            query.message, bot, shop, customer, state, reward.cost, None, query, reward
        )
        await query.answer()

    # --- refunds and undo ---------------------------------------------------------------------

    async def list_operations(message: Message, shop: Shop, customer: Customer, view: str) -> None:
        operations = [
            op
            for op in await shop.storage.operations(customer.id, REFUND_CHOICES * 3)
            if op.open_points > 0 or op.open_minor > 0
        ][:REFUND_CHOICES]
        if not operations:
            await message.answer(_("There is nothing to refund or undo for this customer."))
            return
        choices = [(op.entry.id, operation_label(op, shop.settings.timezone)) for op in operations]
        await message.answer(
            _("Which operation should be refunded or undone?"),
            reply_markup=kb.operations_to_reverse(view, choices),
        )

    @router.callback_query(kb.PickCb.filter(), staff_only)
    async def picked(
        query: CallbackQuery, callback_data: kb.PickCb, shop: Shop, state: FSMContext
    ) -> None:
        customer = await desk_customer(query, callback_data.view, shop, state)
        if customer is None or not isinstance(query.message, Message):
            return
        operation = await shop.storage.operation(callback_data.entry)
        if operation is None or operation.entry.customer_id != customer.id:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        if operation.entry.kind is EntryKind.REDEEM:
            await draft_reversal(
                query.message, shop, customer, state, operation.entry.id, None, query
            )
        else:
            await state.set_state(Desk.refund_amount)
            await state.update_data(entry=operation.entry.id)
            await query.message.answer(
                _(
                    "Type the refunded amount (up to {amount}), or refund it all:",
                    amount=money(operation.open_minor),
                ),
                reply_markup=kb.full_refund(
                    callback_data.view, _("Refund {amount}", amount=money(operation.open_minor))
                ),
            )
        await query.answer()

    async def refund_amount_typed(
        message: Message, bot: Bot, shop: Shop, customer: Customer, state: FSMContext, amount: int
    ) -> None:
        data = await state.get_data()
        await draft_reversal(message, shop, customer, state, data.get("entry", 0), amount, None)

    async def draft_reversal(
        message: Message,
        shop: Shop,
        customer: Customer,
        state: FSMContext,
        entry_id: int,
        refund_minor: int | None,
        query: CallbackQuery | None,
    ) -> None:
        operation = await shop.storage.operation(entry_id)
        if operation is None or operation.entry.customer_id != customer.id:
            await message.answer(_("There is nothing to refund or undo for this customer."))
            return
        if refund_minor is not None and refund_minor > operation.open_minor:
            await message.answer(
                _(
                    "At most {amount} of this purchase is left to refund.",
                    amount=money(operation.open_minor),
                )
            )
            return
        operator = query.from_user.id if query else message.from_user.id  # type: ignore[union-attr]
        draft = await desk.draft_reversal(shop, customer, operator, operation, refund_minor)
        await state.set_state(Desk.customer)
        if operation.entry.kind is EntryKind.REDEEM:
            text = _(
                "Undo spending: give <b>{points}</b> back to {name}. Confirm?",
                points=points(draft.points),
                name=escape(customer.name or _("Customer")),
            )
        else:
            text = _(
                "Refund of <b>{amount}</b> for {name}: <b>-{points}</b>. Confirm?",
                amount=money(draft.bill_minor or 0),
                name=escape(customer.name or _("Customer")),
                points=points(draft.points),
            )
        await message.answer(text, reply_markup=kb.confirm_operation(draft.id))

    # --- confirmations (cashier side) ---------------------------------------------------------

    @router.callback_query(kb.OpCb.filter(), staff_only)
    async def staff_decides(
        query: CallbackQuery,
        callback_data: kb.OpCb,
        bot: Bot,
        shop: Shop,
        bookings: RateWindow,
        role: Role,
    ) -> None:
        operation = await shop.storage.pending(callback_data.id)
        if operation is not None and operation.kind is EntryKind.ADJUST and role < Role.OWNER:
            await query.answer(outcome_text(desk.Outcome.FORBIDDEN), show_alert=True)
            return
        if operation is not None and operation.kind is EntryKind.REDEEM:
            if operation.operator_id != query.from_user.id:
                # Perhaps the customer (who is also staff) answering their own request.
                await answer_spending_request(query, callback_data, bot, shop)
                return
            if callback_data.ok:
                await query.answer(
                    _("Only the customer can confirm spending points."), show_alert=True
                )
                return
            result = await desk.close(
                shop,
                callback_data.id,
                query.from_user.id,
                desk.REDEEM_BUTTON,
                PendingStatus.CANCELLED,
            )
            await answer_close(query, result)
            if result.moved and result.operation:
                await show_redeem_result(bot, shop, result.operation, desk.Outcome.CLOSED)
            return
        if callback_data.ok:
            if not bookings.allow(query.from_user.id):
                await query.answer(
                    _(
                        "That is more bookings in a minute than a till usually makes. "
                        "Wait a moment and press Confirm again; nothing was booked."
                    ),
                    show_alert=True,
                )
                return
            result = await desk.confirm(
                shop, callback_data.id, query.from_user.id, desk.STAFF_BUTTON
            )
        else:
            result = await desk.close(
                shop,
                callback_data.id,
                query.from_user.id,
                desk.STAFF_BUTTON,
                PendingStatus.CANCELLED,
            )
            await answer_close(query, result)
            if result.moved:
                await show(
                    bot, query.from_user.id, query.message, _("Cancelled. Nothing was booked.")
                )
            return
        await answer_booking(query, bot, shop, result)

    # --- shift ----------------------------------------------------------------------------------

    @router.message(Command("shift"), staff_only)
    async def shift(message: Message, shop: Shop) -> None:
        assert message.from_user
        await message.answer(shift_text(await desk.shift_entries(shop, message.from_user.id)))

    return router


def build_customer_answers() -> Router:
    """Customers answer spending requests; the presser is checked against the request."""
    router = Router(name="customer-answers")

    @router.callback_query(kb.OpCb.filter())
    async def customer_decides(
        query: CallbackQuery, callback_data: kb.OpCb, bot: Bot, shop: Shop
    ) -> None:
        await answer_spending_request(query, callback_data, bot, shop)

    return router


async def expire_later(bot: Bot, shop: Shop, operation_id: str) -> None:
    """When nobody answers in time, both sides learn it (the button alone would say so)."""
    await asyncio.sleep(desk.CUSTOMER_CONFIRM_TTL.total_seconds() + 1)
    result = await desk.expire(shop, operation_id)
    if result.moved and result.operation is not None:
        await show_redeem_result(bot, shop, result.operation, desk.Outcome.EXPIRED)


async def answer_close(query: CallbackQuery, result: desk.Result) -> None:
    if result.outcome is desk.Outcome.BOOKED and result.moved:
        await query.answer(_("Cancelled."))
    else:
        await query.answer(outcome_text(result.outcome), show_alert=True)


async def answer_booking(query: CallbackQuery, bot: Bot, shop: Shop, result: desk.Result) -> None:
    if result.outcome is not desk.Outcome.BOOKED or result.booking is None:
        await query.answer(outcome_text(result.outcome), show_alert=True)
        return
    await query.answer(_("Booked."))
    booking = result.booking
    customer = await shop.storage.customer(booking.entry.customer_id)
    assert customer is not None
    amount = booking.entry.amount
    if booking.entry.kind is EntryKind.ADJUST:
        reason = escape(booking.entry.reason)
        change = ("+" if amount > 0 else "-") + points(abs(amount))
        staff_text = _(
            "Done: {change} for {name} ({reason}). Balance now {balance}.",
            change=change,
            name=escape(customer.name or _("Customer")),
            reason=reason,
            balance=points(booking.balance),
        )
        receipt = lambda: (  # noqa: E731
            _(
                "{change} on your {shop} card: {reason}. Balance: <b>{balance}</b>.",
                change=("+" if amount > 0 else "-") + points(abs(amount)),
                shop=escape(shop.settings.shop_name),
                reason=reason,
                balance=points(booking.balance),
            ),
            None,
        )
    elif booking.entry.kind is EntryKind.PURCHASE:
        staff_text = _(
            "✅ Booked: purchase {bill}, <b>+{points}</b>. {name} now has {balance}.",
            bill=money(booking.entry.bill_minor or 0),
            points=points(amount),
            name=escape(customer.name or _("Customer")),
            balance=points(booking.balance),
        )
        receipt = lambda: (  # noqa: E731
            _(
                "<b>+{points}</b> at {shop} for your purchase of {bill}. "
                "Balance: <b>{balance}</b>.",
                points=points(amount),
                shop=escape(shop.settings.shop_name),
                bill=money(booking.entry.bill_minor or 0),
                balance=points(booking.balance),
            )
            + stamp_progress(shop, replace(customer, balance=booking.balance)),
            None,
        )
    else:
        staff_text = _(
            "✅ Booked: {change} for {name}. Balance now {balance}.",
            change=("+" if amount >= 0 else "-") + points(abs(amount)),
            name=escape(customer.name or _("Customer")),
            balance=points(booking.balance),
        )
        if booking.entry.shortfall:
            staff_text += "\n" + _(
                "{points} had already been spent or had expired, and could not be taken back.",
                points=points(booking.entry.shortfall),
            )
        receipt = lambda: (  # noqa: E731
            _(
                "{change} at {shop}: a refund or correction. Balance: <b>{balance}</b>.",
                change=("+" if amount >= 0 else "-") + points(abs(amount)),
                shop=escape(shop.settings.shop_name),
                balance=points(booking.balance),
            ),
            None,
        )
    await show(bot, query.from_user.id, query.message, staff_text)
    await tell_customer(bot, shop, customer, receipt)
    if result.upgraded is not None:
        tier = result.upgraded
        await tell_customer(bot, shop, customer, lambda: (upgrade_text(shop, tier), None))
    if result.referral is not None:
        await announce_referral(bot, shop, result.referral)
    await alert_owners(bot, shop, booking.entry.customer_id, booking.entry.operator_id)


async def alert_owners(bot: Bot, shop: Shop, customer_id: int, operator_id: int | None) -> None:
    for render in await insights.unusual_activity(shop, customer_id, operator_id):
        for owner in shop.settings.owner_ids:
            owner_record = await shop.storage.customer_by_telegram(owner)
            await tell(
                bot,
                shop,
                owner,
                owner_record.language if owner_record else None,
                lambda render=render: (render(), None),
            )


async def announce_referral(bot: Bot, shop: Shop, decision: ReferralDecision) -> None:
    """Tell both sides what a friend's purchase (or its refund) did to their referral."""
    referral = decision.referral
    friend = await shop.storage.customer(referral.friend_id)
    referrer = await shop.storage.customer(referral.referrer_id)
    if friend is None or referrer is None:
        return
    friend_name = escape(friend.name or _("Customer"))
    if referral.status is ReferralStatus.QUALIFIED:
        if decision.friend is not None:
            gift = decision.friend
            await tell_customer(
                bot,
                shop,
                friend,
                lambda: (
                    _(
                        "🎁 Your first purchase unlocked your invitation gift: <b>+{points}</b>. "
                        "Balance: {balance}.",
                        points=points(gift.entry.amount),
                        balance=points(gift.balance),
                    ),
                    None,
                ),
            )
        if decision.referrer is not None:
            bonus = decision.referrer
            await tell_customer(
                bot,
                shop,
                referrer,
                lambda: (
                    _(
                        "🎉 Your friend {name} made their first purchase at {shop}: "
                        "<b>+{points}</b> for you. Balance: {balance}.",
                        name=friend_name,
                        shop=escape(shop.settings.shop_name),
                        points=points(bonus.entry.amount),
                        balance=points(bonus.balance),
                    ),
                    None,
                ),
            )
    elif referral.status is ReferralStatus.CAPPED:
        await tell_customer(
            bot,
            shop,
            referrer,
            lambda: (
                _(
                    "Your friend {name} made their first purchase. You have reached this "
                    "month's limit of paid invitations, so this one earns no points. Thank you "
                    "for spreading the word!",
                    name=friend_name,
                ),
                None,
            ),
        )
    elif referral.status is ReferralStatus.REVERSED:
        for side, customer in ((decision.friend, friend), (decision.referrer, referrer)):
            if side is None:
                continue
            taken = side
            await tell_customer(
                bot,
                shop,
                customer,
                lambda taken=taken: (
                    _(
                        "The purchase that earned an invitation gift was refunded, so the gift "
                        "({points}) was taken back. Balance: {balance}.",
                        points=points(taken.entry.shortfall - taken.entry.amount),
                        balance=points(taken.balance),
                    ),
                    None,
                ),
            )


def stamp_progress(shop: Shop, customer: Customer) -> str:
    if not shop.program.stamps:
        return ""
    return "\n" + progress_text(shop.program, customer, None)


def upgrade_text(shop: Shop, tier: Tier) -> str:
    text = _(
        "🎉 Congratulations! You have reached <b>{tier}</b> at {shop}.",
        tier=escape(tier_name(tier.name)),
        shop=escape(shop.settings.shop_name),
    )
    if tier.multiplier_hundredths != 100 and not shop.program.stamps:
        text += " " + _(
            "From now on every purchase earns {multiplier} times the points.",
            multiplier=format_decimal_hundredths(tier.multiplier_hundredths),
        )
    return text


async def answer_spending_request(
    query: CallbackQuery, callback_data: kb.OpCb, bot: Bot, shop: Shop
) -> None:
    if callback_data.ok:
        result = await desk.confirm(shop, callback_data.id, query.from_user.id, desk.REDEEM_BUTTON)
        outcome = result.outcome
    else:
        result = await desk.close(
            shop,
            callback_data.id,
            query.from_user.id,
            desk.REDEEM_BUTTON,
            PendingStatus.DECLINED,
            by_customer=True,
        )
        outcome = desk.Outcome.CLOSED if result.outcome is desk.Outcome.BOOKED else result.outcome
    if result.operation is None or not result.moved:
        # Settled before (a second tap, a late answer): whoever settled it told both chats.
        await query.answer(outcome_text(result.outcome), show_alert=True)
        return
    if outcome in (desk.Outcome.BOOKED, desk.Outcome.CLOSED):
        await query.answer()
    else:
        await query.answer(outcome_text(outcome), show_alert=True)
    operation = result.operation
    if isinstance(query.message, Message):
        # The customer's own message, whether or not its id was recorded yet.
        operation = replace(operation, customer_message_id=query.message.message_id)
    await show_redeem_result(bot, shop, operation, outcome, result)


async def show_redeem_result(
    bot: Bot,
    shop: Shop,
    operation: PendingOperation,
    outcome: desk.Outcome,
    result: desk.Result | None = None,
    only_customer: bool = False,
) -> None:
    """Update both chats, each message once: the customer's request and the cashier's
    waiting message (recorded before the request was sent)."""
    customer = await shop.storage.customer(operation.customer_id)
    staff = await shop.storage.customer_by_telegram(operation.operator_id)
    staff_language = staff.language if staff else None
    amount = operation.points
    balance = (
        result.booking.balance
        if result and result.booking
        else (customer.balance if customer else 0)
    )
    name = escape((customer.name if customer else "") or "")

    def customer_text() -> tuple[str, InlineKeyboardMarkup | None]:
        texts = {
            desk.Outcome.BOOKED: _(
                "✅ You spent {points}. Balance: <b>{balance}</b>.",
                points=points(amount),
                balance=points(balance),
            ),
            desk.Outcome.CLOSED: _("Spending request closed. Your points were not spent."),
            desk.Outcome.EXPIRED: _("This request has expired. Your points were not spent."),
            desk.Outcome.INSUFFICIENT: _("You do not have enough points for this any more."),
            desk.Outcome.OVER_LIMIT: _(
                "This is more points than this bill may take now. Your points were not spent."
            ),
        }
        return texts.get(outcome, texts[desk.Outcome.CLOSED]), None

    def staff_text() -> tuple[str, InlineKeyboardMarkup | None]:
        booked = (
            _(
                "✅ {name} confirmed: <b>-{points}</b>. Give: <b>{reward}</b>. "
                "Balance now {balance}.",
                name=name,
                points=points(amount),
                reward=escape(operation.reward),
                balance=points(balance),
            )
            if operation.reward
            else _(
                "✅ {name} confirmed: <b>-{points}</b>. Take {worth} off the bill. "
                "Balance now {balance}.",
                name=name,
                points=points(amount),
                worth=money(points_value_minor(shop.program, amount)),
                balance=points(balance),
            )
        )
        texts = {
            desk.Outcome.BOOKED: booked,
            desk.Outcome.CLOSED: _("✖ Spending was declined or cancelled. Nothing was booked."),
            desk.Outcome.EXPIRED: _("⌛ The customer did not answer in time. Nothing was booked."),
            desk.Outcome.INSUFFICIENT: _("✖ Not enough points any more. Nothing was booked."),
            desk.Outcome.OVER_LIMIT: _(
                "✖ More points than this bill may take now. Nothing was booked."
            ),
        }
        return texts.get(outcome, texts[desk.Outcome.CLOSED]), None

    if customer and customer.telegram_id and operation.customer_message_id:
        await edit_for(
            bot,
            shop,
            customer.telegram_id,
            operation.customer_message_id,
            customer.language,
            customer_text,
        )
    if operation.staff_chat_id and operation.staff_message_id and not only_customer:
        await edit_for(
            bot,
            shop,
            operation.staff_chat_id,
            operation.staff_message_id,
            staff_language,
            staff_text,
        )
