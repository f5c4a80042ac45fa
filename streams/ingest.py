"""The ingest stage: `raw.<source>` -> connector -> route, in one pass, in batches.

    raw.<source> --ingest--> case.inbox (event, keyed by its order's first case id |
                                          pending, keyed by reference)
                        \\--> dlq.normalize (the original record and why)

`ingest_record` is the pure core: one raw Kafka record in, the inbox records (canonical JSON
serialized once, inside the error guard) or a dead letter out. `IngestStage` runs it over a
consumer group of its own (`<app_id>-ingest`) with plain aiokafka: many records in, many sends,
one wait for every acknowledgement (acks=all, idempotent producer), then one offset commit
(`streams.delivery`). A crash before the commit re-delivers the batch; event ids make the
repeats harmless in the case step. Nothing is committed before its outputs are on the broker.

The source of a record is its topic, never a header: anyone who may write to `raw.hub` must not
be able to make the Stripe connector parse it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.events import CANONICAL_EVENT
from schemas.records import MESSAGE_HEADER, InboxKind
from streams.console_actions import CONSOLE_SOURCE, normalize_action
from streams.correlation import route
from streams.dead_letters import DeadLetter, DeadLetterCounts, as_header_pairs
from streams.delivery import (
    Batch,
    CommittedOffsets,
    acked_producer,
    commit_when_delivered,
    consume_batches,
    group_consumer,
    partition_offsets,
)
from streams.normalize import IgnoredCounts, RawKafkaRecord, dead_letter_for, normalize_record
from streams.topics import TopicNames

log = logging.getLogger("streams.ingest")

LARGE_RECORD_BYTES = 64 * 1024
"""Raw records above this size are normalized off the event loop's thread."""


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """One record for `case.inbox`."""

    key: bytes
    kind: InboxKind
    value: bytes

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [(MESSAGE_HEADER, self.kind.encode())]


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one raw record becomes: inbox records, or a dead letter."""

    records: list[InboxRecord] = field(default_factory=list)
    dead_letter: DeadLetter | None = None
    ignored: tuple[str, str] | None = None  # (source, kind) of a payload ignored on purpose


def ingest_record(record: RawKafkaRecord, *, now: datetime) -> Ingested:
    """Normalize and route one raw record. Never raises: every failure is a dead letter."""
    normalize = normalize_action if record.source == CONSOLE_SOURCE else normalize_record
    normalized = normalize(record, now=now)
    if normalized.dead_letter is not None:
        return Ingested(dead_letter=normalized.dead_letter)
    if normalized.ignored is not None:
        return Ingested(ignored=(record.source, normalized.ignored.kind))
    records: list[InboxRecord] = []
    try:
        for event in normalized.events:
            value = CANONICAL_EVENT.dump_json(event)
            routed = route(event)
            if routed.case_id is not None:
                records.append(InboxRecord(routed.case_id.encode(), "event", value))
            else:
                assert routed.reference is not None
                records.append(InboxRecord(routed.reference.encode(), "pending", value))
    except Exception as exc:  # noqa: BLE001 - an event that cannot be written is a dead letter
        log.warning("cannot route %s[%d]@%d: %r", record.topic, record.partition, record.offset,
                    exc, extra={"topic": record.topic, "partition": record.partition,
                                "offset": record.offset, "source": record.source})
        return Ingested(dead_letter=dead_letter_for(
            record, f"cannot write the canonical event: {exc}", type(exc).__name__, now))
    return Ingested(records)


@dataclass(frozen=True, slots=True)
class IngestConfig:
    bootstrap_servers: str
    group_id: str
    batch_max_records: int = 500
    client_options: dict[str, Any] | None = None


class IngestStage:
    """Runs `ingest_record` over this worker's share of the raw topics until cancelled."""

    def __init__(self, config: IngestConfig, topics: TopicNames) -> None:
        self.config = config
        self.topics = topics
        self.records = 0
        self.records_by_source: Counter[str] = Counter()
        self.sent = 0
        self.sent_by_kind: Counter[str] = Counter()
        self.dead_letters = DeadLetterCounts()
        self.ignored = IgnoredCounts()
        self.ready = asyncio.Event()
        self.committed = CommittedOffsets()
        self._consumer: AIOKafkaConsumer | None = None

    def offsets(self) -> list[tuple[str, int, int | None, int | None]]:
        """Committed offset and high-water mark of each raw partition this worker reads."""
        return partition_offsets(self._consumer, self.committed)

    async def run(self) -> None:
        options = self.config.client_options or {}
        producer = acked_producer(self.config.bootstrap_servers, **options)
        # Agents' actions are the raw records of the hub's own `console` source.
        consumer = group_consumer(*self.topics.raw, self.topics.case_actions,
                                  bootstrap_servers=self.config.bootstrap_servers,
                                  group_id=self.config.group_id, **options)
        self._consumer = consumer
        await consume_batches(consumer, producer,
                              lambda batch: self._handle(batch, consumer, producer),
                              max_records=self.config.batch_max_records, ready=self.ready)

    async def _handle(
        self, batch: Batch, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer
    ) -> None:
        sends = self._ingest(batch, producer)
        if not await commit_when_delivered(consumer, batch, sends, stage="ingest",
                                           committed=self.committed):
            return
        for tp, messages in batch.items():
            self.records_by_source[self.topics.source_of_raw(tp.topic)] += len(messages)
            self.records += len(messages)

    async def _ingest(self, batch: Batch, producer: AIOKafkaProducer) -> list[Any]:
        """Ingest every record of the batch and hand its outputs to the producer; returns
        their delivery futures."""
        now = datetime.now(UTC)
        acks = []
        for messages in batch.values():
            for message in messages:
                raw = _raw(self.topics, message)
                if len(raw.value) > LARGE_RECORD_BYTES:
                    # A large payload can take a connector many milliseconds; in a thread the
                    # event loop keeps its turns (the interpreter switches every few ms), so
                    # heartbeats and the other stages are not held up by one record.
                    result = await asyncio.to_thread(ingest_record, raw, now=now)
                else:
                    result = ingest_record(raw, now=now)
                acks += [await send for send in self._sends(result, producer)]
            await asyncio.sleep(0)  # let heartbeats and other stages run between partitions
        self.sent += len(acks)  # handed to the producer (a batch read again counts again)
        return acks

    def _sends(self, result: Ingested, producer: AIOKafkaProducer) -> list[Any]:
        """The sends of one record."""
        inbox = self.topics.case_inbox
        sends = [
            producer.send(inbox, key=r.key, value=r.value, headers=r.headers)
            for r in result.records
        ]
        self.sent_by_kind.update(r.kind for r in result.records)
        if result.ignored is not None:
            self.ignored.add(*result.ignored)
        letter = result.dead_letter
        if letter is not None:
            self.dead_letters.add(letter)
            log.warning("dead letter from %s[%d]@%d (%s): %s", letter.topic, letter.partition,
                        letter.offset, letter.source, letter.reason, extra={
                            "topic": letter.topic, "partition": letter.partition,
                            "offset": letter.offset, "source": letter.source,
                            "stage": letter.stage, "error": letter.error})
            sends.append(producer.send(self.topics.dlq_normalize, key=letter.key,
                                       value=letter.value, headers=letter.headers()))
        return sends


def _raw(topics: TopicNames, message: Any) -> RawKafkaRecord:
    actions = message.topic == topics.case_actions
    return RawKafkaRecord(
        source=CONSOLE_SOURCE if actions else topics.source_of_raw(message.topic),
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=message.timestamp if message.timestamp is not None else None,
        key=message.key,
        value=message.value if isinstance(message.value, bytes) else b"",
        headers=as_header_pairs(message.headers),
    )
