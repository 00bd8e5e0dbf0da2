"""aiogram's in-memory FSM storage, without the entry it keeps for everyone forever.

aiogram's `MemoryStorage` is a `defaultdict`: merely reading a user's state (which the
dispatcher does for every update) creates a record, so every user who ever wrote stays in
memory until a restart. Here reading creates nothing, a record with no state and no data
is dropped at once (leaving a step with `state.clear()` leaves nothing behind), and a record
not used for `idle` seconds (a step abandoned half-way) is forgotten.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

IDLE = 24 * 3600.0  # seconds: a step untouched for a day is abandoned


# A StorageKey as a plain tuple: the dataclass instance costs about 300 bytes more per user.
_Key = tuple[int, int, int, int | None, str | None, str]


def _compact(key: StorageKey) -> _Key:
    return (
        key.bot_id,
        key.chat_id,
        key.user_id,
        key.thread_id,
        key.business_connection_id,
        key.destiny,
    )


class _Record:
    __slots__ = ("data", "state", "used")

    def __init__(self, used: float) -> None:
        self.state: str | None = None
        self.data: dict[str, Any] | None = None  # None rather than an empty dict each
        self.used = used


class ForgetfulMemoryStorage(BaseStorage):
    """States and data in memory, only while someone is in a step or holds data, and for
    at most `idle` seconds without use; records are kept oldest-used first, so forgetting
    the idle ones costs nothing per update beyond those forgotten."""

    def __init__(self, idle: float = IDLE, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle
        self.clock = clock
        self._records: OrderedDict[_Key, _Record] = OrderedDict()

    @property
    def size(self) -> int:
        """Records held. (Not `__len__`: aiogram picks `storage or MemoryStorage()`, and an
        empty storage would then be falsy and silently replaced.)"""
        return len(self._records)

    def _get(self, key: _Key) -> _Record | None:
        now = self.clock()
        horizon = now - self.idle
        while self._records and next(iter(self._records.values())).used <= horizon:
            self._records.popitem(last=False)
        record = self._records.get(key)
        if record is not None:
            record.used = now
            self._records.move_to_end(key)
        return record

    def _put(self, key: _Key, state: str | None, data: dict[str, Any] | None) -> None:
        if state is None and not data:
            self._records.pop(key, None)
            return
        record = self._get(key)
        if record is None:
            record = self._records[key] = _Record(self.clock())
        # The same few state names for everyone: one string each, not one per user.
        record.state, record.data = (sys.intern(state) if state else None), (data or None)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        compact = _compact(key)
        record = self._get(compact)
        value = state.state if isinstance(state, State) else state
        self._put(compact, value, record.data if record else None)

    async def get_state(self, key: StorageKey) -> str | None:
        record = self._get(_compact(key))
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        compact = _compact(key)
        record = self._get(compact)
        self._put(compact, record.state if record else None, data.copy())

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = self._get(_compact(key))
        return record.data.copy() if record and record.data else {}

    async def close(self) -> None:
        self._records.clear()
