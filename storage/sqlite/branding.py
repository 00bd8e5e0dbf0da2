"""The shop's look: one row holding the card palette and the logo (a normalised PNG)."""

from __future__ import annotations

import sqlite3

from storage.ports_branding import BrandingState
from storage.sqlite.engine import Engine, ts, utcnow


class BrandingStore(Engine):
    async def branding(self) -> BrandingState:
        # Read before every card is sent: a point read by primary key, on the event loop.
        row = await self._peek_one("SELECT palette, logo_digest FROM branding WHERE id = 1")
        return BrandingState(row[0], row[1]) if row else BrandingState()

    async def logo(self) -> bytes | None:
        row = await self._fetch_one("SELECT logo FROM branding WHERE id = 1")
        return bytes(row[0]) if row and row[0] is not None else None

    async def set_logo(self, png: bytes | None, digest: str | None) -> None:
        if (png is None) != (digest is None):
            raise ValueError("a logo and its digest go together")

        def body(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO branding (id, logo, logo_digest, updated_at) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET logo = excluded.logo, "
                "logo_digest = excluded.logo_digest, updated_at = excluded.updated_at",
                (png, digest, ts(utcnow())),
            )

        await self._write(body)

    async def set_palette(self, palette: str) -> None:
        def body(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO branding (id, palette, updated_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET palette = excluded.palette, "
                "updated_at = excluded.updated_at",
                (palette, ts(utcnow())),
            )

        await self._write(body)
