"""Dead letters: the original record, untouched, with why and where it failed in headers.

A dead letter keeps the original key, value and headers byte for byte, and adds:

    dlq.stage          the stage that gave up ("normalize", "cases")
    dlq.source         the source name
    dlq.reason         one line: what was wrong
    dlq.error          the error class
    dlq.topic / dlq.partition / dlq.offset   where the original record sits
    dlq.failed_at      UTC time of the failure

`hub dlq replay` strips the `dlq.` headers and produces the record to its original topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.timestamps import format_utc

DLQ_HEADER_PREFIX = "dlq."


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that a stage could not handle, and why."""

    stage: str
    source: str
    reason: str
    error: str
    topic: str
    partition: int
    offset: int
    failed_at: datetime
    key: bytes | None
    value: bytes
    original_headers: tuple[tuple[str, bytes], ...] = ()

    def headers(self) -> list[tuple[str, bytes]]:
        added = {
            "stage": self.stage,
            "source": self.source,
            "reason": self.reason,
            "error": self.error,
            "topic": self.topic,
            "partition": str(self.partition),
            "offset": str(self.offset),
            "failed_at": format_utc(self.failed_at),
        }
        return [*self.original_headers] + [
            (DLQ_HEADER_PREFIX + name, value.encode()) for name, value in added.items()
        ]


class DeadLetterCounts:
    """Dead letters a stage sent since it started, per (source, error class): its figures for
    `/metrics`. At most `max_keys` pairs are kept apart; the rest count under (source, "other")
    so that garbage cannot grow the label set without bound."""

    def __init__(self, max_keys: int = 200) -> None:
        self.max_keys = max_keys
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, letter: DeadLetter) -> None:
        """Count one dead letter."""
        key = (letter.source, letter.error)
        if key not in self._counts and len(self._counts) >= self.max_keys:
            key = (letter.source, "other")
        self._counts[key] = self._counts.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def items(self) -> list[tuple[str, str, int]]:
        """(source, error class, count), sorted."""
        return sorted((source, error, count) for (source, error), count in self._counts.items())


def original_headers(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The headers of the original record (the dead letter's, minus what the DLQ added)."""
    return [(k, v) for k, v in headers if not k.startswith(DLQ_HEADER_PREFIX)]


def dlq_fields(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The `dlq.*` headers of a dead letter as text, without the prefix."""
    return {
        k.removeprefix(DLQ_HEADER_PREFIX): v.decode("utf-8", errors="replace")
        for k, v in headers
        if k.startswith(DLQ_HEADER_PREFIX)
    }


def as_header_pairs(headers: object) -> tuple[tuple[str, bytes], ...]:
    """Kafka headers in whatever shape a client gives them, as (name, bytes) pairs."""
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, dict) else headers
    return tuple((str(k), v if isinstance(v, bytes) else str(v).encode()) for k, v in items)  # type: ignore[attr-defined]
