"""Strict parsing of what people type: amounts into integer minor units (cents), birthdays,
and phone numbers, kept in one form, E.164 ('+38970123456'), for storing and searching
(parsed with `phonenumbers`, Google's libphonenumber), masked for staff."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

# --- amounts ------------------------------------------------------------------------------

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


# --- dates --------------------------------------------------------------------------------

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


# --- phone numbers ------------------------------------------------------------------------

# The country a shop's customers' local numbers belong to, by its DEFAULT_LOCALE; English
# names no country, so numbers must then be typed with their + and country code.
REGION_FOR_LOCALE: dict[str, str | None] = {
    "uk": "UA",
    "ru": "RU",
    "mk": "MK",
    "th": "TH",
    "en": None,
}
# Digits and the usual separators, one leading plus: no letters ('1-800-FLOWERS'), no
# other scripts' digits.
_TYPED = re.compile(r"\+?[\s(]*[0-9][0-9\s\-().]*")


def default_region(locale: str) -> str | None:
    return REGION_FOR_LOCALE.get(locale)


def is_region(code: str) -> bool:
    """A two-letter country code `phonenumbers` knows ('UA', 'MK', 'TH', ...)."""
    return code in phonenumbers.SUPPORTED_REGIONS


def parse_phone(text: str, region: str | None) -> str | None:
    """'070 123 456' (region MK), '+389 70 123 456' or '00389 70 123 456' -> '+38970123456';
    None unless it is a possible number. Without a region only '+' numbers parse."""
    compact = text.strip()
    if not _TYPED.fullmatch(compact):
        return None
    try:
        number = phonenumbers.parse(compact, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def contact_phone(text: str) -> str | None:
    """A contact's number as Telegram sends it (international, with or without '+')."""
    compact = text.strip()
    return parse_phone(compact if compact.startswith("+") else "+" + compact, None)


def mask_phone(phone: str | None) -> str:
    """Cashiers see only the last digits: '+380671234567' -> '+38067•••••67'."""
    if not phone:
        return "—"
    keep_head, keep_tail = min(6, len(phone) - 4), 2
    return phone[:keep_head] + "•" * (len(phone) - keep_head - keep_tail) + phone[-keep_tail:]
