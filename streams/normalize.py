"""Stage 1: raw provider payloads become canonical events, or dead letters. Never lost.

`normalize_record` is the pure core: a raw Kafka record in, canonical events (stamped with where
their raw bytes sit) or a dead letter out. The ingest stage (`streams.ingest`) runs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from connectors.registry import connector_for
from hub.errors import HubError, RecordError
from hub.raw_records import decode_record
from schemas.events import CanonicalEvent, RawRecordRef
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
