"""`hub dlq list|show|replay`: read dead letters, group them, and re-drive them after a fix.

A dead letter (`streams.dead_letters`) is the original record byte for byte with `dlq.*`
headers: stage, source, reason, error class, where the original sat, when it failed. Its id is
`PARTITION:OFFSET` on `dlq.<stage>`.

Replay produces a letter's original key, value and headers (the `dlq.*` headers stripped) back
to the topic it came from. A replayed record that fails again becomes a new dead letter (after
the end the replay started from, so one run never takes it twice); one that succeeds is
handled like any other record, and event ids make a replay of an applied record harmless.

How far replay got is kept per source, in one consumer group per stage and source
(`<app_id>-dlq-replay-<stage>.<source>`): replaying one source moves only that source's
position, so its run never passes over another source's letters, which the next replay of
that source (or of every source) still finds. A replay of every source takes each letter
that its own source's position has not passed. `dry_run` reports what would be replayed and
moves nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.settings import Settings
from streams.dead_letters import dlq_fields, original_headers
from streams.kafka_clients import kafka_client_options
from streams.topics import TopicNames

GroupBy = Literal["reason", "source", "error", "original_topic"]
UNKNOWN = "?"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One dead letter as it sits on `dlq.<stage>`: where, why, and the original record."""

    partition: int
    offset: int
    stage: str
    source: str
    reason: str
    error: str
    original_topic: str | None
    original_partition: int | None
    original_offset: int | None
    failed_at: datetime | None
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    """The original record's headers (without the `dlq.*` ones)."""

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def original(self) -> str:
        if self.original_topic is None:
            return UNKNOWN
        return f"{self.original_topic}[{self.original_partition}]@{self.original_offset}"

    @classmethod
    def of(cls, record: Any, stage: str) -> DeadLetterRecord:
        """A dead letter from a consumed record of `dlq.<stage>` (missing headers: `?`)."""
        headers = [(str(k), bytes(v)) for k, v in record.headers or ()]
        fields = dlq_fields(headers)
        return cls(
            partition=record.partition, offset=record.offset,
            stage=fields.get("stage", stage), source=fields.get("source", UNKNOWN),
            reason=fields.get("reason", UNKNOWN), error=fields.get("error", UNKNOWN),
            original_topic=fields.get("topic"),
            original_partition=_integer(fields.get("partition")),
            original_offset=_integer(fields.get("offset")),
            failed_at=_instant(fields.get("failed_at")),
            key=record.key, value=record.value or b"",
            headers=tuple(original_headers(headers)),
        )

    def group(self, by: GroupBy) -> str:
        return {"reason": self.reason, "source": self.source, "error": self.error,
                "original_topic": self.original_topic or UNKNOWN}[by]


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class LetterGroup:
    """Dead letters sharing a reason (or source...): how many, and the newest one's id."""

    value: str
    count: int
    sources: tuple[str, ...]
    newest: str
    newest_failed_at: datetime | None


def group_dead_letters(letters: Iterable[DeadLetterRecord], by: GroupBy) -> list[LetterGroup]:
    """Groups of `letters` by `by`, the largest first (then by value)."""
    members: dict[str, list[DeadLetterRecord]] = {}
    for letter in letters:
        members.setdefault(letter.group(by), []).append(letter)
    groups = []
    for value, found in members.items():
        newest = max(found, key=lambda letter: (letter.failed_at or _EPOCH, letter.offset))
        groups.append(LetterGroup(value, len(found), tuple(sorted({f.source for f in found})),
                                  newest.id, newest.failed_at))
    return sorted(groups, key=lambda group: (-group.count, group.value))


def dlq_topic(settings: Settings, stage: str) -> str:
    return TopicNames(settings.topic_prefix).name(f"dlq.{stage}")


async def read_dead_letters(
    settings: Settings, stage: str, *, limit: int | None = 50
) -> list[DeadLetterRecord]:
    """The newest `limit` dead letters of each partition of `dlq.<stage>` (every one retained
    with `limit=None`), ordered by partition and offset."""
    records = await _tail(settings, dlq_topic(settings, stage), limit)
    letters = [DeadLetterRecord.of(record, stage) for record in records]
    return sorted(letters, key=lambda letter: (letter.partition, letter.offset))


async def list_dead_letters(
    settings: Settings, stage: str, *, limit: int = 50
) -> list[DeadLetterRecord]:
    """The newest `limit` dead letters of a stage (all partitions), newest last."""
    letters = await read_dead_letters(settings, stage, limit=limit)
    by_time = sorted(letters, key=lambda letter: (letter.failed_at or _EPOCH,
                                                  letter.partition, letter.offset))
    return by_time[-limit:] if limit else by_time


class DeadLetterNotFound(LookupError):
    """No dead letter at that id."""


def parse_letter_id(text: str) -> tuple[int, int]:
    """`PARTITION:OFFSET` as numbers.

    Raises:
        ValueError: not of that form.
    """
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"a dead letter id is PARTITION:OFFSET (as `hub dlq list` shows), "
                         f"not {text!r}")
    return int(partition), int(offset)


async def find_dead_letter(settings: Settings, stage: str, letter_id: str) -> DeadLetterRecord:
    """The dead letter `PARTITION:OFFSET` of `dlq.<stage>`.

    Raises:
        ValueError: the id is not PARTITION:OFFSET.
        DeadLetterNotFound: no record there (never written, or past retention).
    """
    partition, offset = parse_letter_id(letter_id)
    topic = dlq_topic(settings, stage)
    consumer = _reader(settings)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        if tp not in await _partitions(consumer, topic):
            raise DeadLetterNotFound(f"{topic} has no partition {partition}")
        consumer.assign([tp])
        start = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        if not start <= offset < end:
            raise DeadLetterNotFound(
                f"no dead letter {letter_id} on {topic} (it holds offsets {start} to {end - 1})")
        consumer.seek(tp, offset)
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=1)
            for record in batch.get(tp, []):
                if record.offset == offset:
                    return DeadLetterRecord.of(record, stage)
                if record.offset > offset:
                    break
            else:
                continue
            break
        raise DeadLetterNotFound(f"no dead letter {letter_id} on {topic} (a transaction marker "
                                 "or an aborted write)")
    finally:
        await consumer.stop()


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


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The partitions of `topic` from fresh metadata (a consumer's first metadata may predate
    a topic created a moment ago); none if it does not exist."""
    # A metadata snapshot of every topic; the consumer's own tracks only what it was given.
    cluster = await consumer._client.fetch_all_metadata()  # noqa: SLF001
    return [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]


def _reader(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
        isolation_level="read_committed", **kafka_client_options(settings),
    )


async def _tail(settings: Settings, topic: str, limit: int | None) -> list[Any]:
    """The last `limit` records of every partition of `topic` (all of them with None)."""
    consumer = _reader(settings)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp] if limit is None else max(starts[tp], ends[tp] - limit))
        found: list[Any] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found += [record for record in records if record.offset < ends[record_tp(record)]]
        return found
    finally:
        await consumer.stop()


def record_tp(record: Any) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


# --- Replay ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did (or, dry, would do)."""

    stage: str
    source: str | None
    dry_run: bool
    scanned: int
    replayed: tuple[DeadLetterRecord, ...]

    def by_source(self) -> dict[str, int]:
        return dict(sorted(Counter(letter.source for letter in self.replayed).items()))


def replay_group(settings: Settings, stage: str, source: str) -> str:
    """The consumer group that keeps how far replay got for one stage and source."""
    return f"{settings.app_id}-dlq-replay-{stage}.{source}"


class _Positions:
    """Per source, the replay position of each partition: read from the source's group when
    first needed, committed to it at the end of a run."""

    def __init__(self, settings: Settings, stage: str, partitions: Sequence[TopicPartition],
                 starts: dict[TopicPartition, int]) -> None:
        self.settings = settings
        self.stage = stage
        self.partitions = partitions
        self.starts = starts
        self._clients: dict[str, AIOKafkaConsumer] = {}
        self.positions: dict[str, dict[TopicPartition, int]] = {}

    async def of(self, source: str) -> dict[TopicPartition, int]:
        if source not in self.positions:
            client = AIOKafkaConsumer(
                bootstrap_servers=self.settings.bootstrap_servers,
                group_id=replay_group(self.settings, self.stage, source),
                enable_auto_commit=False, **kafka_client_options(self.settings),
            )
            await client.start()
            self._clients[source] = client
            client.assign(list(self.partitions))
            committed = {tp: await client.committed(tp) for tp in self.partitions}
            self.positions[source] = {tp: committed[tp] if committed[tp] is not None
                                      else self.starts[tp] for tp in self.partitions}
        return self.positions[source]

    async def commit(self, source: str, reached: dict[TopicPartition, int]) -> None:
        """Move `source`'s position to `reached` where that is further."""
        positions = await self.of(source)
        moved = {tp: offset for tp, offset in reached.items() if offset > positions[tp]}
        if moved:
            await self._clients[source].commit(moved)
            positions.update(moved)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.stop()


async def replay_dead_letters(
    settings: Settings,
    stage: str,
    *,
    source: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Produce every dead letter of `dlq.<stage>` (of `source` only, if given) that its
    source's replay position has not passed back to its original topic, up to the end offsets
    as of the start; then move the positions of the sources replayed (only `source`'s, if
    given) to that end. With `dry_run`, produce and move nothing.

    `progress(scanned, total)` is called as it goes.
    """
    names = TopicNames(settings.topic_prefix)
    topic = dlq_topic(settings, stage)
    reader = _reader(settings)
    await reader.start()
    producer: AIOKafkaProducer | None = None
    positions: _Positions | None = None
    try:
        partitions = await _partitions(reader, topic)
        if not partitions:
            return ReplayReport(stage, source, dry_run, 0, ())
        reader.assign(partitions)
        ends = await reader.end_offsets(partitions)
        starts = await reader.beginning_offsets(partitions)
        positions = _Positions(settings, stage, partitions, starts)
        if source is not None:
            begin = await positions.of(source)
        else:
            # Every source: from the beginning, each letter checked against its own source.
            begin = dict(starts)
        for tp in partitions:
            reader.seek(tp, min(max(begin[tp], starts[tp]), ends[tp]))
        total = sum([ends[tp] - await reader.position(tp) for tp in partitions])
        if not dry_run:
            producer = AIOKafkaProducer(
                bootstrap_servers=settings.bootstrap_servers, acks="all",
                enable_idempotence=True, **kafka_client_options(settings),
            )
            await producer.start()
        scanned = 0
        replayed: list[DeadLetterRecord] = []
        sources_seen: set[str] = set()
        while [tp for tp in partitions if await reader.position(tp) < ends[tp]]:
            batch = await reader.getmany(timeout_ms=500, max_records=500)
            sends = []
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    scanned += 1
                    letter = DeadLetterRecord.of(record, stage)
                    if source is not None and letter.source != source:
                        continue
                    sources_seen.add(letter.source)
                    if record.offset < (await positions.of(letter.source))[tp]:
                        continue  # replayed by an earlier run
                    replayed.append(letter)
                    if producer is not None:
                        sends.append(await producer.send(
                            letter.original_topic or names.case_inbox, value=letter.value,
                            key=letter.key, headers=list(letter.headers)))
            await asyncio.gather(*sends)
            if progress is not None:
                progress(scanned, total)
        if not dry_run:
            reached = {tp: ends[tp] for tp in partitions}
            for name in sorted(sources_seen | ({source} if source else set())):
                await positions.commit(name, reached)
        return ReplayReport(stage, source, dry_run, scanned, tuple(replayed))
    finally:
        if positions is not None:
            await positions.close()
        if producer is not None:
            await producer.stop()
        await reader.stop()
