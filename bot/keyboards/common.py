"""The shapes every keyboard is built from, and the one button kind every role answers."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import Field

# Numbers in callback data are looked up in SQLite: a forged one beyond its 64-bit integers
# must fail to match (and get "no longer valid"), not overflow in the query.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class OpCb(CallbackData, prefix="op"):
    """Confirm or cancel a drafted operation; the id is opaque and carries nothing else.
    Cashiers and owners confirm their own drafts, customers their spending requests."""

    id: str
    ok: bool


def button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label, callback_data=data.pack())


def inline(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """A keyboard from rows of buttons, empty rows left out.

    Built directly rather than with aiogram's InlineKeyboardBuilder, which deep-copies every
    button when it exports the markup: at the desk that cost more than the rest of drawing
    the reply, and most desk replies carry a keyboard.
    """
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def column(buttons: list[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """One button per row: the shape of every list the bot offers to pick from."""
    return inline(*([button(label, data)] for label, data in buttons))
