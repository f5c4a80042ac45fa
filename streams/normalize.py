"""Stage 1: raw provider payloads become canonical events, or dead letters. Never lost.

`normalize_record` is the pure core: a raw Kafka record in, canonical events (stamped with where
their raw bytes sit) or a dead letter out. The ingest stage (`streams.ingest`) runs it.

A payload its connector ignores on purpose (`connectors.boundary.Ignored`: an event type the
hub does not use) gives no events and no dead letter, but says which kind it was, and the
ingest stage counts it per source and kind (`IgnoredCounts`, exposed as
`hub_ignored_payloads_total`): a payload that is not the source's own at all is a dead letter
("unrecognized payload: ..."), never counted away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from connectors.boundary import Ignored
from connectors.registry import connector_for
from schemas.errors import HubError, RecordError
from schemas.events import CanonicalEvent, RawRecordRef
from schemas.raw_records import decode_record
from streams.dead_letters import DeadLetter

log = logging.getLogger("streams.normalize")


@dataclass(frozen=True, slots=True)
class RawKafkaRecord:
    """A record as read from a `raw.<source>` topic."""

    source: str
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Normalized:
    events: list[CanonicalEvent]
    dead_letter: DeadLetter | None = None
    ignored: Ignored | None = None


MAX_IGNORED_KINDS = 50
"""Kinds counted apart per source; kinds come from payloads, so further ones count as
`OTHER_KIND` and a flood of invented event types cannot grow the metrics without bound."""
OTHER_KIND = "other"


class IgnoredCounts:
    """How many payloads each source's connector ignored on purpose, per kind."""

    def __init__(self, max_kinds: int = MAX_IGNORED_KINDS) -> None:
        self.max_kinds = max_kinds
        self._counts: dict[tuple[str, str], int] = {}
        self._kinds: dict[str, int] = {}

    def add(self, source: str, kind: str) -> None:
        """Count one ignored payload of `source` of this kind."""
        key = (source, kind)
        if key not in self._counts:
            if self._kinds.get(source, 0) >= self.max_kinds:
                key = (source, OTHER_KIND)
            else:
                self._kinds[source] = self._kinds.get(source, 0) + 1
        self._counts[key] = self._counts.get(key, 0) + 1

    def items(self) -> list[tuple[str, str, int]]:
        """(source, kind, count), sorted."""
        return sorted((source, kind, count) for (source, kind), count in self._counts.items())

    def total(self) -> int:
        return sum(self._counts.values())


def normalize_record(record: RawKafkaRecord, *, now: datetime) -> Normalized:
    """Run the source's connector on one raw record.

    Every failure, expected or not, becomes a dead letter carrying the original bytes: an
    exception escaping here would be acked by faust and the record silently lost.
    """
    try:
        raw = decode_record(
            source=record.source,
            body=record.value,
            headers=record.headers,
            broker_timestamp_ms=record.timestamp_ms,
        )
        connector = connector_for(raw.source)
        events = connector.parse(raw.body, received_at=raw.received_at, headers=raw.http_headers)
    except (RecordError, HubError) as exc:
        reason = exc.reason if isinstance(exc, RecordError) else str(exc)
        return Normalized([], dead_letter_for(record, reason, type(exc).__name__, now))
    except Exception as exc:  # noqa: BLE001 - a connector bug must not lose the record
        log.exception(
            "connector %s crashed on %s[%d]@%d",
            record.source,
            record.topic,
            record.partition,
            record.offset,
        )
        return Normalized(
            [], dead_letter_for(record, f"connector crashed: {exc!r}", type(exc).__name__, now)
        )
    if isinstance(events, Ignored):
        return Normalized([], ignored=events)
    ref = RawRecordRef(topic=record.topic, partition=record.partition, offset=record.offset)
    return Normalized([event.model_copy(update={"raw": ref}) for event in events])


def dead_letter_for(record: RawKafkaRecord, reason: str, error: str, now: datetime) -> DeadLetter:
    return DeadLetter(
        stage="normalize",
        source=record.source,
        reason=reason,
        error=error,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        failed_at=now,
        key=record.key,
        value=record.value,
        original_headers=record.headers,
    )
