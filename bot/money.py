"""Money in integer minor units (cents): strict parsing of what a cashier types, and formatting."""

from __future__ import annotations

import re

# Group separators people type: space, no-break space, narrow no-break space.
_GROUPS = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+$")
_PLAIN = re.compile(r"^\d+$")
DEFAULT_MAX_MINOR = 100_000_00


class AmountError(ValueError):
    """`reason`: format, decimals, zero or too_large."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_amount(text: str, max_minor: int = DEFAULT_MAX_MINOR) -> int:
    """'12.50', '12,50', '1 250' -> minor units. ASCII digits, one separator, two decimals."""
    text = text.strip()
    if not text or len(text) > 32 or not all(c.isascii() or c in "\u00a0\u202f" for c in text):
        raise AmountError("format")
    whole, sep, fraction = text.replace(",", ".", 1).partition(".")
    if sep and "." in fraction:
        raise AmountError("format")
    if not (_PLAIN.match(whole) or _GROUPS.match(whole)):
        raise AmountError("format")
    if sep and not (fraction.isdigit() and fraction.isascii()):
        raise AmountError("format")
    if len(fraction) > 2:
        raise AmountError("decimals")
    digits = re.sub(r"\D", "", whole)
    if len(digits) > 15:
        raise AmountError("too_large")
    minor = int(digits) * 100 + int(fraction.ljust(2, "0") or "0")
    if minor == 0:
        raise AmountError("zero")
    if minor > max_minor:
        raise AmountError("too_large")
    return minor


def format_amount(minor: int) -> str:
    """Plain, locale-free form that parse_amount reads back: 1250 -> '12.50'."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"
