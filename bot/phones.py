"""Phone numbers: one normal form (+digits) for storing and searching, masked for staff."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_phone(text: str) -> str | None:
    """'+380 (67) 123-45-67' -> '+380671234567'; None unless 7 to 15 ASCII digits."""
    compact = _SEPARATORS.sub("", text.strip())
    digits = compact.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 15:
        return None
    return "+" + digits


def mask_phone(phone: str | None) -> str:
    """Cashiers see only the last digits: '+380671234567' -> '+38067•••••67'."""
    if not phone:
        return "—"
    keep_head, keep_tail = min(6, len(phone) - 4), 2
    return phone[:keep_head] + "•" * (len(phone) - keep_head - keep_tail) + phone[-keep_tail:]
