"""Ports for how customers find the shop and how its cards look: where each new customer
joined from (a poster's source tag), and the shop's logo and card colours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# What /stats calls customers who joined without a source tag: through a friend's invitation
# or card, or a plain /start.
REFERRAL_SOURCE = "referral"
DIRECT_SOURCE = "direct"


@dataclass(frozen=True, slots=True)
class BrandingState:
    """The shop's look: a palette key (None: the default) and the logo's digest (None: no
    logo). Small, so it is read on every card; the logo's bytes only when drawing."""

    palette: str | None = None
    logo_digest: str | None = None


class JoinSources(Protocol):
    async def record_join_source(self, customer_id: int, source: str) -> None:
        """Where a new customer joined from; the first one recorded stays."""
        ...

    async def join_sources(self, since: datetime, until: datetime) -> dict[str, int]:
        """Customers who joined in [since, until) by source: their recorded tag, else
        `REFERRAL_SOURCE` when a friend referred them, else `DIRECT_SOURCE`."""
        ...


class Branding(Protocol):
    async def branding(self) -> BrandingState: ...
    async def logo(self) -> bytes | None: ...
    async def set_logo(self, png: bytes | None, digest: str | None) -> None:
        """Store the (already normalised) logo, or remove it with None."""
        ...

    async def set_palette(self, palette: str) -> None: ...


class Presence(JoinSources, Branding, Protocol):
    """Both of this module's ports: part of `storage.ports.Storage`."""
