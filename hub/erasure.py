"""`hub erase`: remove an order's case from every compacted topic and from the case step's state.

The case step's state lives in each worker's RocksDB and hot cache, restored from `case.state`;
a tombstone written to `case.state` from outside would never reach a running worker and would
be overwritten by the case's next change. So an erasure goes through the case step like any
other input: this command writes an `erase` message keyed by the case id to `case.inbox`, and
the worker that owns the case, in one transaction, deletes its state and sends tombstones to
`cases`, `case.policy`, `shipments` (the case's parcels) and `case.changes` (read by the feeds
stage, which tombstones every `feed.<region>`), plus an `erase` message for each reference of
the case, which its own partition's step deletes if it still belongs to the case.

The command reads `case.state` (committed records) first, to report what the case holds, and
then waits until the tombstones are on `case.state`: with no worker running the erasure stays
queued in `case.inbox` and is applied when one starts.

Topics that are not compacted (`raw.<source>`, `case.inbox`, `case.changes`, `dlq.<stage>`)
are not rewritten: the case's records on them expire with their retention, which the report
states. The hub holds no buyer identifier (only a buyer's country), so a case is found by its
order id or its case id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.errors import ConfigurationError
from schemas.records import MESSAGE_HEADER, EraseMessage
from schemas.settings import Settings
from streams.case_step import CaseState, ReferenceState, decode_state, erasure_targets
from streams.cases import case_id_for_order
from streams.kafka_clients import kafka_client_options
from streams.provisioning import expiring_topics
from streams.topics import TopicNames, family_partitioner, partition_of
from translations.regions import REGIONS


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """One case to erase, and the order it was asked for by (if any)."""

    case_id: str
    order_id: str | None = None

    @classmethod
    def for_order(cls, order_id: str) -> ErasureRequest:
        return cls(case_id_for_order(order_id), order_id)


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed: keys tombstoned per compacted topic, and when the records on
    the expiring topics are gone."""

    case_id: str
    order_id: str | None
    known: bool
    """The case step had a state for the case (else only its outputs were tombstoned)."""
    confirmed: bool
    """The case step deleted the case's states within the wait (a known case only)."""
    references: tuple[str, ...] = ()
    tracking_numbers: tuple[str, ...] = ()
    tombstones: dict[str, int] = field(default_factory=dict)
    expires_by: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id, "order_id": self.order_id, "known": self.known,
            "confirmed": self.confirmed, "references": list(self.references),
            "tracking_numbers": list(self.tracking_numbers), "tombstones": self.tombstones,
            "expires_by": self.expires_by,
        }

    def describe(self) -> list[str]:
        """The report as text lines."""
        subject = f"order {self.order_id} (case {self.case_id})" if self.order_id else (
            f"case {self.case_id}")
        if not self.known:
            return [f"{subject}: unknown to the case step; tombstones for its outputs queued"]
        lines = [f"{subject}: " + (
            "erased" if self.confirmed else "erase queued, not confirmed by a running worker")]
        lines += [f"  {topic:<24} {count} key(s) removed"
                  for topic, count in self.tombstones.items() if count]
        lines += [f"  {topic:<24} not compacted: expires by {when}"
                  for topic, when in self.expires_by.items()]
        return lines


async def erase(
    settings: Settings, requests: Sequence[ErasureRequest], *, wait: float, now: datetime
) -> list[Erasure]:
    """Queue the erasure of each case on `case.inbox`, wait up to `wait` seconds for the case
    step to apply it, and report what was removed.

    Raises:
        ConfigurationError: the hub's topics do not exist (wrong prefix or broker).
    """
    names = TopicNames(settings.topic_prefix)
    options = kafka_client_options(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers,
                                enable_auto_commit=False, isolation_level="read_committed",
                                **options)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all",
                                enable_idempotence=True, partitioner=family_partitioner,
                                **options)
    await consumer.start()
    await producer.start()
    try:
        reader = _StateReader(consumer, names.case_state)
        await reader.load()
        states = await reader.latest(request.case_id.encode() for request in requests)
        found = {request.case_id: _decode_case(states.get(request.case_id.encode()))
                 for request in requests}
        references = {case_id: erasure_targets(state).references if state else ()
                      for case_id, state in found.items()}
        reference_states = await reader.latest(
            reference.encode() for refs in references.values() for reference in refs)
        owned = {case_id: tuple(ref for ref in refs if _belongs(reference_states.get(
            ref.encode()), case_id)) for case_id, refs in references.items()}
        expected = {key.encode() for case_id, state in found.items() if state is not None
                    for key in (case_id, *owned[case_id])}
        since = await reader.ends()
        await asyncio.gather(*[
            await producer.send(names.case_inbox, key=request.case_id.encode(),
                                value=EraseMessage(case_id=request.case_id).model_dump_json()
                                .encode(), headers=[(MESSAGE_HEADER, b"erase")])
            for request in requests
        ])
        erased = await reader.tombstones(expected, since, wait=wait)
    finally:
        await producer.stop()
        await consumer.stop()
    expires = _expires_by(settings, now)
    reports = []
    for request in requests:
        state = found[request.case_id]
        keys = {request.case_id, *owned[request.case_id]} if state is not None else set()
        tracking = erasure_targets(state).tracking_numbers if state is not None else ()
        reports.append(Erasure(
            case_id=request.case_id, order_id=request.order_id, known=state is not None,
            confirmed=state is not None and all(key.encode() in erased for key in keys),
            references=owned[request.case_id], tracking_numbers=tracking,
            tombstones=_tombstones(names, state is not None, len(keys), len(tracking)),
            expires_by=expires,
        ))
    return reports


def _tombstones(names: TopicNames, known: bool, states: int, parcels: int) -> dict[str, int]:
    if not known:
        return {}
    counts = {names.case_state: states, names.cases: 1, names.case_policy: 1,
              names.shipments: parcels}
    counts.update({names.feed(region.code): 1 for region in REGIONS.regions})
    return counts


def _expires_by(settings: Settings, now: datetime) -> dict[str, str]:
    """When the case's records on each expiring topic are gone at the latest (they are older
    than now; a log segment goes once its newest record is past the retention)."""
    prefix = settings.topic_prefix
    found: dict[str, str] = {}
    for topic, days in expiring_topics(settings).items():
        name = topic.removeprefix(prefix)
        name = "raw.<source>" if name.startswith("raw.") else name
        found[prefix + name] = (now + timedelta(days=days)).date().isoformat()
    return found


def _decode_case(value: bytes | None) -> CaseState | None:
    state = decode_state(value) if value is not None else None
    return state if isinstance(state, CaseState) else None


def _belongs(value: bytes | None, case_id: str) -> bool:
    state = decode_state(value) if value is not None else None
    return isinstance(state, ReferenceState) and state.case_id == case_id


class _StateReader:
    """Reads `case.state` partitions directly (no group, committed records only)."""

    def __init__(self, consumer: AIOKafkaConsumer, topic: str) -> None:
        self.consumer = consumer
        self.topic = topic
        self.partitions = 0

    async def load(self) -> None:
        for _ in range(50):
            partitions = self.consumer.partitions_for_topic(self.topic)
            if partitions:
                self.partitions = len(partitions)
                return
            await self.consumer._client.force_metadata_update()  # noqa: SLF001 - fresh topics
            await asyncio.sleep(0.1)
        raise ConfigurationError(f"topic {self.topic} does not exist: check HUB_TOPIC_PREFIX "
                                 "and HUB_BROKER_URL")

    def partition(self, key: bytes) -> TopicPartition:
        return TopicPartition(self.topic, partition_of(key, self.partitions))

    async def ends(self) -> dict[TopicPartition, int]:
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        return dict(await self.consumer.end_offsets(tps))

    async def latest(self, keys: Iterable[bytes]) -> dict[bytes, bytes | None]:
        """The newest committed value of each key (absent: never written)."""
        wanted = set(keys)
        tps = sorted({self.partition(key) for key in wanted}, key=lambda tp: tp.partition)
        if not tps:
            return {}
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        ends = await self.consumer.end_offsets(tps)
        found: dict[bytes, bytes | None] = {}
        while [tp for tp in tps if await self.consumer.position(tp) < ends[tp]]:
            batch = await self.consumer.getmany(*tps, timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key in wanted:
                        found[record.key] = record.value
        return found

    async def tombstones(
        self, keys: set[bytes], since: dict[TopicPartition, int], *, wait: float
    ) -> set[bytes]:
        """Which of `keys` got a tombstone after `since`, waiting up to `wait` seconds for all."""
        tps = sorted({self.partition(key) for key in keys}, key=lambda tp: tp.partition)
        erased: set[bytes] = set()
        if not tps:
            return erased
        self.consumer.assign(tps)
        for tp in tps:
            self.consumer.seek(tp, since[tp])
        deadline = time.monotonic() + wait
        while erased != keys and time.monotonic() < deadline:
            batch = await self.consumer.getmany(*tps, timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key in keys and record.value is None:
                        erased.add(record.key)
        return erased


__all__ = ["Erasure", "ErasureRequest", "erase"]
