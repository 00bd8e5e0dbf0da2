"""The customer's side: join, card, balance, history, settings, language, forget me."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from urllib.parse import quote, urlencode

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, User

from bot import keyboards as kb
from bot.domain import standing as loyalty
from bot.domain.clock import utcnow
from bot.domain.parsing import DateError, contact_phone, parse_birthday
from bot.domain.tokens import LinkKind, new_card_identity, parse_payload
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, CatalogI18n, _
from bot.replies import drop_buttons, show, shows
from bot.services.delivery import send_card
from bot.shop import Shop
from bot.telegram.filters import MenuText, OnLoop
from bot.telegram.links import personal_link
from bot.telegram.middlewares import display_name
from bot.views import (
    balance_text,
    birthday_text,
    history_text,
    money,
    number,
    offers_text,
    points,
)
from storage import Customer

HISTORY_PAGE = 8


class Profile(StatesGroup):
    phone = State()
    birthday = State()


async def ensure_customer(
    shop: Shop,
    user: User,
    customer: Customer | None,
    referrer: Customer | None = None,
    source: str = "link",
) -> Customer:
    if customer is not None:
        return customer
    invited = referrer is not None and shop.program.referrals and referrer.telegram_id != user.id
    registered, _created = await shop.storage.register_customer(
        telegram_id=user.id,
        name=display_name(user),
        language=shop.i18n.current_locale,
        welcome_points=shop.program.welcome_bonus,
        new_card=new_card_identity,
        welcome_expires_at=loyalty.expiry_from_now(shop.context),
        tier=shop.program.tiers[0].name,
        referrer_id=referrer.id if invited and referrer else None,
        referral_source=source,
    )
    return registered


def referral_welcome(shop: Shop) -> str:
    program = shop.program
    return _(
        "You joined on a friend's invitation: after your first purchase of at least {amount}, "
        "you get {bonus} and your friend gets a thank-you too.",
        amount=money(program.referral_min_purchase_minor),
        bonus=points(program.referral_friend_bonus),
    )


async def invite_text(bot: Bot, shop: Shop, customer: Customer) -> tuple[str, str]:
    """The customer's invitation page and the text their friends receive."""
    link = await personal_link(bot, shop, customer)
    stats = await shop.storage.referral_stats(customer.id)
    program = shop.program
    text = _(
        "<b>Invite friends to {shop}</b>\n"
        "Your personal link: {link}\n\n"
        "When a friend joins through it and makes a first purchase of at least {amount}, "
        "you get {bonus} and your friend gets {friend_bonus}.\n\n"
        "Friends joined: {joined} · made a purchase: {qualified} · points earned: {points}",
        shop=escape(shop.settings.shop_name),
        link=link,
        amount=money(program.referral_min_purchase_minor),
        bonus=points(program.referral_bonus),
        friend_bonus=points(program.referral_friend_bonus),
        joined=number(stats.joined),
        qualified=number(stats.qualified),
        points=number(stats.points),
    )
    share = _(
        "Join the {shop} loyalty card in Telegram and get a gift with your first purchase:",
        shop=shop.settings.shop_name,
    )
    return text, share_url(link, share)


def share_url(link: str, text: str) -> str:
    return "https://t.me/share/url?" + urlencode({"url": link, "text": text}, quote_via=quote)


def build_router(i18n: CatalogI18n) -> Router:
    router = Router(name="customer")

    # --- joining and the card -----------------------------------------------------------

    @router.message(CommandStart())
    async def start(
        message: Message,
        command: CommandObject,
        bot: Bot,
        shop: Shop,
        customer: Customer | None,
        state: FSMContext,
    ) -> None:
        assert message.from_user
        link = parse_payload(command.args) if command.args else None
        if command.args and link is None:
            await message.answer(_("This link is not valid. Here is your own card."))
        is_new = customer is None
        referrer, source = None, "link"
        if link and link[0] is LinkKind.REFERRAL:
            referrer = await shop.storage.customer_by_referral(link[1])
        elif link and link[0] is LinkKind.CARD:
            # Someone else's card scanned by a newcomer: they join with its holder as friend.
            referrer, source = await shop.storage.customer_by_payload(link[1]), "card"
        customer = await ensure_customer(shop, message.from_user, customer, referrer, source)
        if link and link[0] is LinkKind.CARD and link[1] != customer.card_payload:
            await message.answer(
                _("That QR code is another customer's card. Here is your own card.")
            )
        elif link and link[0] is LinkKind.REFERRAL and not is_new:
            await message.answer(
                _("This is your own invitation link: share it with friends (/invite).")
                if referrer is not None and referrer.id == customer.id
                else _("You already have a card, so this invitation changes nothing.")
            )
        elif link and link[0] is LinkKind.REFERRAL and referrer is None:
            await message.answer(_("This invitation link is not valid any more."))
        elif link and link[0] is not LinkKind.CARD and link[0] is not LinkKind.REFERRAL:
            await message.answer(_("This link has expired or was already used."))
        if not is_new:
            await send_card(bot, shop, customer, message.chat.id, kb.main_menu())
            return
        await send_card(bot, shop, customer, message.chat.id)
        welcome = _(
            "Welcome to <b>{shop}</b>! This is your loyalty card: show it at the till "
            "to collect points.",
            shop=escape(shop.settings.shop_name),
        )
        if customer.balance:
            welcome += "\n" + _(
                "A welcome gift is already on it: {points}.", points=points(customer.balance)
            )
        if (await shop.storage.referral(customer.id)) is not None:
            welcome += "\n" + referral_welcome(shop)
        await message.answer(welcome)
        await ask_phone(message, state)

    @router.message(Command("card"))
    @router.message(MenuText(i18n, kb.MENU_CARD))
    async def card(message: Message, bot: Bot, shop: Shop, customer: Customer | None) -> None:
        assert message.from_user
        customer = await ensure_customer(shop, message.from_user, customer)
        buttons = kb.card_buttons() if shop.program.referrals else kb.main_menu()
        await send_card(bot, shop, customer, message.chat.id, buttons)

    @router.message(Command("invite"))
    @router.message(MenuText(i18n, kb.MENU_INVITE))
    async def invite(message: Message, bot: Bot, shop: Shop, customer: Customer | None) -> None:
        assert message.from_user
        if not shop.program.referrals:
            await message.answer(_("This shop has no referral program at the moment."))
            return
        customer = await ensure_customer(shop, message.from_user, customer)
        text, url = await invite_text(bot, shop, customer)
        await message.answer(text, reply_markup=kb.share(url))

    @router.callback_query(kb.InviteCb.filter())
    async def invite_button(
        query: CallbackQuery, bot: Bot, shop: Shop, customer: Customer | None
    ) -> None:
        if customer is None or not shop.program.referrals:
            await query.answer(_("Send /start to get your card."), show_alert=True)
            return
        text, url = await invite_text(bot, shop, customer)
        await query.answer()
        await bot.send_message(query.from_user.id, text, reply_markup=kb.share(url))

    @router.message(Command("offers"))
    async def offers(message: Message, shop: Shop, customer: Customer | None) -> None:
        assert message.from_user
        customer = await ensure_customer(shop, message.from_user, customer)
        found = await shop.storage.offers_for(customer.id, utcnow())
        await message.answer(offers_text(found, shop.settings.timezone))

    @router.message(Command("balance"))
    @router.message(MenuText(i18n, kb.MENU_BALANCE))
    async def balance(message: Message, shop: Shop, customer: Customer | None) -> None:
        assert message.from_user
        customer = await ensure_customer(shop, message.from_user, customer)
        standing = await loyalty.standing(shop.context, customer)
        now = utcnow()
        expiring = await shop.storage.expiring(now, now + timedelta(days=366), customer.id)
        soonest = expiring[0] if expiring else None
        await message.answer(
            balance_text(customer, shop.program, standing, soonest), reply_markup=kb.main_menu()
        )

    # --- history ------------------------------------------------------------------------

    async def history_page(
        shop: Shop, customer: Customer, page: int
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        total = await shop.storage.count_entries(customer.id)
        pages = max(1, -(-total // HISTORY_PAGE))
        page = min(max(page, 0), pages - 1)
        entries = await shop.storage.history(customer.id, HISTORY_PAGE, page * HISTORY_PAGE)
        text = history_text(entries, page, pages, shop.settings.timezone)
        return text, kb.history_pages(page, pages)

    @router.message(Command("history"))
    @router.message(MenuText(i18n, kb.MENU_HISTORY))
    async def history(message: Message, shop: Shop, customer: Customer | None) -> None:
        assert message.from_user
        customer = await ensure_customer(shop, message.from_user, customer)
        text, markup = await history_page(shop, customer, 0)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(kb.HistoryCb.filter())
    async def history_turn(
        query: CallbackQuery,
        callback_data: kb.HistoryCb,
        bot: Bot,
        shop: Shop,
        customer: Customer | None,
    ) -> None:
        # The page number is untrusted but harmless: it is clamped, and the card is the sender's.
        if customer is None or not isinstance(query.message, Message):
            await query.answer(_("Send /start to get your card."), show_alert=True)
            return
        text, markup = await history_page(shop, customer, callback_data.page)
        await show(bot, query.from_user.id, query.message, text, markup)
        await query.answer()

    # --- settings: language, phone, birthday, promotions, forget --------------------------

    @router.message(Command("settings"))
    @router.message(MenuText(i18n, kb.MENU_SETTINGS))
    async def settings(message: Message, shop: Shop, customer: Customer | None) -> None:
        assert message.from_user
        customer = await ensure_customer(shop, message.from_user, customer)
        await message.answer(
            settings_text(customer), reply_markup=kb.settings_menu(customer.promotions)
        )

    def settings_text(customer: Customer) -> str:
        return _(
            "<b>Settings</b>\nLanguage: {language}\nPhone: {phone}\nBirthday: {birthday}\n"
            "Promotions: {promotions}",
            language=LANGUAGE_NAMES[shop_language(customer)],
            phone=escape(customer.phone or _("not set")),
            birthday=birthday_text(customer.birthday),
            promotions=_("on") if customer.promotions else _("off"),
        )

    def shop_language(customer: Customer) -> str:
        return customer.language if customer.language in LANGUAGES else i18n.current_locale

    @router.callback_query(kb.SettingsCb.filter())
    async def settings_action(
        query: CallbackQuery,
        callback_data: kb.SettingsCb,
        bot: Bot,
        shop: Shop,
        customer: Customer | None,
        state: FSMContext,
    ) -> None:
        if customer is None or not isinstance(query.message, Message):
            await query.answer(_("Send /start to get your card."), show_alert=True)
            return
        action = callback_data.action
        if action == "language":
            await query.message.answer(
                _("Choose your language:"), reply_markup=kb.languages(i18n.current_locale)
            )
        elif action == "phone":
            await ask_phone(query.message, state)
        elif action == "birthday":
            await ask_birthday(query.message, state)
        elif action == "promotions":
            await shop.storage.set_promotions(customer.id, not customer.promotions)
            updated = await shop.storage.customer(customer.id)
            assert updated
            await show(
                bot,
                query.from_user.id,
                query.message,
                settings_text(updated),
                kb.settings_menu(updated.promotions),
            )
        elif action == "forget":
            await ask_forget(query.message, customer)
        else:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()

    @router.message(Command("language"))
    async def language(message: Message) -> None:
        await message.answer(
            _("Choose your language:"), reply_markup=kb.languages(i18n.current_locale)
        )

    @router.callback_query(kb.LanguageCb.filter())
    async def language_chosen(
        query: CallbackQuery,
        callback_data: kb.LanguageCb,
        bot: Bot,
        shop: Shop,
        customer: Customer | None,
    ) -> None:
        code = callback_data.code
        if code not in LANGUAGES:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        customer = await ensure_customer(shop, query.from_user, customer)
        await shop.storage.set_language(customer.id, code)
        with i18n.use_locale(code):
            chosen = _("Language: {language}", language=LANGUAGE_NAMES[code])
            # The list shows the choice (unless it already does: a replayed press); on any
            # other message (a photo: the card) the confirmation below is answer enough.
            if (
                isinstance(query.message, Message)
                and query.message.text is not None
                and not shows(query.message, chosen, kb.languages(code))
            ):
                await query.message.edit_text(chosen, reply_markup=kb.languages(code))
            await bot.send_message(
                query.from_user.id,
                _("Done! I will speak {language} from now on.", language=LANGUAGE_NAMES[code]),
                reply_markup=kb.main_menu(),
            )
            await query.answer()

    # phone
    async def ask_phone(message: Message, state: FSMContext) -> None:
        await state.set_state(Profile.phone)
        await message.answer(
            _(
                "Share your phone number so the cashier can find your card by it when you "
                "forget your phone. Tap the button below, or Skip."
            ),
            reply_markup=kb.phone_request(),
        )

    @router.message(Command("phone"))
    async def phone_command(message: Message, state: FSMContext) -> None:
        await ask_phone(message, state)

    @router.message(StateFilter(Profile.phone), OnLoop(F.contact))
    async def phone_shared(
        message: Message, shop: Shop, customer: Customer | None, state: FSMContext
    ) -> None:
        assert message.contact and message.from_user
        if message.contact.user_id != message.from_user.id:
            await message.answer(
                _(
                    "That is someone else's contact. Please share your own number with the "
                    "button below."
                ),
                reply_markup=kb.phone_request(),
            )
            return
        phone = contact_phone(message.contact.phone_number)
        if phone is None:
            await message.answer(
                _("I could not read that phone number."), reply_markup=kb.phone_request()
            )
            return
        customer = await ensure_customer(shop, message.from_user, customer)
        await shop.storage.set_phone(customer.id, phone)
        await message.answer(_("Thank you! Your phone number is saved."))
        await next_after_phone(message, shop, customer, state)

    @router.message(StateFilter(Profile.phone), MenuText(i18n, kb.SKIP))
    async def phone_skipped(
        message: Message, shop: Shop, customer: Customer | None, state: FSMContext
    ) -> None:
        assert message.from_user
        customer = await ensure_customer(shop, message.from_user, customer)
        await next_after_phone(message, shop, customer, state)

    @router.message(StateFilter(Profile.phone))
    async def phone_other(message: Message) -> None:
        await message.answer(
            _("Please use the button below to share your number, or tap Skip."),
            reply_markup=kb.phone_request(),
        )

    async def next_after_phone(
        message: Message, shop: Shop, customer: Customer, state: FSMContext
    ) -> None:
        # During sign-up the birthday question follows; from settings it does not.
        if customer.birthday is None and (await state.get_data()).get("onboarding", True):
            await ask_birthday(message, state)
        else:
            await finish_profile(message, state)

    # birthday
    async def ask_birthday(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        await state.set_state(Profile.birthday)
        await state.update_data(onboarding=current == Profile.phone.state)
        await message.answer(
            _(
                "When is your birthday? We will have a gift for you. "
                "Type it like 31.12.1990, or tap Skip."
            ),
            reply_markup=kb.skip_only(),
        )

    @router.message(Command("birthday"))
    async def birthday_command(message: Message, state: FSMContext) -> None:
        await ask_birthday(message, state)

    @router.message(StateFilter(Profile.birthday), MenuText(i18n, kb.SKIP))
    async def birthday_skipped(message: Message, state: FSMContext) -> None:
        await finish_profile(message, state)

    @router.message(StateFilter(Profile.birthday), OnLoop(F.text))
    async def birthday_typed(
        message: Message, shop: Shop, customer: Customer | None, state: FSMContext
    ) -> None:
        assert message.text and message.from_user
        try:
            born = parse_birthday(message.text, shop.now().date())
        except DateError as error:
            reasons = {
                "format": _("Please type the date as day.month.year, for example 31.12.1990."),
                "calendar": _("There is no such day in the calendar. Please check the date."),
                "future": _("That date is in the future. Please check the year."),
                "past": _("That date is too long ago. Please check the year."),
            }
            await message.answer(reasons[error.reason], reply_markup=kb.skip_only())
            return
        customer = await ensure_customer(shop, message.from_user, customer)
        await shop.storage.set_birthday(customer.id, born)
        await message.answer(_("Saved: your birthday is {date}.", date=birthday_text(born)))
        await finish_profile(message, state)

    @router.message(StateFilter(Profile.birthday))
    async def birthday_other(message: Message) -> None:
        await message.answer(
            _("Please type the date as day.month.year, for example 31.12.1990."),
            reply_markup=kb.skip_only(),
        )

    async def finish_profile(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(
            _("All set! Use the menu below to see your card, balance and history."),
            reply_markup=kb.main_menu(),
        )

    # forget me
    async def ask_forget(message: Message, customer: Customer) -> None:
        await message.answer(
            _(
                "This deletes your name, phone number and birthday and closes your card. "
                "Your {balance} will be lost. Are you sure?",
                balance=points(customer.balance),
            ),
            reply_markup=kb.forget_confirm(),
        )

    @router.message(Command("forget"))
    async def forget(message: Message, shop: Shop, customer: Customer | None) -> None:
        if customer is None:
            await message.answer(_("I have no data about you."))
            return
        await ask_forget(message, customer)

    @router.callback_query(kb.ForgetCb.filter())
    async def forget_answer(
        query: CallbackQuery,
        callback_data: kb.ForgetCb,
        shop: Shop,
        customer: Customer | None,
        state: FSMContext,
    ) -> None:
        if customer is None:
            await query.answer(_("I have no data about you."), show_alert=True)
            return
        if callback_data.confirm:
            await shop.storage.forget_customer(customer.id)
            await state.clear()
            text = _("Done. Your personal data has been deleted. Send /start to get a new card.")
            markup = ReplyKeyboardRemove()
        else:
            text = _("Good, your card stays as it is.")
            markup = kb.main_menu()
        await drop_buttons(query.message)
        await query.answer()
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]

    # --- help -------------------------------------------------------------------------------

    @router.message(Command("help"))
    async def help_(message: Message, shop: Shop) -> None:
        await message.answer(
            _(
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
                shop=escape(shop.settings.shop_name),
            ),
            reply_markup=kb.main_menu(),
        )

    return router
