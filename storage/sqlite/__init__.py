"""The SQLite backend: WAL, STRICT tables, one writer thread, a reader thread, and point reads
on the event loop. `SQLiteStorage` is composed of one mixin per concern over `Engine`."""

from __future__ import annotations

from storage.files import beside, private_database, read_or_create_secret
from storage.ports import AudienceRule
from storage.sqlite.branding import BrandingStore
from storage.sqlite.customers import CustomerStore
from storage.sqlite.engine import Connection, utcnow
from storage.sqlite.grants import GrantStore
from storage.sqlite.imports import ImportStore
from storage.sqlite.join_sources import JoinSourceStore
from storage.sqlite.ledger import LedgerStore
from storage.sqlite.offers import OfferStore
from storage.sqlite.pending import PendingStore
from storage.sqlite.programs import ProgramStore
from storage.sqlite.promotions import PromotionStore
from storage.sqlite.referrals import ReferralStore
from storage.sqlite.reports import ReportStore
from storage.sqlite.segments import SegmentStore
from storage.sqlite.staff import StaffStore

__all__ = ["SQLiteStorage", "utcnow"]


class SQLiteStorage(
    CustomerStore,
    StaffStore,
    LedgerStore,
    PendingStore,
    GrantStore,
    ReferralStore,
    SegmentStore,
    PromotionStore,
    OfferStore,
    ReportStore,
    JoinSourceStore,
    BrandingStore,
    ImportStore,
    ProgramStore,
):
    """The `storage.ports.Storage` interface over one SQLite file."""

    @classmethod
    async def open(
        cls,
        path: str,
        former_secret: bytes | None = None,
        audiences: AudienceRule | None = None,
    ) -> SQLiteStorage:
        """`former_secret` defaults to the one in `<path>.key`, made on first start;
        `audiences` says what each promotion audience means (the domain's definitions:
        `bot.broadcast.audience_filter`), needed before any audience is asked for."""
        memory = path == ":memory:"
        if not memory:
            private_database(path)
            if former_secret is None:
                former_secret = read_or_create_secret(beside(path, ".key"))
        # An in-memory database cannot be shared by two connections; one serves both roles.
        writer = await Connection.open(path)
        try:
            reader = writer if memory else await Connection.open(path)
        except BaseException:
            await writer.close()
            raise
        storage = cls(writer, reader, former_secret, audiences)
        try:
            await storage._migrate()
            await storage._rekey_former()
            if not memory:
                storage._quick = cls._connect_quick(path)
        except BaseException:
            await storage.close()
            raise
        return storage
