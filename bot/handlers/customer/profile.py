"""The customer's profile: settings, language, phone, birthday (asked at sign-up and from
settings), promotions on or off, and forgetting everything."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.domain import claims
from bot.domain.parsing import DateError, contact_phone, parse_birthday
from bot.handlers.customer.enrol import ensure_customer
from bot.handlers.replies import drop_buttons, pressed, show, shows, stale
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, _
from bot.keyboards.customer import (
    ForgetCb,
    LanguageCb,
    SettingsCb,
    forget_confirm,
    languages,
    main_menu,
    phone_request,
    settings_menu,
    skip_only,
)
from bot.services.delivery import send_card
from bot.shop import Shop
from bot.telegram.roles import Role
from bot.texts.customer import (
    ask_birthday_text,
    ask_phone_text,
    birthday_error,
    birthday_format_hint,
    birthday_text,
    forget_question,
    no_card,
    settings_text,
)
from bot.texts.imports import claimed_text, old_number_text
from storage import BookedByClaimant, Customer

# What a customer may type as their plastic card's number (or their phone).
OLD_NUMBER = r"^#?\s?\d[\d\s-]{2,15}$"


class Profile(StatesGroup):
    phone = State()
    birthday = State()


def settings_page(shop: Shop, customer: Customer) -> str:
    language = customer.language if customer.language in LANGUAGES else shop.i18n.current_locale
    return settings_text(customer, LANGUAGE_NAMES[language])


async def settings(message: Message, shop: Shop, customer: Customer | None) -> None:
    assert message.from_user
    customer = await ensure_customer(shop, message.from_user, customer)
    await message.answer(
        settings_page(shop, customer), reply_markup=settings_menu(customer.promotions)
    )


async def settings_action(
    query: CallbackQuery,
    callback_data: SettingsCb,
    bot: Bot,
    shop: Shop,
    customer: Customer | None,
    state: FSMContext,
) -> None:
    message = pressed(query)
    if customer is None or message is None:
        await query.answer(no_card(), show_alert=True)
        return
    action = callback_data.action
    if action == "language":
        await message.answer(
            _("Choose your language:"), reply_markup=languages(shop.i18n.current_locale)
        )
    elif action == "phone":
        await ask_phone(message, state)
    elif action == "birthday":
        await ask_birthday(message, state)
    elif action == "promotions":
        await shop.storage.set_promotions(customer.id, not customer.promotions)
        updated = await shop.storage.customer(customer.id)
        assert updated
        await show(
            bot,
            query.from_user.id,
            message,
            settings_page(shop, updated),
            settings_menu(updated.promotions),
        )
    elif action == "forget":
        await ask_forget(message, customer)
    else:
        await stale(query)
        return
    await query.answer()


async def language(message: Message, shop: Shop) -> None:
    await message.answer(
        _("Choose your language:"), reply_markup=languages(shop.i18n.current_locale)
    )


async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCb,
    bot: Bot,
    shop: Shop,
    customer: Customer | None,
) -> None:
    code = callback_data.code
    if code not in LANGUAGES:
        await stale(query)
        return
    customer = await ensure_customer(shop, query.from_user, customer)
    await shop.storage.set_language(customer.id, code)
    with shop.i18n.use_locale(code):
        chosen = _("Language: {language}", language=LANGUAGE_NAMES[code])
        # The list shows the choice (unless it already does: a replayed press); on any
        # other message (a photo: the card) the confirmation below is answer enough.
        message = pressed(query)
        if (
            message is not None
            and message.text is not None
            and not shows(message, chosen, languages(code))
        ):
            await message.edit_text(chosen, reply_markup=languages(code))
        await bot.send_message(
            query.from_user.id,
            _("Done! I will speak {language} from now on.", language=LANGUAGE_NAMES[code]),
            reply_markup=main_menu(),
        )
        await query.answer()


# --- phone ----------------------------------------------------------------------------------


async def ask_phone(message: Message, state: FSMContext) -> None:
    await state.set_state(Profile.phone)
    await message.answer(ask_phone_text(), reply_markup=phone_request())


async def phone_command(message: Message, state: FSMContext) -> None:
    await ask_phone(message, state)


async def phone_shared(
    message: Message, bot: Bot, shop: Shop, customer: Customer | None, state: FSMContext
) -> None:
    assert message.contact and message.from_user
    if message.contact.user_id != message.from_user.id:
        await message.answer(
            _(
                "That is someone else's contact. Please share your own number with the "
                "button below."
            ),
            reply_markup=phone_request(),
        )
        return
    phone = contact_phone(message.contact.phone_number)
    if phone is None:
        await message.answer(_("I could not read that phone number."), reply_markup=phone_request())
        return
    customer = await ensure_customer(shop, message.from_user, customer)
    try:
        claimed = await claims.claim_by_phone(shop.context, customer, phone)
    except BookedByClaimant:
        await message.answer(
            _(
                "The card with this phone number holds operations you booked yourself at "
                "the till, so it cannot move to your account. Please ask an owner to sort "
                "it out."
            )
        )
        await next_after_phone(message, customer, state)
        return
    if claimed is not None:  # a plastic card or a walk-in card with this number: theirs now
        customer = claimed.customer
        moved = claimed.customer.balance - claimed.carried
        await message.answer(claimed_text(claimed.legacy_number, moved))
        await send_card(bot, shop, customer, message.chat.id)
    else:
        # A contact shared twice at once: the other may have just claimed a card, moving the
        # account there; the phone goes onto the card the account holds now.
        customer = await shop.storage.customer_by_telegram(message.from_user.id) or customer
        await shop.storage.set_phone(customer.id, phone)
        await message.answer(_("Thank you! Your phone number is saved."))
    await next_after_phone(message, customer, state)


async def phone_skipped(
    message: Message, shop: Shop, customer: Customer | None, state: FSMContext
) -> None:
    assert message.from_user
    customer = await ensure_customer(shop, message.from_user, customer)
    await next_after_phone(message, customer, state)


async def phone_other(message: Message) -> None:
    await message.answer(
        _("Please use the button below to share your number, or tap Skip."),
        reply_markup=phone_request(),
    )


async def next_after_phone(message: Message, customer: Customer, state: FSMContext) -> None:
    # During sign-up the birthday question follows; from settings it does not.
    if customer.birthday is None and (await state.get_data()).get("onboarding", True):
        await ask_birthday(message, state)
    else:
        await finish_profile(message, state)


# --- birthday -------------------------------------------------------------------------------


async def ask_birthday(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    await state.set_state(Profile.birthday)
    await state.update_data(onboarding=current == Profile.phone.state)
    await message.answer(ask_birthday_text(), reply_markup=skip_only())


async def birthday_command(message: Message, state: FSMContext) -> None:
    await ask_birthday(message, state)


async def birthday_skipped(message: Message, state: FSMContext) -> None:
    await finish_profile(message, state)


async def birthday_typed(
    message: Message, shop: Shop, customer: Customer | None, state: FSMContext
) -> None:
    assert message.text and message.from_user
    try:
        born = parse_birthday(message.text, shop.now().date())
    except DateError as error:
        await message.answer(birthday_error(error.reason), reply_markup=skip_only())
        return
    customer = await ensure_customer(shop, message.from_user, customer)
    # The card the account holds now (a claim may have moved it since this update began).
    customer = await shop.storage.customer_by_telegram(message.from_user.id) or customer
    await shop.storage.set_birthday(customer.id, born)
    await message.answer(_("Saved: your birthday is {date}.", date=birthday_text(born)))
    await finish_profile(message, state)


async def birthday_other(message: Message) -> None:
    await message.answer(birthday_format_hint(), reply_markup=skip_only())


async def finish_profile(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        _("All set! Use the menu below to see your card, balance and history."),
        reply_markup=main_menu(),
    )


# --- forget me ------------------------------------------------------------------------------


async def ask_forget(message: Message, customer: Customer) -> None:
    await message.answer(forget_question(customer), reply_markup=forget_confirm())


async def forget(message: Message, customer: Customer | None) -> None:
    if customer is None:
        await message.answer(_("I have no data about you."))
        return
    await ask_forget(message, customer)


async def forget_answer(
    query: CallbackQuery,
    callback_data: ForgetCb,
    bot: Bot,
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
        markup: ReplyKeyboardRemove | ReplyKeyboardMarkup = ReplyKeyboardRemove()
    else:
        text = _("Good, your card stays as it is.")
        markup = main_menu()
    await drop_buttons(query.message)
    await query.answer()
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def old_card_number(
    message: Message, shop: Shop, customer: Customer | None, state: FSMContext, role: Role
) -> None:
    """A customer typing what looks like their plastic card's number: the number proves
    nothing, so they are asked for their phone (which moves the card when it matches)."""
    if role is not Role.CUSTOMER:
        await message.answer(
            _("Scan a card, send a photo of it, or type a card number or phone number.")
        )
        return
    await state.set_state(Profile.phone)
    await state.update_data(onboarding=False)
    await message.answer(old_number_text(), reply_markup=phone_request())
