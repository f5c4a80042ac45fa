"""Processing a batch of faust events (`Stream.take_events`) one key at a time.

faust tables find the partition of a write (its changelog partition and its RocksDB store) from
the *current event*, a context variable that faust sets while an agent iterates event by event.
`take_events` yields lists and leaves it unset in the agent's task, so a table write there fails
with "Cannot modify table key from outside of stream iteration". Setting it to the event whose
key is being handled restores the per-event behaviour: the write lands in that event's partition.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event


@contextmanager
def handling(event: Any) -> Iterator[None]:
    """Make `event` faust's current event (in this task) for table reads and writes."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def by_key(batch: Sequence[Any]) -> dict[bytes, list[Any]]:
    """A batch's events per message key, each key's events in partition order."""
    grouped: dict[bytes, list[Any]] = {}
    for event in batch:
        grouped.setdefault(event.message.key, []).append(event)
    return grouped
