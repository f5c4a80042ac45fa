"""Small aiokafka helpers for integration tests: produce durably, read a topic until satisfied.

Readers see committed records only, as every consumer of the case step's topics must: a batch
the case step aborted (a worker killed mid-transaction) is on the log but never happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


async def produce(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes]],
    *,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> list[tuple[int, int]]:
    """Produce with acks=all; returns (partition, offset) of each record."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value=value, key=key, headers=list(headers or []))
            for key, value in records
        ]
        metadata = await asyncio.gather(*sent)
        return [(m.partition, m.offset) for m in metadata]
    finally:
        await producer.stop()


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Record]], bool],
    *,
    timeout: float = 60.0,
    client_options: Mapping[str, Any] | None = None,
) -> list[Record]:
    """Read `topic` from the beginning until `done(records)` holds (or time out)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=500,
        isolation_level="read_committed",
        **(client_options or {}),
    )
    await consumer.start()
    records: list[Record] = []
    try:
        consumer.subscribe([topic])

        async def collect() -> None:
            while not done(records):
                batch = await consumer.getmany(timeout_ms=200)
                for messages in batch.values():
                    records.extend(
                        Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers))
                        for m in messages
                    )

        await asyncio.wait_for(collect(), timeout)
        return records
    finally:
        await consumer.stop()


async def read_all(
    bootstrap: str, topic: str, *, timeout: float = 30.0, committed_only: bool = True,
    client_options: Mapping[str, Any] | None = None,
) -> list[Record]:
    """Everything committed on `topic` up to its current end offsets (with
    `committed_only=False`, also what open or aborted transactions wrote)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False,
        isolation_level="read_committed" if committed_only else "read_uncommitted",
        **(client_options or {}),
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Record] = []

        async def collect() -> None:
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=200)
                for messages in batch.values():
                    records.extend(
                        Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers))
                        for m in messages
                    )

        await asyncio.wait_for(collect(), timeout)
        return records
    finally:
        await consumer.stop()


async def wait_caught_up(
    bootstrap: str, group: str, topics: Sequence[str], *, timeout: float = 60.0
) -> None:
    """Wait until consumer group `group` has committed everything on `topics` as of now."""
    from aiokafka.admin import AIOKafkaAdminClient

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh metadata
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or set())
        ]
        ends = await consumer.end_offsets(tps)

        async def poll() -> None:
            while True:
                committed = await admin.list_consumer_group_offsets(group)
                if all(
                    tp in committed and committed[tp].offset >= end
                    for tp, end in ends.items()
                    if end > 0
                ):
                    return
                await asyncio.sleep(0.3)

        await asyncio.wait_for(poll(), timeout)
    finally:
        await admin.close()
        await consumer.stop()
