"""The program's keys as an owner edits them: kind, group, label and hint (N_-marked, shown
translated), shared by the editor's buttons and `/set`. Reading a typed value gives the
document's value; whether the whole program still holds is `parse_program`'s to say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.marks import N_
from bot.domain.parsing import AmountError, parse_amount
from bot.domain.program.document import money_value
from bot.domain.program.loader import AMOUNT_HINT
from bot.domain.program.model import MAX_MONEY_MINOR, Earning, TierWindow


class Kind(StrEnum):
    MONEY = "money"  # 12.50, also typed "12,50"
    WHOLE = "whole"  # 50
    PERCENT = "percent"  # 0 to 100
    FACTOR = "factor"  # a multiplier: 1.5
    TEXT = "text"
    FLAG = "flag"  # yes / no: buttons
    CHOICE = "choice"  # one of `choices`: buttons


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the program file's key (in a list: the item's key)
    kind: Kind
    label: str  # N_-marked
    hint: str = ""  # N_-marked
    choices: tuple[str, ...] = ()
    optional: bool = False  # "-" clears it (a text to "", a tier's share to the program's)


GROUPS: tuple[tuple[str, str], ...] = (
    ("earning", N_("Earning")),
    ("purchases", N_("Purchases")),
    ("spending", N_("Spending")),
    ("rewards", N_("Rewards catalogue")),
    ("bonuses", N_("Bonuses")),
    ("referrals", N_("Referrals")),
    ("expiry", N_("Expiry")),
    ("cause", N_("Good cause")),
    ("tiers", N_("Tiers")),
    ("reports", N_("Reports and alerts")),
)

_POINTS = N_("points")
FIELDS: dict[str, tuple[Field, ...]] = {
    "earning": (
        Field(
            "earning",
            Kind.CHOICE,
            N_("Earning type"),
            choices=tuple(e.value for e in Earning),
        ),
        Field("earn_rate", Kind.MONEY, N_("Earn rate"), N_("points per 1.00 spent")),
        Field("cashback_percent", Kind.MONEY, N_("Cashback"), N_("percent of a purchase")),
        Field("stamps_for_reward", Kind.WHOLE, N_("Stamps for a reward")),
        Field("stamp_reward", Kind.TEXT, N_("Stamp reward"), N_("the free item"), optional=True),
        Field("stamp_reward_discount", Kind.MONEY, N_("Stamp reward discount")),
    ),
    "purchases": (
        Field("min_purchase", Kind.MONEY, N_("Smallest purchase that earns")),
        Field("max_purchase", Kind.MONEY, N_("Largest purchase at once")),
        Field("visit_cooldown_minutes", Kind.WHOLE, N_("Cooldown between visits, minutes")),
        Field("daily_cap", Kind.WHOLE, N_("Daily cap"), N_("0 = no cap")),
    ),
    "spending": (
        Field("point_value", Kind.MONEY, N_("Value of one point")),
        Field("max_redeem_share", Kind.PERCENT, N_("Largest share of a bill paid with points")),
    ),
    "rewards": (),
    "bonuses": (
        Field("welcome_bonus", Kind.WHOLE, N_("Welcome bonus"), _POINTS),
        Field("birthday_bonus", Kind.WHOLE, N_("Birthday bonus"), _POINTS),
    ),
    "referrals": (
        Field("referral_bonus", Kind.WHOLE, N_("Bonus for inviting"), _POINTS),
        Field("referral_friend_bonus", Kind.WHOLE, N_("Bonus for the invited friend"), _POINTS),
        Field("referral_min_purchase", Kind.MONEY, N_("Friend's first purchase at least")),
        Field("referral_monthly_cap", Kind.WHOLE, N_("Paid referrals a month"), N_("0 = no cap")),
    ),
    "expiry": (
        Field("expiry_days", Kind.WHOLE, N_("Points expire after, days"), N_("0 = never")),
        Field("expiry_reminder_days", Kind.WHOLE, N_("Reminder before expiry, days")),
    ),
    "cause": (
        Field("cause", Kind.TEXT, N_("Good cause"), N_("empty: no donations"), optional=True),
    ),
    "tiers": (
        Field(
            "tier_window",
            Kind.CHOICE,
            N_("Spend that counts for tiers"),
            choices=tuple(w.value for w in TierWindow),
        ),
    ),
    "reports": (
        Field("weekly_digest", Kind.FLAG, N_("Weekly digest")),
        Field("alert_customer_operations", Kind.WHOLE, N_("Alert: operations of one customer")),
        Field("alert_cashier_operations", Kind.WHOLE, N_("Alert: operations of one cashier")),
    ),
}
TIER_FIELDS = (
    Field("name", Kind.TEXT, N_("name")),
    Field("spend", Kind.MONEY, N_("spend to reach")),
    Field("multiplier", Kind.FACTOR, N_("points multiplier")),
    Field("max_redeem_share", Kind.PERCENT, N_("share of a bill"), optional=True),
)
REWARD_FIELDS = (
    Field("name", Kind.TEXT, N_("name")),
    Field("cost", Kind.WHOLE, N_("cost in points")),
)
LISTS = {"tiers": TIER_FIELDS, "rewards": REWARD_FIELDS}
LIST_LABELS = {"tiers": N_("Tier {number}"), "rewards": N_("Reward {number}")}
# Settings only the owner meets, left out of what customers are told changed.
OWNER_ONLY = frozenset(
    {"weekly_digest", "alert_customer_operations", "alert_cashier_operations", "max_purchase"}
)
TOP = {f.key: f for group in FIELDS.values() for f in group}
GROUP_OF = {f.key: group for group, fields in FIELDS.items() for f in fields}


@dataclass(frozen=True, slots=True)
class Path:
    """A key as typed: `earn_rate`, `tiers[2].spend`, `tiers[4]` (a whole item)."""

    key: str  # top-level key
    index: int | None = None  # 1-based, in a list
    item_key: str | None = None

    def __str__(self) -> str:
        if self.index is None:
            return self.key
        text = f"{self.key}[{self.index}]"
        return f"{text}.{self.item_key}" if self.item_key else text

    @property
    def field(self) -> Field | None:
        """The field a value is typed for; None for a whole list item."""
        if self.index is None:
            return TOP.get(self.key)
        if self.item_key is None:
            return None
        return next((f for f in LISTS[self.key] if f.key == self.item_key), None)


class EditError(ValueError):
    """`key` names what is wrong; `problem` is untranslated, `params` fill it."""

    def __init__(self, key: str, problem: str, /, **params: Any) -> None:
        super().__init__(f"{key}: {problem.format(**params)}")
        self.key = key
        self.problem = problem
        self.params = params


_PATH = re.compile(r"^([a-z_]+)(?:\[(\d{1,3})\](?:\.([a-z_]+))?)?$")


def parse_path(text: str) -> Path:
    match = _PATH.match(text.strip())
    if match is None:
        raise EditError(text.strip()[:40], N_("is not a known setting"))
    key, index, item_key = match.group(1), match.group(2), match.group(3)
    if index is None:
        if key not in TOP:
            raise EditError(key, N_("is not a known setting"))
        return Path(key)
    if key not in LISTS or int(index) < 1:
        raise EditError(text.strip(), N_("is not a known setting"))
    path = Path(key, int(index), item_key)
    if item_key is not None and path.field is None:
        raise EditError(str(path), N_("is not a known setting"))
    return path


FLAG_WORDS = {
    "yes": True,
    "no": False,
    "true": True,
    "false": False,
    "on": True,
    "off": False,
    "1": True,
    "0": False,
}
CLEAR = "-"


def read_value(field: Field, key: str, typed: str) -> Any:
    """The document's value for what was typed; EditError names `key` otherwise."""
    text = typed.strip()
    if field.optional and text == CLEAR:
        return None
    if field.kind is Kind.TEXT:
        return text
    if field.kind is Kind.FLAG:
        if text.lower() not in FLAG_WORDS:
            raise EditError(key, N_("must be true or false"))
        return FLAG_WORDS[text.lower()]
    if field.kind is Kind.CHOICE:
        if text not in field.choices:
            options = ", ".join(f'"{c}"' for c in field.choices)
            raise EditError(key, N_("must be one of {options}"), options=options)
        return text
    if field.kind in (Kind.WHOLE, Kind.PERCENT):
        digits = text.removesuffix("%").strip().replace(" ", "")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
            raise EditError(key, N_("must be a whole number, like 50"))
        return int(digits)
    if field.kind is Kind.FACTOR:
        text = text.lstrip("x*\u00d7").strip()
    if re.fullmatch(r"0+(?:[.,]0{1,2})?", text):
        return 0
    try:
        return money_value(parse_amount(text, MAX_MONEY_MINOR))
    except AmountError:
        raise EditError(key, AMOUNT_HINT) from None


def format_value(field: Field | None, value: Any) -> str:
    """A value as a person would type it back (the texts add locale formatting)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field is not None and field.kind is Kind.MONEY and isinstance(value, int | float):
        return f"{value:.2f}"
    return str(value)
