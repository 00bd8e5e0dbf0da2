"""Routers per role; `build_routers` puts them in the order updates should try them."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import common, customer
from bot.i18n import CatalogI18n


def build_routers(i18n: CatalogI18n) -> list[Router]:
    return [customer.build_router(i18n), common.build_router()]
