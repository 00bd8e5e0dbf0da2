"""Strict parsing of dates people type (birthdays)."""

from __future__ import annotations

import re
from datetime import date

_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
OLDEST_AGE = 120


class DateError(ValueError):
    """`reason` is one of: format, calendar, future, past."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_birthday(text: str, today: date) -> date:
    """'31.12.1990', '31/12/1990', '31-12-1990' or '1990-12-31'; ASCII digits only."""
    text = text.strip()
    if not text.isascii():
        raise DateError("format")
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise DateError("format")
    try:
        born = date(year, month, day)
    except ValueError:
        raise DateError("calendar") from None
    if born > today:
        raise DateError("future")
    if today.year - born.year > OLDEST_AGE:
        raise DateError("past")
    return born
