"""Editing the program: a typed change applied to a copy of the document, the new whole
validated by `parse_program` (whose errors name the key), what changed key by key, and what
the change would mean for the shop's customers (tiers, an example purchase, stamps held)."""

from __future__ import annotations

import copy
import secrets
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FilePath
from typing import Any

from bot.domain.marks import N_
from bot.domain.program.document import Document, program_to_document
from bot.domain.program.loader import parse_program
from bot.domain.program.model import Earning, Program
from bot.domain.program.rules import (
    base_earning,
    points_value_minor,
    stamp_rewards,
    tier_window_start,
)
from bot.domain.program.schema import LISTS, EditError, Path, parse_path, read_value
from storage import Storage

EDITED = FilePath("telegram")  # what a validation error names in place of a file
REMOVE_WORDS = frozenset({"-", "remove", "delete"})
EXAMPLE_BILL = 10_00  # the example purchase a preview shows, when no minimum is higher


def validate(document: Document) -> Program:
    """The program the document means; raises ProgramError naming the key."""
    return parse_program(document, EDITED)


def set_value(document: Document, path: Path, typed: str) -> Document:
    """A copy of the document with one key set from what was typed."""
    new = copy.deepcopy(document)
    if path.index is not None and path.item_key is None:
        return _set_item(new, path, typed)
    field = path.field
    assert field is not None
    value = read_value(field, str(path), typed)
    if path.index is None:
        new[path.key] = "" if value is None else value
        return new
    items = new.get(path.key, [])
    if path.index > len(items):
        raise EditError(str(path), N_("there is no item {number}"), number=path.index)
    item = items[path.index - 1]
    if value is None:
        item.pop(field.key, None)
    else:
        item[field.key] = value
    return new


def _item_from_words(key: str, path: Path, typed: str) -> dict[str, Any]:
    """`Platinum 3000 2` (a tier: name, spend, multiplier) or `Cake 200` (a reward)."""
    words = typed.split()
    fields = LISTS[key]
    numbers = 2 if key == "tiers" and len(words) >= 3 and _numeric(words[-2]) else 1
    if len(words) <= numbers or not all(_numeric(w) for w in words[-numbers:]):
        raise EditError(str(path), _ITEM_HINT[key])
    item: dict[str, Any] = {"name": " ".join(words[:-numbers])}
    for field, word in zip(fields[1:], words[-numbers:], strict=False):
        item[field.key] = read_value(field, f"{path}.{field.key}", word)
    return item


def _numeric(word: str) -> bool:
    return word.lstrip("x\u00d7").replace(",", ".").replace(".", "", 1).isdigit()


_ITEM_HINT = {
    "tiers": N_("type a name, the spend and optionally a multiplier, like: Platinum 3000 2.5"),
    "rewards": N_("type a name and the cost in points, like: Free cake 200"),
}


def _set_item(document: Document, path: Path, typed: str) -> Document:
    assert path.index is not None
    items: list[dict[str, Any]] = document.setdefault(path.key, [])
    text = typed.strip()
    if text.lower() in REMOVE_WORDS:
        if path.index > len(items):
            raise EditError(str(path), N_("there is no item {number}"), number=path.index)
        del items[path.index - 1]
        return document
    if text.startswith("{"):
        try:
            item = tomllib.loads(f"item = {text}")["item"]
        except tomllib.TOMLDecodeError:
            raise EditError(str(path), _ITEM_HINT[path.key]) from None
        if not isinstance(item, dict):
            raise EditError(str(path), _ITEM_HINT[path.key])
    else:
        item = _item_from_words(path.key, path, text)
    if path.index == len(items) + 1:
        items.append(item)
    elif path.index <= len(items):
        items[path.index - 1] = item
    else:
        raise EditError(
            str(path), N_("add it as {key}[{number}]"), key=path.key, number=len(items) + 1
        )
    return document


def apply_command(document: Document, text: str) -> tuple[Path, Document]:
    """`/set KEY VALUE`'s arguments: the key and the edited copy (not yet validated)."""
    key, _, value = text.strip().partition(" ")
    path = parse_path(key)
    if not value.strip():
        raise EditError(str(path), N_("type the new value after the key"))
    return path, set_value(document, path, value)


# --- what changed ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """One key's old and new value. A whole removed list item is one change at its old
    position (`path.item_key` None, `new` None); automatic offers change as one list."""

    path: Path
    old: Any  # None: not set before (a new item's key)
    new: Any  # None: gone (a removed item, a cleared tier share)


def _item_changes(key: str, old: list[Document], new: list[Document]) -> list[Change]:
    """Items compared by position while their number stays (a rename is a change in place);
    when items were added or removed, by name (names are unique), so removing a middle tier
    reads as that tier removed, not as the ones after it renamed."""
    fields = [field.key for field in LISTS[key]]
    if len(old) == len(new):
        pairs: list[tuple[int | None, int]] = [(i, i) for i in range(1, len(new) + 1)]
    else:
        at = {item.get("name"): index for index, item in enumerate(old, start=1)}
        pairs = [(at.pop(item.get("name"), None), j) for j, item in enumerate(new, start=1)]
    found: list[Change] = []
    for i, j in pairs:
        was = old[i - 1] if i is not None else {}
        now = new[j - 1]
        found += [
            Change(Path(key, j, field), was.get(field), now.get(field))
            for field in fields
            if was.get(field) != now.get(field)
        ]
    kept = {i for i, _j in pairs}
    found += [
        Change(Path(key, i), item, None) for i, item in enumerate(old, start=1) if i not in kept
    ]
    return found


def changes(old: Document, new: Document) -> list[Change]:
    """Key by key in the program file's order, list items after their keys; both read as
    the programs they mean, so a default left out is no change."""
    before, after = (program_to_document(validate(d)) for d in (old, new))
    found: list[Change] = []
    for key, value in after.items():
        if key in LISTS:
            found += _item_changes(key, before[key], value)
        elif before[key] != value:
            found.append(Change(Path(key), before[key], value))
    return found


def tier_renames(old: Program, new: Program) -> dict[str, str]:
    """Tiers renamed in place (old name -> new): the same number of tiers, a name at one
    position that the other program does not use. Customers hold their tier by name, so the
    version that renames it moves them along; otherwise a renamed Silver would read as the
    lowest tier and its holders be told of an upgrade at their next purchase."""
    if len(old.tiers) != len(new.tiers):
        return {}
    before = {tier.name for tier in old.tiers}
    after = {tier.name for tier in new.tiers}
    return {
        was.name: now.name
        for was, now in zip(old.tiers, new.tiers, strict=True)
        if was.name != now.name and was.name not in after and now.name not in before
    }


# --- what it would mean ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Effects:
    moving_down: int | None = None  # at the next daily review; None: tiers unchanged
    moving_up: int | None = None  # reached a higher tier: raised at their next purchase
    example_bill: int = EXAMPLE_BILL
    example: tuple[int, int] | None = None  # (earned now, earned then); None: same
    holders: tuple[int, int] | None = None  # (customers, units held) when earning switches
    switch: tuple[Earning, Earning] | None = None
    rewards_ready: int = 0  # to stamps: the stamp rewards those balances would make at once
    worth_minor: int = 0  # from stamps: what those balances would take off bills as points


def example_bill(program: Program) -> int:
    return max(EXAMPLE_BILL, program.min_purchase_minor)


async def effects(storage: Storage, old: Program, new: Program, now: datetime) -> Effects:
    moving_down = moving_up = None
    holders = switch = None
    ready = worth = 0
    tiers_changed = (old.tiers, old.tier_window) != (new.tiers, new.tier_window)
    switching = old.stamps != new.stamps
    if tiers_changed or switching:
        spends = await storage.spends(tier_window_start(new, now))
        if tiers_changed:
            moving_down = moving_up = 0
            renamed = tier_renames(old, new)
            for customer, spend in spends:
                reached = new.tier_index(new.tier_for(spend).name)
                held = new.tier_index(renamed.get(customer.tier or "", customer.tier))
                moving_down += reached < held
                moving_up += reached > held
        if switching:
            holding = [customer.balance for customer, _spend in spends if customer.balance > 0]
            holders = (len(holding), sum(holding))
            switch = (old.earning, new.earning)
            if new.stamps:
                ready = sum(stamp_rewards(new, balance) for balance in holding)
            else:
                worth = points_value_minor(new, sum(holding))
    bill = example_bill(new)
    before, after = _example(old, bill), _example(new, bill)
    return Effects(
        moving_down,
        moving_up,
        bill,
        (before, after) if before != after else None,
        holders,
        switch,
        ready,
        worth,
    )


def _example(program: Program, bill: int) -> int:
    """What the bill earns a customer in the lowest tier."""
    multiplier = 100 if program.stamps else program.tiers[0].multiplier_hundredths
    return base_earning(program, bill) * multiplier // 100


# --- drafts awaiting Confirm --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    owner_id: int
    base: int | None  # the version the change was made on: saved only if still in force
    document: Document
    origin: str  # "telegram" or "revert"
    changes: tuple[Change, ...]
    old_document: Document


class ProgramDrafts:
    """Previews awaiting Confirm, by a random id drawn on the button; bounded, the oldest
    forgotten first. Taking one removes it: a second press of Confirm finds nothing."""

    LIMIT = 200

    def __init__(self) -> None:
        self._drafts: dict[str, Draft] = {}
        self._done: dict[str, Draft] = {}

    def add(self, draft: Draft) -> str:
        draft_id = secrets.token_urlsafe(9)
        self._drafts[draft_id] = draft
        while len(self._drafts) > self.LIMIT:
            del self._drafts[next(iter(self._drafts))]
        return draft_id

    def take(self, draft_id: str, owner_id: int) -> Draft | None:
        draft = self._drafts.get(draft_id)
        if draft is None or draft.owner_id != owner_id:
            return None
        return self._drafts.pop(draft_id)

    def done(self, draft: Draft) -> str:
        """A confirmed change, kept (under a new id) for its "tell customers" button."""
        done_id = secrets.token_urlsafe(9)
        self._done[done_id] = draft
        while len(self._done) > self.LIMIT:
            del self._done[next(iter(self._done))]
        return done_id

    def confirmed(self, done_id: str, owner_id: int) -> Draft | None:
        draft = self._done.get(done_id)
        return draft if draft is not None and draft.owner_id == owner_id else None
