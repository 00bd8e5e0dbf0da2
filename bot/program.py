"""The loyalty program file (TOML): loaded once, validated with errors that name the key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bot.i18n import N_

BUILTIN_TIER_NAMES = (N_("Bronze"), N_("Silver"), N_("Gold"))
MAX_POINTS = 1_000_000
MAX_MONEY_MINOR = 10**12
KNOWN_KEYS = frozenset(
    {
        "welcome_bonus",
        "tiers",
        "earn_rate",
        "min_purchase",
        "max_purchase",
        "point_value",
        "max_redeem_share",
    }
)


class ProgramError(Exception):
    """`problem` is an untranslated message; `params` fill its placeholders."""

    def __init__(self, path: Path, key: str, problem: str, **params: Any) -> None:
        super().__init__(f"{path}: {key}: {problem.format(**params)}")
        self.path = path
        self.key = key
        self.problem = problem
        self.params = params


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    spend_minor: int


@dataclass(frozen=True, slots=True)
class Program:
    welcome_bonus: int
    tiers: tuple[Tier, ...]
    earn_rate_hundredths: int = 100  # points per 1.00 of purchase, x100 (1.5 -> 150)
    min_purchase_minor: int = 0
    max_purchase_minor: int = 100_000_00
    point_value_minor: int = 5  # what one point takes off a bill when spent
    max_redeem_share: int = 50  # percent of a bill payable with points

    def tier_for(self, spend_minor: int) -> Tier:
        reached = self.tiers[0]
        for tier in self.tiers:
            if spend_minor >= tier.spend_minor:
                reached = tier
        return reached


DEFAULT_PROGRAM = Program(welcome_bonus=0, tiers=(Tier("Bronze", 0),))


# --- rules: pure functions of the program -------------------------------------------------


def points_for_purchase(program: Program, bill_minor: int) -> int:
    """Points earned on a bill: floor(amount x rate); nothing below the minimum purchase."""
    if bill_minor < program.min_purchase_minor or bill_minor <= 0:
        return 0
    return bill_minor * program.earn_rate_hundredths // 10_000


def max_redeemable(program: Program, balance: int, bill_minor: int) -> int:
    """The most points that may pay part of this bill: the balance and the share cap."""
    cap = bill_minor * program.max_redeem_share // 100 // program.point_value_minor
    return max(0, min(balance, cap))


def points_value_minor(program: Program, points: int) -> int:
    return points * program.point_value_minor


def reversal_points(
    earned: int, bill_minor: int, refunded_before_minor: int, refund_minor: int
) -> int:
    """Points to take back for refunding `refund_minor` of a purchase, pro rata.

    Computed on the cumulative refunded amount, so partial refunds that add up to the whole
    bill take back exactly what was earned, never more.
    """
    if bill_minor <= 0:
        return 0
    total_after = min(bill_minor, refunded_before_minor + refund_minor)
    return earned * total_after // bill_minor - earned * refunded_before_minor // bill_minor


def money_to_minor(value: Any) -> int:
    """12 -> 1200, 12.5 or "12.50" -> 1250; anything else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(value)
    if isinstance(value, str) and not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", value):
        raise ValueError(value)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(value) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(value)
    minor = int(amount * 100)
    if minor > MAX_MONEY_MINOR:
        raise ValueError(value)
    return minor


def _points(data: dict[str, Any], key: str, path: Path, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POINTS:
        raise ProgramError(path, key, N_("must be a whole number from 0 to {max}"), max=MAX_POINTS)
    return value


def parse_program(data: dict[str, Any], path: Path) -> Program:
    welcome = _points(data, "welcome_bonus", path, 0)
    raw_tiers = data.get("tiers", [{"name": "Bronze", "spend": 0}])
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise ProgramError(path, "tiers", N_("must be a list of [[tiers]] tables"))
    tiers: list[Tier] = []
    for index, raw in enumerate(raw_tiers, start=1):
        where = f"tiers[{index}]"
        if not isinstance(raw, dict):
            raise ProgramError(path, where, N_("must be a table with name and spend"))
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 32:
            raise ProgramError(path, f"{where}.name", N_("must be a name of 1 to 32 characters"))
        try:
            spend = money_to_minor(raw.get("spend", 0))
        except ValueError:
            raise ProgramError(
                path, f"{where}.spend", N_("must be an amount like 500 or 499.99")
            ) from None
        if tiers and spend <= tiers[-1].spend_minor:
            raise ProgramError(path, f"{where}.spend", N_("must be higher than the tier before"))
        if not tiers and spend != 0:
            raise ProgramError(path, f"{where}.spend", N_("the first tier must start at 0"))
        tiers.append(Tier(name.strip(), spend))
    money = {}
    for key, default in (
        ("earn_rate", 1),
        ("min_purchase", 0),
        ("max_purchase", 100_000),
        ("point_value", "0.05"),
    ):
        try:
            money[key] = money_to_minor(data.get(key, default))
        except ValueError:
            raise ProgramError(path, key, N_("must be an amount like 500 or 499.99")) from None
    if not 1 <= money["max_purchase"] <= MAX_MONEY_MINOR:
        raise ProgramError(path, "max_purchase", N_("must be more than 0"))
    if money["point_value"] < 1:
        raise ProgramError(path, "point_value", N_("must be at least 0.01"))
    if money["min_purchase"] > money["max_purchase"]:
        raise ProgramError(path, "min_purchase", N_("must not be above max_purchase"))
    share = data.get("max_redeem_share", 50)
    if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= 100:
        raise ProgramError(
            path, "max_redeem_share", N_("must be a whole number from 0 to {max}"), max=100
        )
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise ProgramError(path, sorted(unknown)[0], N_("is not a known setting"))
    return Program(
        welcome_bonus=welcome,
        tiers=tuple(tiers),
        earn_rate_hundredths=money["earn_rate"],
        min_purchase_minor=money["min_purchase"],
        max_purchase_minor=money["max_purchase"],
        point_value_minor=money["point_value"],
        max_redeem_share=share,
    )


def load_program(path: Path) -> Program:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProgramError(path, "PROGRAM_FILE", N_("the file does not exist")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(path, "TOML", N_("is not valid TOML: {error}"), error=str(exc)) from None
    return parse_program(data, path)
