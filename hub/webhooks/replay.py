"""Replay protection of the webhook intake: remember accepted deliveries for their window.

A delivery is claimed (all its replay keys at once) before it is written to Kafka and released
again when the write fails, so a provider's retry after a failed write is not mistaken for a
replay. `InMemoryReplayCache` is bounded and lives in one process: with several intake replicas
behind a load balancer each replica sees only its own share, and a replay sent to another
replica passes. Run one replica, use sticky routing per source, or put a shared store (Redis
`SET key 1 NX PXAT until`, a database table with a unique key) behind `ReplayStore`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class ReplayStore(Protocol):
    """Where the intake remembers the deliveries it accepted."""

    async def claim(self, keys: Sequence[str], *, now: datetime, until: datetime) -> bool:
        """Record `keys` until `until`; False (and nothing recorded) if any is still known."""
        ...

    async def release(self, keys: Sequence[str]) -> None:
        """Forget `keys` (their delivery was not written after all)."""
        ...


class InMemoryReplayCache:
    """A bounded in-process ReplayStore; the oldest entries go first when it is full."""

    def __init__(self, *, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._max_entries = max_entries
        self._until: OrderedDict[str, datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._until)

    async def claim(self, keys: Sequence[str], *, now: datetime, until: datetime) -> bool:
        """Record `keys` until `until`; False (and nothing recorded) if any is still known."""
        self._expire(now)
        if any(self._until.get(key, now) > now for key in keys):
            return False
        for key in keys:
            self._until[key] = until
            self._until.move_to_end(key)
        while len(self._until) > self._max_entries:
            self._until.popitem(last=False)
        return True

    async def release(self, keys: Sequence[str]) -> None:
        """Forget `keys` (their delivery was not written after all)."""
        for key in keys:
            self._until.pop(key, None)

    def _expire(self, now: datetime) -> None:
        # Entries are kept in insertion order and windows are similar, so expired ones gather
        # at the front; a long-lived entry there only delays the purge of the ones behind it.
        while self._until:
            key, until = next(iter(self._until.items()))
            if until > now:
                break
            del self._until[key]
