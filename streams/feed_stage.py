"""The feeds stage: `case.changes` -> `FeedPublisher` -> `feed.<region>`, in batches.

    case.changes --feeds--> feed.<region>   compacted, keyed by case_id: LocalizedCaseView JSON
                       \\--> dlq.feeds       original bytes, reason in headers

`render_batch` is the core: the records of one batch and a publisher in, the feed updates and
dead letters out, no Kafka. `FeedStage` runs it over a consumer group of its own
(`<app_id>-feeds`) with plain aiokafka, like the ingest stage: committed reads only (the case
step writes `case.changes` in transactions, and the views of an aborted batch must never be
shown), many sends, one wait for every acknowledgement, then one commit of the positions
(`streams.delivery`). A crash before the commit renders the batch again: the same views, which
the compacted feeds and the FeedHub (the same version replaces) take as they are.

Only the latest change of each case in a batch is rendered. That loses nothing a reader sees:

* a view is rendered from its change alone (the case after the change, and its policy and
  return parcel as of that change), never from an earlier view, so the latest change's view is
  exactly what the earlier views would have been replaced with;
* the feed topics are compacted per case and the FeedHub keeps the newest version of a case:
  readers only ever keep the latest view, and a live subscriber misses only views that were
  stale when they would have been published;
* an SLA record (`sla.warning` / `sla.breach`) followed by another change of its case loses no
  alert: the alert is recomputed at render time from the deadlines of the latest change's own
  `policy` (an open deadline past due is a breach, past its warning time a warning), and a
  deadline met meanwhile rightly shows none.

The records of a case share a partition (keyed by case id), so its latest change is its last
record in the batch.

A tombstone on `case.changes` (no value) says the case was erased (`hub erase`): the stage sends
a tombstone for it to every `feed.<region>` and forgets its pending translations. It comes after
the case's earlier changes, so no view rendered from an earlier change can follow it; a change
after it in the same batch (the case started again) is rendered after the tombstones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

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
from streams.feeds import (
    DLQ_STAGE,
    ChangeRecord,
    FeedPublisher,
    FeedRecordError,
    FeedUpdate,
    decode_change,
)
from streams.topics import CASE_CHANGES, TopicNames

log = logging.getLogger("streams.feed_stage")

RENDER_CONCURRENCY = 16
"""Cases of a batch rendered at a time: a slow translation provider costs a batch about one
timeout per this many cases, not one per case."""

_T = TypeVar("_T")


class ChangeMessage(Protocol):
    """A `case.changes` record as a Kafka client gives it (aiokafka's `ConsumerRecord` is one)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """What one batch of `case.changes` becomes: views to publish and records to dead-letter."""

    updates: list[FeedUpdate] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    """Case ids to tombstone on every feed, before the updates."""


async def render_batch(
    records: Sequence[ChangeMessage],
    publisher: FeedPublisher,
    *,
    concurrency: int = RENDER_CONCURRENCY,
) -> FeedBatch:
    """The feed updates of a batch of `case.changes` records (in record order), the latest
    change of each case only, and the dead letters of the records that cannot be read or
    rendered. Never raises: every failure is a dead letter, and the other records go on.
    """
    failed_at = publisher.clock()
    letters: list[DeadLetter] = []
    erased: list[str] = []
    latest: dict[str, tuple[ChangeMessage, ChangeRecord]] = {}
    for record in records:
        if record.value is None and record.key:
            case_id = record.key.decode()
            latest.pop(case_id, None)  # what came before the erasure is not shown
            erased.append(case_id)
            publisher.forget(case_id)
            continue
        try:
            change = decode_change(record.value)
        except FeedRecordError as exc:
            letters.append(_dead_letter(record, exc.reason, type(exc).__name__, failed_at))
            continue
        except Exception as exc:  # noqa: BLE001 - route every failure, never lose a record
            log.exception("cannot read %s[%d]@%d", record.topic, record.partition, record.offset,
                          extra={"topic": record.topic, "partition": record.partition,
                                 "offset": record.offset, "stage": DLQ_STAGE})
            letters.append(_dead_letter(record, f"cannot read the change: {exc}",
                                        type(exc).__name__, failed_at))
            continue
        latest.pop(change.case_id, None)  # re-inserted last: updates follow the latest records
        latest[change.case_id] = (record, change)
    renders = [functools.partial(_render, record, change, publisher, failed_at)
               for record, change in latest.values()]
    updates: list[FeedUpdate] = []
    for case_updates, letter in await _bounded(renders, concurrency):
        updates += case_updates
        if letter is not None:
            letters.append(letter)
    return FeedBatch(updates, letters, erased)


async def _render(
    record: ChangeMessage, change: ChangeRecord, publisher: FeedPublisher, failed_at: datetime
) -> tuple[list[FeedUpdate], DeadLetter | None]:
    """The views of one change and, if a region failed, the dead letter of its record."""
    try:
        updates, failures = await publisher.views_for(change)
    except Exception as exc:  # noqa: BLE001 - one case's failure spares the batch
        log.exception("cannot render %s[%d]@%d", record.topic, record.partition, record.offset,
                      extra={"topic": record.topic, "partition": record.partition,
                             "offset": record.offset, "case_id": change.case_id,
                             "event_id": change.event_id, "stage": DLQ_STAGE})
        return [], _dead_letter(record, f"cannot publish feeds: {exc}", type(exc).__name__,
                                failed_at)
    if failures:
        return updates, _dead_letter(record, "cannot render for " + "; ".join(failures),
                                     "FeedRenderError", failed_at)
    return updates, None


def _dead_letter(record: ChangeMessage, reason: str, error: str, failed_at: datetime) -> DeadLetter:
    return DeadLetter(
        stage=DLQ_STAGE, source=CASE_CHANGES, reason=reason, error=error, topic=record.topic,
        partition=record.partition, offset=record.offset, failed_at=failed_at, key=record.key,
        value=record.value or b"", original_headers=as_header_pairs(record.headers),
    )


async def _bounded(calls: Sequence[Callable[[], Awaitable[_T]]], limit: int) -> list[_T]:
    """The results of `calls` in their order, at most `limit` running at a time.

    A pool of `limit` tasks takes the calls in turn (not one task per call: a render that the
    translation memory answers never waits, and a task costs more than the render); a single
    call is awaited directly.
    """
    if len(calls) <= 1:
        return [await call() for call in calls]
    results: dict[int, _T] = {}
    queue = iter(enumerate(calls))

    async def take_turns() -> None:
        for index, call in queue:
            results[index] = await call()

    await asyncio.gather(*(take_turns() for _ in range(min(limit, len(calls)))))
    return [results[index] for index in range(len(calls))]


@dataclass(frozen=True, slots=True)
class FeedStageConfig:
    bootstrap_servers: str
    group_id: str
    batch_max_records: int = 500
    render_concurrency: int = RENDER_CONCURRENCY
    client_options: dict[str, Any] | None = None


class FeedStage:
    """Runs `render_batch` over this worker's share of `case.changes` until cancelled."""

    def __init__(
        self, config: FeedStageConfig, topics: TopicNames, publisher: FeedPublisher
    ) -> None:
        self.config = config
        self.topics = topics
        self.publisher = publisher
        self.records = 0
        self.sent = 0
        self.dead_letters = DeadLetterCounts()
        self.ready = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.committed = CommittedOffsets()

    def offsets(self) -> list[tuple[str, int, int | None, int | None]]:
        """Committed offset and high-water mark of each `case.changes` partition it reads."""
        return partition_offsets(self._consumer, self.committed)

    def owned_partitions(self) -> set[int]:
        """The partitions of `case.changes` this worker reads now (none while not running)."""
        consumer = self._consumer
        if consumer is None:
            return set()
        return {tp.partition for tp in consumer.assignment()
                if tp.topic == self.topics.case_changes}

    async def publish(self, updates: Sequence[FeedUpdate]) -> None:
        """Send updates made outside the batches (translations that were pending) and wait
        until the broker has them; no updates need no running stage.

        Raises:
            RuntimeError: the stage is not running.
            KafkaError: a send failed.
        """
        if not updates:
            return
        producer = self._producer
        if producer is None or not self.ready.is_set():
            raise RuntimeError("the feeds stage is not running")
        await asyncio.gather(*[await self._send_update(producer, update) for update in updates])

    async def run(self) -> None:
        options = self.config.client_options or {}
        producer = acked_producer(self.config.bootstrap_servers, **options)
        # Committed reads: the case step writes case.changes in transactions.
        consumer = group_consumer(self.topics.case_changes,
                                  bootstrap_servers=self.config.bootstrap_servers,
                                  group_id=self.config.group_id,
                                  isolation_level="read_committed", **options)
        self._consumer, self._producer = consumer, producer
        try:
            await consume_batches(consumer, producer,
                                  lambda batch: self._handle(batch, consumer, producer),
                                  max_records=self.config.batch_max_records, ready=self.ready)
        finally:
            self._consumer = self._producer = None

    async def _handle(
        self, batch: Batch, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer
    ) -> None:
        records = [record for records in batch.values() for record in records]
        rendered = await render_batch(records, self.publisher,
                                      concurrency=self.config.render_concurrency)
        sends = self._send(rendered, producer)
        if await commit_when_delivered(consumer, batch, sends, stage="feeds",
                                       committed=self.committed):
            self.records += len(records)

    async def _send(self, rendered: FeedBatch, producer: AIOKafkaProducer) -> list[Any]:
        """Hand the batch's tombstones, updates and dead letters to the producer; their
        delivery futures (per partition, in that order)."""
        acks = [await producer.send(self.topics.feed(region.code), key=case_id.encode(),
                                    value=None)
                for case_id in rendered.erased for region in self.publisher.regions.regions]
        acks += [await self._send_update(producer, update) for update in rendered.updates]
        for letter in rendered.dead_letters:
            self.dead_letters.add(letter)
            log.warning("dead letter from %s[%d]@%d: %s", letter.topic, letter.partition,
                        letter.offset, letter.reason, extra={
                            "topic": letter.topic, "partition": letter.partition,
                            "offset": letter.offset, "case_id": letter.key,
                            "source": letter.source, "stage": letter.stage,
                            "error": letter.error})
            acks.append(await producer.send(self.topics.dlq_feeds, key=letter.key,
                                            value=letter.value, headers=letter.headers()))
        self.sent += len(acks)  # handed to the producer (a batch read again counts again)
        return acks

    async def _send_update(self, producer: AIOKafkaProducer, update: FeedUpdate) -> Any:
        return await producer.send(self.topics.feed(update.region.code), key=update.key,
                                   value=update.value)


__all__ = [
    "RENDER_CONCURRENCY",
    "ChangeMessage",
    "FeedBatch",
    "FeedStage",
    "FeedStageConfig",
    "render_batch",
]
