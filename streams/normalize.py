"""Stage 1: raw provider payloads become canonical events, or dead letters. Never lost.

`normalize_record` is the pure core: a raw Kafka record in, canonical events (stamped with where
their raw bytes sit) or a dead letter out. The faust agent in `streams.agents` only moves bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.registry import connector_for
from hub.errors import HubError, RecordError
from hub.raw_records import decode_record
from schemas.events import CANONICAL_EVENT, CanonicalEvent, RawRecordRef
from streams.dead_letters import DeadLetter, as_header_pairs
from streams.topics import TopicNames

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
        return Normalized([], _dead_letter(record, reason, type(exc).__name__, now))
    except Exception as exc:  # noqa: BLE001 - a connector bug must not lose the record
        log.exception(
            "connector %s crashed on %s[%d]@%d",
            record.source,
            record.topic,
            record.partition,
            record.offset,
        )
        return Normalized(
            [], _dead_letter(record, f"connector crashed: {exc!r}", type(exc).__name__, now)
        )
    ref = RawRecordRef(topic=record.topic, partition=record.partition, offset=record.offset)
    return Normalized([event.model_copy(update={"raw": ref}) for event in events])


def _dead_letter(record: RawKafkaRecord, reason: str, error: str, now: datetime) -> DeadLetter:
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


def register_normalize_agent(app: Any, topics: TopicNames) -> Any:
    """Wire `normalize_record` between the raw topics and `events.canonical`.

    faust flushes the producer before it commits consumed offsets, so a crash before the outputs
    reached the broker re-delivers the raw record (at-least-once; event ids make the repeat
    harmless downstream). Awaiting each send's acknowledgement inside the agent instead stalls
    faust's streams after a recovery, and is not needed for that guarantee.
    """
    raw_topics = app.topic(*topics.raw, value_serializer="raw", key_serializer="raw")
    canonical = app.topic(topics.events_canonical, value_serializer="raw", key_serializer="raw")
    dead_letters = app.topic(topics.dlq_normalize, value_serializer="raw", key_serializer="raw")

    @app.agent(raw_topics, name="normalize")
    async def normalize(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            record = RawKafkaRecord(
                source=topics.source_of_raw(message.topic),
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                timestamp_ms=int(message.timestamp * 1000) if message.timestamp else None,
                key=message.key,
                value=message.value if isinstance(message.value, bytes) else b"",
                headers=as_header_pairs(message.headers),
            )
            result = normalize_record(record, now=datetime.now(UTC))
            for out in result.events:
                await canonical.send(
                    key=out.case_key.encode(), value=CANONICAL_EVENT.dump_json(out)
                )
            if result.dead_letter is not None:
                letter = result.dead_letter
                log.warning(
                    "dead letter from %s[%d]@%d (%s): %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    record.source,
                    letter.reason,
                )
                await dead_letters.send(
                    key=letter.key, value=letter.value, headers=letter.headers()
                )

    return normalize
