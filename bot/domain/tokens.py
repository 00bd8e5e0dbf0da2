"""Card numbers and deep-link payloads: random, unguessable, and strict to parse."""

from __future__ import annotations

import re
import secrets
from collections.abc import Set
from enum import StrEnum

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CARD_DIGITS = 8


class LinkKind(StrEnum):
    CARD = "c"
    STAFF_INVITE = "s"
    REFERRAL = "r"
    JOIN = "j"  # a shop's public join link (poster, flyer): `j_<source tag>`


# A join link's source tag: short, lowercase, readable on a poster; the whole payload stays
# far under Telegram's 64-character start parameter.
SOURCE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$")
SOURCE_MAX = 24
# Names /stats uses for customers who came without a poster's tag; never a poster's tag.
RESERVED_SOURCES = frozenset({"direct", "referral"})


def new_payload(kind: LinkKind) -> str:
    if kind is LinkKind.JOIN:
        raise ValueError("a join link carries a source tag, not a random token: join_payload")
    # 16 random bytes -> 22 url-safe characters; with the prefix 24, well under Telegram's 64.
    return f"{kind.value}_{secrets.token_urlsafe(16)}"


def valid_source(tag: str) -> bool:
    """A source tag an owner may put on a join link."""
    return bool(SOURCE_RE.match(tag)) and tag not in RESERVED_SOURCES


def join_payload(source: str) -> str:
    if not valid_source(source):
        raise ValueError(f"not a source tag: {source!r}")
    return f"{LinkKind.JOIN.value}_{source}"


def parse_payload(text: str | None) -> tuple[LinkKind, str] | None:
    """(kind, whole payload) for a well-formed payload, else None. Never raises.
    For a join link, the second item is the source tag alone."""
    if not text or not PAYLOAD_RE.match(text):
        return None
    prefix, sep, rest = text.partition("_")
    if prefix == LinkKind.JOIN.value and sep:
        return (LinkKind.JOIN, rest) if valid_source(rest) else None
    if not sep or len(rest) < 16:
        return None
    try:
        return LinkKind(prefix), text
    except ValueError:
        return None


def luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def new_card_number() -> str:
    """Eight digits, the last a Luhn check digit so a mistyped digit is caught at the till."""
    body = str(secrets.randbelow(9 * 10 ** (CARD_DIGITS - 2)) + 10 ** (CARD_DIGITS - 2))
    return body + luhn_digit(body)


def normalize_card_number(text: str) -> str | None:
    """'1234 5678', '1234-5678' or '12345678' -> '12345678' when valid, else None."""
    compact = re.sub(r"[\s-]", "", text)
    if len(compact) != CARD_DIGITS or not (compact.isascii() and compact.isdigit()):
        return None
    if luhn_digit(compact[:-1]) != compact[-1]:
        return None
    return compact


def format_card_number(number: str) -> str:
    return f"{number[:4]} {number[4:]}"


def new_card_identity() -> tuple[str, str]:
    return new_card_number(), new_payload(LinkKind.CARD)


def distinct_card_identities(count: int, taken: Set[str] = frozenset()) -> list[tuple[str, str]]:
    """Distinct (card number, payload) pairs for bulk seeding, none of them in `taken`. With
    9 million numbers, a thousand random draws collide about one time in twenty;
    registration redraws on a collision, and so must anything that writes many cards."""
    numbers: dict[str, str] = {}
    while len(numbers) < count:
        number, payload = new_card_identity()
        if number not in taken:
            numbers.setdefault(number, payload)
    return list(numbers.items())


def new_operation_id() -> str:
    return secrets.token_urlsafe(12)
