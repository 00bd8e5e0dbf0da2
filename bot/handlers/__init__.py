"""Routers per role; `build_routers` puts them in the order updates should try them."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    common,
    customer,
    insights,
    offers,
    owner,
    program,
    promotions,
    staff,
)
from bot.i18n import CatalogI18n


def build_routers(i18n: CatalogI18n) -> list[Router]:
    # Staff routers come first: their filters (role, state, link kind) are narrow, and what
    # they do not take falls through to the customer's side.
    return [
        owner.build_router(),
        promotions.build_router(),
        offers.build_router(),
        insights.build_router(),
        staff.build_router(),
        staff.build_customer_answers(),
        program.build_router(),
        promotions.build_opt_out_router(),
        customer.build_router(i18n),
        common.build_router(),
    ]
