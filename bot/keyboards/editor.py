"""The owner's program editor: parts, settings, choices, list items, the preview's
Confirm and Cancel, the history. Every press is checked again against the program in force."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.program.document import Document
from bot.domain.program.schema import FIELDS, GROUPS, LISTS, Field, Kind, Path
from bot.i18n import _
from bot.keyboards.common import Int64, button, inline
from bot.texts.editor import item_name, key_label, value_text


class EditGroupCb(CallbackData, prefix="peg"):
    group: str  # "" is the list of parts


class EditKeyCb(CallbackData, prefix="pek"):
    path: str  # `earn_rate`, `tiers[2].spend`


class EditChoiceCb(CallbackData, prefix="pec"):
    path: str
    value: str


class EditItemCb(CallbackData, prefix="pei"):
    key: str  # tiers, rewards
    index: Int64
    action: str  # open, add, remove


class DraftCb(CallbackData, prefix="pdr"):
    id: str
    ok: bool


class HistoryCb(CallbackData, prefix="phi"):
    before: Int64  # 0: the newest


class RevertCb(CallbackData, prefix="prv"):
    number: Int64


class AnnounceCb(CallbackData, prefix="pan"):
    id: str


def pairs(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def editor_home() -> InlineKeyboardMarkup:
    parts = [button(_(title), EditGroupCb(group=group)) for group, title in GROUPS]
    return inline(*pairs(parts), [button(_("🕘 History"), HistoryCb(before=0))])


def program_buttons() -> InlineKeyboardMarkup:
    """Under the owner's /program."""
    return inline(
        [
            button(_("✏️ Change"), EditGroupCb(group="")),
            button(_("🕘 History"), HistoryCb(before=0)),
        ]
    )


def _back(group: str) -> list[InlineKeyboardButton]:
    return [button(_("⬅ Back"), EditGroupCb(group=group))]


def _key_button(
    path: Path, field: Field, value: object, document: Document
) -> InlineKeyboardButton:
    label = f"{key_label(path, document, html=False)}: {value_text(field, value, html=False)}"
    return button(label[:60], EditKeyCb(path=str(path)))


def group_buttons(group: str, document: Document) -> InlineKeyboardMarkup:
    rows = [[_key_button(Path(f.key), f, document.get(f.key), document)] for f in FIELDS[group]]
    if group in LISTS:
        for index in range(1, len(document.get(group, [])) + 1):
            rows.append(
                [
                    button(
                        item_name(document, group, index, html=False),
                        EditItemCb(key=group, index=index, action="open"),
                    )
                ]
            )
        adding = _("+ Add a tier") if group == "tiers" else _("+ Add a reward")
        count = len(document.get(group, []))
        rows.append([button(adding, EditItemCb(key=group, index=count + 1, action="add"))])
    rows.append(_back(""))
    return inline(*rows)


def item_buttons(key: str, index: int, document: Document) -> InlineKeyboardMarkup:
    item = document[key][index - 1]
    rows = [
        [_key_button(Path(key, index, f.key), f, item.get(f.key), document)] for f in LISTS[key]
    ]
    rows.append([button(_("✖ Remove"), EditItemCb(key=key, index=index, action="remove"))])
    rows.append(_back(key))
    return inline(*rows)


def choice_buttons(path: Path, field: Field, document: Document) -> InlineKeyboardMarkup:
    if field.kind is Kind.FLAG:
        options = [("true", _("yes")), ("false", _("no"))]
    else:
        options = [(choice, choice) for choice in field.choices]
    rows = [[button(label, EditChoiceCb(path=str(path), value=value))] for value, label in options]
    rows.append(_back(path.key if path.index else _group_of(path)))
    return inline(*rows)


def _group_of(path: Path) -> str:
    return next((g for g, fields in FIELDS.items() if any(f.key == path.key for f in fields)), "")


def confirm_draft(draft_id: str) -> InlineKeyboardMarkup:
    return inline(
        [
            button(_("✅ Confirm"), DraftCb(id=draft_id, ok=True)),
            button(_("✖ Cancel"), DraftCb(id=draft_id, ok=False)),
        ]
    )


def announce(draft_id: str) -> InlineKeyboardMarkup:
    return inline([button(_("📣 Tell customers what changed"), AnnounceCb(id=draft_id))])


def history_buttons(
    numbers: list[int], current: int | None, more: int | None
) -> InlineKeyboardMarkup:
    """A button per version to go back to (not the one in force), and older ones."""
    rows = [
        [button(_("↩ Back to version {number}", number=n), RevertCb(number=n))]
        for n in numbers
        if n != current
    ]
    if more:
        rows.append([button(_("Older »"), HistoryCb(before=more))])
    return inline(*rows)
