"""The handlers of every role, and the order updates try them in."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.handlers import cashier, common, customer, owner
from bot.i18n import CatalogI18n
from bot.telegram.filters import PRIVATE_CHAT, OutsidePrivateChat
from bot.telegram.roles import HasRole, Role


def install(root: Router, i18n: CatalogI18n) -> None:
    """Every role's handlers under `root` (the dispatcher itself, so an update passes
    through as few router levels as possible: each costs a middleware chain and a copy of
    the handler data)."""
    # A loyalty card and a till are personal: the bot answers in private chats only.
    root.message.filter(PRIVATE_CHAT)
    # Buttons pressed elsewhere are taken here, before any router: nothing happens but the
    # end of the button's spinner (a handler on the root itself adds no router level).
    root.callback_query.register(pressed_elsewhere, OutsidePrivateChat())
    # The owner's tools sit behind one check, so everyone else passes them by at once
    # (each handler checks the role again).
    owners = Router(name="owners")
    owner_only = HasRole(Role.OWNER)
    owners.message.filter(owner_only)
    owners.callback_query.filter(owner_only)
    owners.include_routers(*owner.build_routers())
    # Staff come before customers: their filters (role, state, link kind) are narrow, and
    # what they do not take falls through to the customer's side.
    root.include_routers(
        owners,
        cashier.build_router(),
        customer.build_answers_router(),
        customer.build_program_router(),
        customer.build_opt_out_router(),
        customer.build_router(i18n),
        common.build_router(),
    )


async def pressed_elsewhere(query: CallbackQuery) -> None:
    await query.answer()
