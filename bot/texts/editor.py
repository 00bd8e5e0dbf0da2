"""What the owner's program editor says: keys with their values, a change in words and
what it would mean, the versions' history."""

from __future__ import annotations

from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.marks import N_
from bot.domain.program.document import Document
from bot.domain.program.editing import Change, Effects, changes
from bot.domain.program.loader import ProgramError
from bot.domain.program.model import Earning, Program
from bot.domain.program.schema import (
    FIELDS,
    GROUPS,
    LIST_LABELS,
    LISTS,
    OWNER_ONLY,
    TOP,
    EditError,
    Field,
    Kind,
    Path,
)
from bot.i18n import _, ngettext
from bot.texts.common import tier_name
from bot.texts.numbers import format_decimal_hundredths, money, number, when
from storage import ProgramVersion

EARNING_WORDS = {
    Earning.POINTS: lambda n: ngettext("{count} point", "{count} points", n, count=number(n)),
    Earning.CASHBACK: lambda n: ngettext("{count} point", "{count} points", n, count=number(n)),
    Earning.STAMPS: lambda n: ngettext("{count} stamp", "{count} stamps", n, count=number(n)),
}

UNITS = {Earning.POINTS: N_("point"), Earning.CASHBACK: N_("point"), Earning.STAMPS: N_("stamp")}


def _minor(value: Any) -> int:
    return round(float(value) * 100)


def value_text(field: Field | None, value: Any, html: bool = True) -> str:
    """`html=False` for a button, whose label is plain text."""
    if value is None or value == "":
        return "—"
    kind = field.kind if field else Kind.TEXT
    if kind is Kind.FLAG:
        return _("yes") if value else _("no")
    if kind is Kind.MONEY:
        return money(_minor(value))
    if kind is Kind.FACTOR:
        return "\u00d7" + format_decimal_hundredths(_minor(value))
    if kind is Kind.PERCENT:
        return f"{number(int(value))}%"
    if kind is Kind.WHOLE:
        return number(int(value))
    return escape(str(value)) if html else str(value)


def item_name(document: Document, key: str, index: int, html: bool = True) -> str:
    items = document.get(key, [])
    name = items[index - 1].get("name", "") if index <= len(items) else ""
    shown = tier_name(name) if key == "tiers" else name
    return (escape(shown) if html else shown) or _(LIST_LABELS[key], number=index)


def key_label(path: Path, document: Document, html: bool = True) -> str:
    """`Earn rate`, `Silver · spend to reach`, `Tier 4` (a new item)."""
    field = path.field
    if path.index is None:
        return _(field.label) if field else path.key
    name = item_name(document, path.key, path.index, html)
    return f"{name} · {_(field.label)}" if field else name


def current(path: Path, document: Document) -> Any:
    if path.index is None:
        return document.get(path.key)
    items = document.get(path.key, [])
    if path.index > len(items) or path.item_key is None:
        return None
    return items[path.index - 1].get(path.item_key)


def key_line(path: Path, document: Document) -> str:
    return f"{key_label(path, document)}: <b>{value_text(path.field, current(path, document))}</b>"


def editor_home() -> str:
    return _(
        "<b>Change the program</b>\nPick a part, then a setting. Every change is shown "
        "before it takes effect. Typed: /set without arguments lists the keys."
    )


def group_text(group: str, document: Document) -> str:
    title = dict(GROUPS)[group]
    lines = [f"<b>{_(title)}</b>"]
    lines += [key_line(Path(f.key), document) for f in FIELDS[group]]
    if group in LISTS:
        for index in range(1, len(document.get(group, [])) + 1):
            parts = [
                value_text(f, document[group][index - 1].get(f.key))
                for f in LISTS[group][1:]
                if document[group][index - 1].get(f.key) is not None
            ]
            lines.append(f"{index}. {item_name(document, group, index)}: " + ", ".join(parts))
    return "\n".join(lines)


def item_text(key: str, index: int, document: Document) -> str:
    lines = [f"<b>{item_name(document, key, index)}</b>"]
    lines += [key_line(Path(key, index, f.key), document) for f in LISTS[key]]
    return "\n".join(lines)


def ask_value(path: Path, document: Document) -> str:
    field = path.field
    if field is None:  # a whole new item
        hint = (
            _("Type a name, the spend and optionally a multiplier, like: Platinum 3000 2.5")
            if path.key == "tiers"
            else _("Type a name and the cost in points, like: Free cake 200")
        )
        return hint + "\n" + _("/cancel stops.")
    text = _(
        "Type the new value for {label} (now {value}).",
        label=key_label(path, document),
        value=value_text(field, current(path, document)),
    )
    if field.hint:
        text += " " + _(field.hint)
    if field.optional:
        text += " " + _("A dash (-) clears it.")
    return text + "\n" + _("/cancel stops.")


def problem_text(error: EditError | ProgramError) -> str:
    """`tiers[2].spend: must be higher than the tier before`, translated; nothing changed."""
    return _(
        "{key}: {problem}. Nothing was changed.",
        key=escape(error.key),
        problem=_(error.problem, **error.params),
    )


def change_line(change: Change, old: Document, new: Document) -> str:
    path, field = change.path, change.path.field
    if path.key == "auto_offers":
        return _("Automatic offers changed.")
    if path.index is not None and path.item_key is None:  # a whole item, gone
        return _("{name} is removed.", name=item_name(old, path.key, path.index))
    if path.index is not None and change.old is None and path.item_key == "name":
        return _("{name} is added.", name=item_name(new, path.key, path.index))
    if path.key == "tiers" and path.item_key == "spend" and change.old is not None:
        return _(
            "{tier} will need {new} instead of {old}.",
            tier=item_name(new, "tiers", path.index or 1),
            new=value_text(field, change.new),
            old=value_text(field, change.old),
        )
    label = key_label(path, new)  # an item changed in place is in the new document
    after = value_text(field, change.new)
    if path.key == "tiers" and path.item_key == "max_redeem_share" and change.new is None:
        share = value_text(TOP["max_redeem_share"], new.get("max_redeem_share"))
        after = _("— (the program's {share} applies)", share=share)
    return f"{label}: {value_text(field, change.old)} → {after}"


def preview_text(
    changes: list[Change],
    old: Document,
    new: Document,
    effects: Effects,
    programs: tuple[Program, Program],
) -> str:
    lines = [_("<b>The change</b>")]
    lines += [line for line in (change_line(c, old, new) for c in changes) if line]
    if effects.moving_down is not None and effects.moving_up is not None:
        lines.append(
            _(
                "Customers moving down a tier at the next daily review: {down}; moving up "
                "with their next purchase: {up}.",
                down=number(effects.moving_down),
                up=number(effects.moving_up),
            )
        )
    if effects.example is not None:
        before, after = effects.example
        lines.append(
            _(
                "A {bill} purchase earns {new} instead of {old}.",
                bill=money(effects.example_bill),
                new=EARNING_WORDS[programs[1].earning](after),
                old=EARNING_WORDS[programs[0].earning](before),
            )
        )
    if effects.switch is not None and effects.holders is not None:
        customers, held = effects.holders
        lines.append(
            _(
                "Customers with a balance: {customers} ({held} in all). Balances stay as they "
                "are: each counts as one {unit} from now on; nothing is converted or taken "
                "away.",
                customers=number(customers),
                held=EARNING_WORDS[effects.switch[0]](held),
                unit=_(UNITS[effects.switch[1]]),
            )
        )
        if effects.switch[1] is Earning.STAMPS and effects.rewards_ready:
            lines.append(
                _(
                    "Careful: as stamps, these balances make {rewards} rewards ready at once.",
                    rewards=number(effects.rewards_ready),
                )
            )
        elif effects.switch[1] is not Earning.STAMPS and customers:
            lines.append(
                _(
                    "As points they are worth {worth} off bills in all.",
                    worth=money(effects.worth_minor),
                )
            )
    lines.append(_("Put it in force?"))
    return "\n".join(lines)


def origin_text(version: ProgramVersion) -> str:
    origins = {
        "file": _("from the program file"),
        "cli": _("from the command line"),
        "telegram": _("in Telegram"),
        "revert": _("back to an earlier version"),
    }
    return origins.get(version.origin, escape(version.origin))


def history_text(
    versions: list[ProgramVersion], earlier: ProgramVersion | None, zone: ZoneInfo
) -> str:
    """`versions` newest first; `earlier` the one before the last shown (for its changes)."""
    if not versions:
        return _("No versions are stored yet.")
    lines = [_("<b>Program versions</b>, newest first")]
    chain = [*versions, earlier]
    for version, before in zip(versions, chain[1:], strict=False):
        author = _("owner {id}", id=version.author_id) if version.author_id else ""
        head = _(
            "<b>Version {number}</b>, {moment}, {origin}",
            number=version.number,
            moment=when(version.created_at, zone),
            origin=origin_text(version),
        )
        lines.append(f"{head} {author}".rstrip())
        if before is not None:
            try:
                found = changes(before.document, version.document)
            except ProgramError:
                found = []
            shown = [change_line(c, before.document, version.document) for c in found]
            shown = [line for line in shown if line]
            lines += ["  " + line for line in shown[:5]]
            if len(shown) > 5:
                lines.append("  " + _("and {count} more", count=number(len(shown) - 5)))
    return "\n".join(lines)


MESSAGE_LIMIT = 3500  # under Telegram's 4096 characters, counting the markup too


def keys_listing(document: Document) -> list[str]:
    """/set without arguments: every key with its value and how to type it, a list item
    to a line, in as many messages as it takes."""
    lines = [
        _(
            "<b>Change a setting:</b> <code>/set key value</code>, e.g. "
            "<code>/set earn_rate 2</code>, <code>/set tiers[2].spend 1500</code>, "
            "<code>/set tiers[4] Platinum 3000 2</code> (a new tier), "
            "<code>/set tiers[4] remove</code>."
        )
    ]
    for group, title in GROUPS:
        keys = [f"<code>{f.key}</code> {value_text(f, document.get(f.key))}" for f in FIELDS[group]]
        items: list[str] = []
        if group in LISTS:
            for index, item in enumerate(document.get(group, []), start=1):
                fields = [
                    f"<code>{group}[{index}].{f.key}</code> {value_text(f, item.get(f.key))}"
                    for f in LISTS[group]
                ]
                items.append("; ".join(fields))
            if not document.get(group):
                items.append(f"<code>{group}[1]</code> —")
        lines.append(f"<b>{_(title)}</b>: " + "; ".join(keys) if keys else f"<b>{_(title)}</b>")
        lines += items
    return pack(lines)


def pack(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines joined into messages of at most `limit` characters, never splitting a line."""
    messages: list[str] = []
    for line in lines:
        if messages and len(messages[-1]) + 1 + len(line) <= limit:
            messages[-1] += "\n" + line
        else:
            messages.append(line)
    return messages


def confirmed_text(number_: int) -> str:
    return _(
        "Version {number} is in force: new operations follow it from now on.",
        number=number_,
    )


def changed_meanwhile(number_: int | None) -> str:
    return _(
        "The program changed meanwhile (version {number} is in force now). Nothing was "
        "changed; look at /program and try again.",
        number=number_ or 0,
    )


def what_changed_draft(changes: list[Change], old: Document, new: Document) -> str:
    """For customers: the owner's own settings (reports, alerts, the largest purchase a
    cashier may book) are left out."""
    told = [c for c in changes if c.path.key not in OWNER_ONLY]
    lines = [_("Our loyalty program has changed:")]
    lines += ["• " + line for line in (change_line(c, old, new) for c in told) if line]
    lines.append(_("See /program for the rules."))
    return "\n".join(lines)
