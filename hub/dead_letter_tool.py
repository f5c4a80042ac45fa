"""`hub dlq list|replay`: look at dead letters and re-drive them after a fix.

Replay produces each dead letter's original key, value and headers (the `dlq.*` headers
stripped) back to the topic it came from. A replayed record that fails again becomes a new dead
letter; one that succeeds is normalized like any other record, and event ids make a replay of an
already-applied record harmless. The consumer group `<app_id>-dlq-replay` remembers how far a
replay got, so an interrupted replay resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.settings import Settings
from streams.dead_letters import dlq_fields, original_headers
from streams.kafka_clients import kafka_client_options
from streams.topics import TopicNames


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    partition: int
    offset: int
    stage: str
    source: str
    reason: str
    original: str
    size: int


async def list_dead_letters(
    settings: Settings, stage: str, *, limit: int = 50
) -> list[DeadLetterSummary]:
    """The most recent `limit` dead letters of a stage (all partitions)."""
    topic = TopicNames(settings.topic_prefix).name(f"dlq.{stage}")
    found = []
    for record in await _tail(settings, topic, limit):
        fields = dlq_fields(list(record.headers))
        found.append(
            DeadLetterSummary(
                partition=record.partition,
                offset=record.offset,
                stage=fields.get("stage", stage),
                source=fields.get("source", "?"),
                reason=fields.get("reason", "?"),
                original=f"{fields.get('topic')}[{fields.get('partition')}]@{fields.get('offset')}",
                size=len(record.value or b""),
            )
        )
    return sorted(found, key=lambda s: (s.partition, s.offset))[-limit:]


@dataclass(frozen=True, slots=True)
class TopicRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes


async def newest_records(settings: Settings, topic: str, *, limit: int = 10) -> list[TopicRecord]:
    """The newest `limit` records of a hub topic, across its partitions."""
    name = TopicNames(settings.topic_prefix).name(topic)
    return [
        TopicRecord(r.partition, r.offset, r.key, r.value or b"")
        for r in await _tail(settings, name, limit)
    ][-limit:]


async def _tail(settings: Settings, topic: str, limit: int) -> list[Any]:
    """The last `limit` records of every partition of `topic`."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
        isolation_level="read_committed", **kafka_client_options(settings),
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(starts[tp], ends[tp] - limit))
        found: list[Any] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found += records
        return found
    finally:
        await consumer.stop()


async def replay_dead_letters(
    settings: Settings,
    stage: str,
    *,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Produce every not-yet-replayed dead letter of a stage back to its original topic.

    Returns how many were replayed. `progress(done, total)` is called as it goes.
    """
    names = TopicNames(settings.topic_prefix)
    topic = names.name(f"dlq.{stage}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"{settings.app_id}-dlq-replay-{stage}",
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        **kafka_client_options(settings),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=True,
        **kafka_client_options(settings),
    )
    await consumer.start()
    await producer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return 0
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        committed = {tp: await consumer.committed(tp) for tp in partitions}
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, committed[tp] if committed[tp] is not None else starts[tp])
        total = sum([ends[tp] - await consumer.position(tp) for tp in partitions])
        done = 0
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            sends = []
            for records in batch.values():
                for record in records:
                    headers = list(record.headers)
                    fields = dlq_fields(headers)
                    done += 1
                    if source is not None and fields.get("source") != source:
                        continue
                    target = fields.get("topic") or names.case_inbox
                    sends.append(
                        await producer.send(
                            target,
                            value=record.value,
                            key=record.key,
                            headers=original_headers(headers),
                        )
                    )
            await asyncio.gather(*sends)
            await consumer.commit()
            if progress is not None:
                progress(done, total)
        return done
    finally:
        await producer.stop()
        await consumer.stop()
