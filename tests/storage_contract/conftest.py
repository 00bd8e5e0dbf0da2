"""The storage contract: every test in this folder is written against `storage.ports` only
and runs once per backend, through the one `backend` fixture below. A new backend is one
more entry in `BACKENDS` (and its opener), nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.domain.promotions import audience_filter
from storage import AudienceRule, SQLiteStorage, Storage
from tests.helpers import seed_customers

BACKENDS = ["sqlite"]


@dataclass(frozen=True)
class Backend:
    """One storage backend under test."""

    name: str
    open: Callable[..., Awaitable[Storage]]  # the test's database (opened again, it holds
    # everything written before); `audiences=` another AudienceRule than the domain's
    fresh: Callable[[], Awaitable[Storage]]  # a new, empty database (one per property example)
    seed: Callable[[int, int], list[int]]  # (count, first Telegram id): customers written
    # straight into the test's database in bulk; returns their Telegram ids


def sqlite_backend(folder: Path) -> Backend:
    path = str(folder / "test.db")

    async def open_file(audiences: AudienceRule = audience_filter) -> Storage:
        return await SQLiteStorage.open(path, audiences=audiences)

    async def fresh() -> Storage:
        return await SQLiteStorage.open(":memory:", audiences=audience_filter)

    return Backend(
        "sqlite", open_file, fresh, lambda count, first: seed_customers(path, count, first)
    )


OPENERS = {"sqlite": sqlite_backend}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return OPENERS[request.param](tmp_path)


@pytest.fixture
async def storage(backend: Backend) -> AsyncIterator[Storage]:
    store = await backend.open()
    yield store
    await store.close()
