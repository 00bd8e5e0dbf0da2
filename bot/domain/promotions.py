"""The owner's promotion text: what it may contain (known placeholders, Telegram's HTML tags,
closed, within the length limit) and filling its placeholders for one customer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from html import escape
from html.parser import HTMLParser

from bot.domain.marks import N_
from storage import Audience, AudienceFilter, Segment

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("name", "balance", "tier", "next_tier", "card")
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "blockquote", "span"}
)  # fmt: skip
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problem = self.problem or tag
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problem = self.problem or tag
        else:
            self.open.pop()


def text_problems(text: str, caption: bool) -> list[tuple[str, dict[str, str]]]:
    """What is wrong with the owner's text, as untranslated messages with parameters."""
    problems: list[tuple[str, dict[str, str]]] = []
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        problems.append(
            (
                N_("Unknown placeholder {names}. You can use {known}."),
                {
                    "names": ", ".join("{" + n + "}" for n in unknown),
                    "known": ", ".join("{" + n + "}" for n in PLACEHOLDERS),
                },
            )
        )
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.problem or checker.open:
        tag = checker.problem or checker.open[-1]
        problems.append(
            (
                N_("The formatting tag &lt;{tag}&gt; is not allowed or not closed."),
                {"tag": escape(tag)},
            )
        )
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if len(text) > limit - 100:  # room for personalization
        problems.append(
            (
                N_("The text is too long: keep it under {limit} characters."),
                {"limit": str(limit - 100)},
            )
        )
    if not text.strip():
        problems.append((N_("The message is empty."), {}))
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with each known {placeholder} replaced by its value, HTML-escaped; anything
    else in braces stays as written."""
    return PLACEHOLDER.sub(lambda m: escape(values.get(m.group(1), m.group(0))), text)


TOP_SPEND_WINDOW = timedelta(days=365)  # "top spenders" rank by the last 12 months' spend


def audience_filter(audience: Audience, now: datetime) -> AudienceFilter:
    """What each audience means at `now`, as the conditions storage selects customers by;
    its parameter (days, a share, a tier, a month, an offer) comes with the audience."""
    segment, param = audience.segment, audience.param
    if segment is Segment.EVERYONE:
        return AudienceFilter()
    if segment is Segment.TIER:
        name, _sep, first = param.partition("|")  # "Silver", or "Bronze|first": the lowest
        return AudienceFilter(tiers=(name,), untiered=bool(first))  # holds the untiered too
    if segment is Segment.NEW:
        return AudienceFilter(joined_since=now - timedelta(days=int(param)))
    if segment is Segment.LAPSED:
        return AudienceFilter(no_purchase_since=now - timedelta(days=int(param)))
    if segment is Segment.BIRTHDAYS:
        return AudienceFilter(birthday_month=int(param))
    if segment is Segment.TOP:
        return AudienceFilter(top_spend_percent=int(param), spend_since=now - TOP_SPEND_WINDOW)
    if segment is Segment.REFERRERS:
        return AudienceFilter(referred_friends=True)
    if segment is Segment.OFFER:
        return AudienceFilter(granted_offer=int(param))
    if segment is Segment.EXPIRING:
        return AudienceFilter(points_expiring=(now, now + timedelta(days=int(param))))
    raise ValueError(audience)
