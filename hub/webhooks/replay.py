"""Replay protection of the webhook intake: remember accepted deliveries for their window.

A delivery is claimed (all its replay keys at once) before it is written to Kafka and released
again when the write fails, so a provider's retry after a failed write is not mistaken for a
replay. `InMemoryReplayCache` is bounded and lives in one process: with several intake replicas
behind a load balancer each replica sees only its own share, and a replay sent to another
replica passes. Run one replica, use sticky routing per source, or put a shared store (Redis
`SET key 1 NX PXAT until`, a database table with a unique key) behind `ReplayStore`.
"""

from __future__ import annotations

import heapq
import itertools
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
    """A bounded in-process ReplayStore.

    Entries expire at their own `until`, whatever the order they came in (windows range from
    minutes to weeks). When the cache is full, the entries closest to expiry go first: they
    lose the least protection.
    """

    def __init__(self, *, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._max_entries = max_entries
        self._until: dict[str, datetime] = {}
        # (until, order, key); an entry whose key was released or re-claimed is stale and skipped.
        self._expiry: list[tuple[datetime, int, str]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._until)

    async def claim(self, keys: Sequence[str], *, now: datetime, until: datetime) -> bool:
        """Record `keys` until `until`; False (and nothing recorded) if any is still known."""
        self._expire(now)
        if any(key in self._until for key in keys):
            return False
        for key in keys:
            self._until[key] = until
            heapq.heappush(self._expiry, (until, next(self._order), key))
        while len(self._until) > self._max_entries:
            self._pop_earliest()
        return True

    async def release(self, keys: Sequence[str]) -> None:
        """Forget `keys` (their delivery was not written after all)."""
        for key in keys:
            self._until.pop(key, None)
        if len(self._expiry) > 2 * self._max_entries:  # released entries pile up in the heap
            self._expiry = [e for e in self._expiry if self._until.get(e[2]) == e[0]]
            heapq.heapify(self._expiry)

    def _expire(self, now: datetime) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            self._pop_earliest()

    def _pop_earliest(self) -> None:
        until, _, key = heapq.heappop(self._expiry)
        if self._until.get(key) == until:
            del self._until[key]
