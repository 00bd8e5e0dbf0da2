"""Phone numbers: parsed with `phonenumbers` (Google's libphonenumber) and kept in one form,
E.164 ('+38970123456'), for storing and searching; masked for staff."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

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
