"""Where customers find the shop: the source tags a poster's join link carries.

A tag is public (it is printed in the QR), so it names a place, never a person; anyone may
type one, and it only ever labels a new customer for the owner's figures."""

from __future__ import annotations

from bot.domain.marks import N_
from bot.domain.tokens import valid_source

# The places owners most often put a poster, offered as buttons; any other tag can be typed.
PRESETS: dict[str, str] = {
    "counter": N_("At the counter"),
    "window": N_("In the window"),
    "table": N_("On the tables"),
    "flyer": N_("Flyer"),
    "instagram": N_("On Instagram"),
}

# How /stats names those who came without a tag (see storage's join sources).
OTHER_LABELS: dict[str, str] = {
    "direct": N_("direct"),
    "referral": N_("referral"),
}


def parse_source(text: str) -> str | None:
    """A typed source tag, lowercased and trimmed, when valid; else None."""
    tag = text.strip().lower()
    return tag if valid_source(tag) else None


def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Sources with the most new members first, ties by name, empty ones left out."""
    return sorted(
        ((tag, count) for tag, count in counts.items() if count > 0),
        key=lambda item: (-item[1], item[0]),
    )
