"""At-least-once batch stages: every output acknowledged, then the input committed.

The batch stages without transactions (`streams.ingest`, `streams.feed_stage`) run on
`consume_batches`: a consumer group of their own with manual commits (`group_consumer`), an
idempotent acks=all producer (`acked_producer`), and batches of `getmany`. A stage hands each
batch's outputs to the producer and calls `commit_when_delivered`: it waits for every
acknowledgement, and only then commits the consumer's position of each partition of the batch.
A send that fails rewinds the consumer to the batch's first offsets, so the batch is read and
sent again: nothing is committed before its outputs are on the broker, and what reads the
outputs must take a repeat (event ids, compacted topics keyed by case).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from streams.topics import family_partitioner

log = logging.getLogger("streams.delivery")

Batch = Mapping[TopicPartition, Sequence[Any]]
"""What `AIOKafkaConsumer.getmany` returns: the records of each partition, in offset order."""

RETRY_AFTER_SECONDS = 1.0
POLL_TIMEOUT_MS = 1000


def acked_producer(bootstrap_servers: str, **options: Any) -> AIOKafkaProducer:
    """An idempotent producer whose sends are acknowledged by every in-sync replica; a 5 ms
    linger batches a stage's sends into few produce requests; case-keyed records go to their
    order's partition (`family_partitioner`)."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all",
                            enable_idempotence=True, linger_ms=5,
                            partitioner=family_partitioner, **options)


def group_consumer(
    *topics: str, bootstrap_servers: str, group_id: str, **options: Any
) -> AIOKafkaConsumer:
    """A consumer of the group `group_id` that commits only what `commit_when_delivered`
    commits; a new group starts at the beginning, and a dead member's partitions move after
    10 s."""
    return AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap_servers, group_id=group_id,
        enable_auto_commit=False, auto_offset_reset="earliest",
        session_timeout_ms=10_000, heartbeat_interval_ms=3_000, **STAGE_FETCH, **options,
    )


STAGE_FETCH: dict[str, int] = {"fetch_max_wait_ms": 20, "fetch_min_bytes": 32 * 1024}
"""Fetch settings of the batch stages: under a trickle, a fetch per record makes a batch (and
for the case step a transaction) per record, whose fixed cost is several times a record's
work; waiting up to 20 ms for 32 KiB gathers them. A backlog comes back at once."""


async def consume_batches(
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer,
    handle: Callable[[Batch], Awaitable[None]],
    *,
    max_records: int,
    ready: asyncio.Event,
) -> None:
    """Start both clients, then give `handle` every batch of up to `max_records` records until
    cancelled; `ready` is set while the consumer runs. Both clients are stopped on the way out."""
    await producer.start()
    try:
        await consumer.start()
        ready.set()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS,
                                               max_records=max_records)
                if batch:
                    await handle(batch)
        finally:
            ready.clear()
            await consumer.stop()
    finally:
        await producer.stop()


class CommittedOffsets(dict[TopicPartition, int]):
    """The offsets a stage committed last, per partition: with its consumer's high-water
    marks, the stage's lag (`partition_offsets`)."""


def partition_offsets(
    consumer: AIOKafkaConsumer | None, committed: Mapping[TopicPartition, int]
) -> list[tuple[str, int, int | None, int | None]]:
    """(topic, partition, committed offset, high-water mark) of every partition the consumer
    holds now; None where not known yet."""
    if consumer is None:
        return []
    found = []
    for tp in sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition)):
        try:
            highwater = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - unknown until the first fetch
            highwater = None
        found.append((tp.topic, tp.partition, committed.get(tp), highwater))
    return found


async def commit_when_delivered(
    consumer: AIOKafkaConsumer,
    batch: Batch,
    sends: Awaitable[Sequence[Awaitable[object]]],
    *,
    stage: str,
    retry_after: float = RETRY_AFTER_SECONDS,
    committed: CommittedOffsets | None = None,
) -> bool:
    """Await `sends` (it hands the batch's outputs to the producer and gives their delivery
    futures), wait for every acknowledgement, then commit the position of each partition of
    `batch` that is still assigned (a revoked one is read again by its new owner).

    The committed offset is the consumer's position, not the last offset + 1: on a topic
    written in transactions it is past the transaction markers, so a caught-up group shows no
    lag.

    Returns:
        True when every output is on the broker (a commit lost to a rebalance only means the
        new owner reads the batch again); False when a send failed: the consumer was rewound
        to the start of the batch and `retry_after` seconds have passed.
    """
    try:
        acks = await sends
        results = await asyncio.gather(*acks, return_exceptions=True)
    except KafkaError:
        log.exception("%s: sends failed; reading the batch again", stage)
        await _rewind(consumer, batch, retry_after)
        return False
    failed = [result for result in results if isinstance(result, BaseException)]
    if failed:
        log.error("%s: %d of %d sends failed (%r); reading the batch again", stage, len(failed),
                  len(results), failed[0])
        await _rewind(consumer, batch, retry_after)
        return False
    assigned = consumer.assignment()
    offsets = {
        tp: max(records[-1].offset + 1, await consumer.position(tp))
        for tp, records in batch.items() if records and tp in assigned
    }
    if offsets:
        try:
            await consumer.commit(offsets)
            if committed is not None:
                committed.update(offsets)
        except CommitFailedError:
            # The group rebalanced: the new owner reads these again (repeats are harmless).
            log.warning("%s: offsets not committed after a rebalance", stage)
    return True


async def _rewind(consumer: AIOKafkaConsumer, batch: Batch, pause: float) -> None:
    assigned = consumer.assignment()
    for tp, records in batch.items():
        if records and tp in assigned:
            consumer.seek(tp, records[0].offset)
    await asyncio.sleep(pause)
