"""SQL functions the migrations call (registered on the connection that applies them)."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers


def phone_e164(stored: str | None) -> str | None:
    """A stored phone number in E.164 when `phonenumbers` can read it as an international
    number (they were saved as '+' and digits: '+3800671234567' -> '+380671234567');
    anything else unchanged, so nothing is lost."""
    if stored is None:
        return None
    text = stored.strip()
    try:
        number = phonenumbers.parse(text if text.startswith("+") else "+" + text, None)
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_possible_number(number):
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


SQL_FUNCTIONS: dict[str, Callable[[str | None], str | None]] = {"phone_e164": phone_e164}
