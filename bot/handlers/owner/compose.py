"""The step promotions and offers share: pick an audience (and a holdout) for a draft."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery

from bot.handlers.replies import stale
from bot.i18n import _
from bot.shop import Shop
from bot.texts.common import tier_name
from storage import Audience, Segment

NEW_DAYS, LAPSED_DAYS, TOP_PERCENT, EXPIRING_DAYS = 30, 60, 10, 14
HOLDOUT_PERCENT = 10


async def draft_at(
    query: CallbackQuery, state: FSMContext, step: State, key: str
) -> dict[str, Any] | None:
    """The owner's draft (of a promotion or an offer) when the pressed button belongs to
    its current step, `step` with `key` filled in; otherwise None, and the owner is told
    the button is stale (a discarded draft, or one that moved on)."""
    data = await state.get_data()
    if await state.get_state() == step.state and key in data:
        return data
    await stale(query)
    return None


def audiences(shop: Shop) -> list[tuple[Audience, str]]:
    """Every segment the owner can pick, with its label in the current language."""
    now = shop.now()
    choices = [(Audience(Segment.EVERYONE), _("Everyone"))]
    for index, tier in enumerate(shop.program.tiers):
        param = tier.name + ("|first" if index == 0 else "")
        choices.append(
            (Audience(Segment.TIER, param), _("Level: {tier}", tier=tier_name(tier.name)))
        )
    choices += [
        (
            Audience(Segment.NEW, str(NEW_DAYS)),
            _("New: joined in the last {days} days", days=NEW_DAYS),
        ),
        (
            Audience(Segment.LAPSED, str(LAPSED_DAYS)),
            _("Lapsed: no purchase for {days} days", days=LAPSED_DAYS),
        ),
        (Audience(Segment.BIRTHDAYS, str(now.month)), _("Birthdays this month")),
        (
            Audience(Segment.TOP, str(TOP_PERCENT)),
            _("Top {percent}% by spend", percent=TOP_PERCENT),
        ),
        (Audience(Segment.REFERRERS), _("Customers who invited friends")),
        (
            Audience(Segment.EXPIRING, str(EXPIRING_DAYS)),
            _("Points expiring within {days} days", days=EXPIRING_DAYS),
        ),
    ]
    return choices


def audience_labels(shop: Shop) -> list[str]:
    return [label for _audience, label in audiences(shop)]


async def choose_audience(
    query: CallbackQuery, index: int, shop: Shop, state: FSMContext, step: State, key: str
) -> bool:
    """Put the pressed audience (and no holdout) into the draft at `step`; False, with the
    owner told the button is stale, when the draft is elsewhere or the index is unknown."""
    choices = audiences(shop)
    if await draft_at(query, state, step, key) is None:
        return False
    if not 0 <= index < len(choices):
        await stale(query)
        return False
    audience, label = choices[index]
    await state.update_data(audience=audience.key(), label=label, holdout=0)
    await query.answer()
    return True


async def toggle_holdout(state: FSMContext, data: dict[str, Any]) -> None:
    await state.update_data(holdout=0 if data.get("holdout") else HOLDOUT_PERCENT)
