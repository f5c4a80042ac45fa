"""The case step's worker: `case.inbox` in batches, one Kafka transaction per batch.

    case.inbox --case step--> cases, case.changes, case.policy, shipments, dlq.cases,
                              case.inbox (released events, links), case.state (changelog)

One consumer group (`<app_id>-case-step`) shares the inbox partitions between workers. A batch
(up to `case_batch_max_records`) is grouped by key; a case's events in the batch make one change
(`streams.case_step.step_case`). The batch's new states go to the compacted changelog
`case.state`, its outputs to their topics and its input offsets to the group, all in one
transaction: after a crash either all of a batch is visible (read_committed) or none of it, and
the batch is handled again from the state the changelog holds. States reach the local RocksDB
store (`streams.state_store`) only after their transaction committed.

Time: every `tick_interval` the worker runs `tick` for the keys of its partitions whose next
deadline (SLA notification due, parked event expiring) has passed, found in an in-memory index
of deadlines built from the states' first line when a partition is assigned and kept up to date
on every write, never by scanning the partition's states on a tick.

No exception leaves a step: a record that cannot be handled goes to `dlq.cases` with its reason,
in the same transaction. A transaction that fails is aborted and its batch read again.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced

from schemas.events import CANONICAL_EVENT, CanonicalEvent
from schemas.recent import RecentMap
from schemas.records import ERASE_MESSAGE, INBOX_KINDS, MESSAGE_HEADER, InboxKind
from streams.case_step import (
    CaseState,
    Output,
    ReferenceState,
    State,
    StepResult,
    StepSettings,
    decode_state,
    erase_case,
    forget_case,
    is_later_case,
    order_cases_key,
    peek_due,
    step_case,
    step_order,
    step_reference,
    tick,
)
from streams.cases import order_case_of
from streams.dead_letters import DeadLetter, DeadLetterCounts, as_header_pairs
from streams.delivery import STAGE_FETCH, CommittedOffsets, partition_offsets
from streams.state_store import PartitionStore, restore
from streams.topics import TopicNames, family_partitioner

log = logging.getLogger("streams.case_worker")

HOT_STATES_KEPT = 2_000


@dataclass(frozen=True, slots=True)
class CaseWorkerConfig:
    """Where the case step runs: broker, group, names and local state."""

    bootstrap_servers: str
    group_id: str
    transactional_id: str
    state_dir: Path
    partitions: int
    batch_max_records: int = 500
    tick_interval: float = 10.0
    transaction_timeout_ms: int = 15_000
    client_options: dict[str, Any] | None = None


@dataclass
class _Batch:
    """What one transaction writes: new states per partition, outputs, input offsets."""

    states: dict[int, dict[bytes, State | None]]  # None: erased (a changelog tombstone)
    outputs: list[tuple[Output, tuple[tuple[str, bytes], ...]]]
    offsets: dict[TopicPartition, int]

    @classmethod
    def empty(cls) -> _Batch:
        return cls(defaultdict(dict), [], {})


class CaseWorker:
    """Runs the case step over this worker's share of `case.inbox` until cancelled."""

    def __init__(
        self,
        config: CaseWorkerConfig,
        topics: TopicNames,
        settings: StepSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        before_commit: Callable[[int], None] | None = None,
    ) -> None:
        """`before_commit(n)` runs inside the n-th batch's transaction, after its sends and
        before its commit (fault injection in tests: a crash there must lose nothing)."""
        self.config = config
        self.before_commit = before_commit
        self.topics = topics
        self.settings = settings
        self.clock = clock
        self._lock = asyncio.Lock()
        self._stores: dict[int, PartitionStore] = {}
        self._to_restore: set[int] = set()
        self._hot: RecentMap[bytes, State] = RecentMap(HOT_STATES_KEPT)
        self._due: dict[int, dict[bytes, datetime]] = {}
        self._due_heap: dict[int, list[tuple[datetime, bytes]]] = {}
        self._next_tick = 0.0
        self.ready = asyncio.Event()
        self.batches = 0
        self.records = 0
        self.sent = 0
        self.dead_letters = DeadLetterCounts()
        self.committed = CommittedOffsets()
        self._consumer: AIOKafkaConsumer | None = None
        self._roles = {
            "inbox": topics.case_inbox, "cases": topics.cases, "changes": topics.case_changes,
            "policy": topics.case_policy, "shipments": topics.shipments,
            "dead_letter": topics.dlq_cases,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        options = self.config.client_options or {}
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap_servers,
            transactional_id=self.config.transactional_id,
            transaction_timeout_ms=self.config.transaction_timeout_ms,
            acks="all", linger_ms=5, partitioner=family_partitioner, **options,
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap_servers,
            group_id=self.config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
            max_poll_interval_ms=300_000,
            **STAGE_FETCH,
            **options,
        )
        self._restorer = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap_servers,
            enable_auto_commit=False,
            isolation_level="read_committed",
            **options,
        )
        await self._producer.start()
        await self._restorer.start()
        await self._consumer.start()
        self._consumer.subscribe([self.topics.case_inbox], listener=_Listener(self))
        try:
            while True:
                batch = await self._consumer.getmany(
                    timeout_ms=int(min(self.config.tick_interval, 1.0) * 1000),
                    max_records=self.config.batch_max_records,
                )
                async with self._lock:
                    await self._restore_assigned()
                    if batch:
                        await self._handle(batch)
                    await self._tick_if_due()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        for name in ("_consumer", "_restorer", "_producer"):
            client = getattr(self, name, None)
            if client is not None:
                try:
                    await client.stop()
                except Exception:  # noqa: BLE001 - shutting down anyway
                    log.exception("could not stop %s", name)
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def offsets(self) -> list[tuple[str, int, int | None, int | None]]:
        """Committed offset and high-water mark of each inbox partition this worker owns."""
        return partition_offsets(self._consumer, self.committed)

    def waiting_references(self) -> int:
        """References of this worker's partitions with events parked on them."""
        return sum(1 for due in self._due.values() for key in due if not key.startswith(b"case-"))

    # -- partitions ----------------------------------------------------------------------------

    async def _revoke(self, partitions: set[int]) -> None:
        async with self._lock:
            for p in partitions:
                store = self._stores.pop(p, None)
                if store is not None:
                    store.close()
                self._due.pop(p, None)
                self._due_heap.pop(p, None)
                self._to_restore.discard(p)
            if partitions:
                self._hot = RecentMap(HOT_STATES_KEPT)
                self.ready.clear()

    def _assign(self, partitions: set[int]) -> None:
        self._to_restore |= partitions - set(self._stores)
        if not self._to_restore:
            self.ready.set()

    async def _restore_assigned(self) -> None:
        for p in sorted(self._to_restore):
            store = PartitionStore(self.config.state_dir / f"p{p}")
            changelog = TopicPartition(self.topics.case_state, p)
            applied = await restore(store, self._restorer, changelog)
            self._stores[p] = store
            self._index_partition(p, store)
            log.info("case state of partition %d restored: %d changelog records applied, "
                     "%d deadlines indexed", p, applied, len(self._due[p]))
        if self._to_restore:
            self._to_restore.clear()
            self.ready.set()

    def _index_partition(self, p: int, store: PartitionStore) -> None:
        self._due[p] = {}
        self._due_heap[p] = []
        for key, value in store.items():
            try:
                self._index(p, key, peek_due(value, self.settings))
            except ValueError:
                log.warning("unreadable state of %r in partition %d", key, p)

    def _index(self, p: int, key: bytes, due: datetime | None) -> None:
        if due is None:
            self._due[p].pop(key, None)
            return
        if self._due[p].get(key) != due:
            self._due[p][key] = due
            heapq.heappush(self._due_heap[p], (due, key))

    # -- batches ------------------------------------------------------------------------------

    async def _handle(self, batch: dict[TopicPartition, list[Any]]) -> None:
        consumer = self._consumer
        assert consumer is not None  # batches come from it
        now = self.clock()
        work = _Batch.empty()
        firsts: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            if tp.partition not in self._stores or not records:
                continue  # revoked while the batch was fetched: its new owner reads it
            firsts[tp] = records[0].offset
            for key, group in _by_key(records).items():
                self._step_key(tp.partition, key, group, now, work)
            # The position, not the last offset + 1: it is past the transaction markers too, so
            # a caught-up group shows no lag.
            work.offsets[tp] = max(records[-1].offset + 1, await consumer.position(tp))
            self.records += len(records)
        if not work.offsets:
            return
        if not await self._commit(work):
            for tp, offset in firsts.items():
                consumer.seek(tp, offset)
            await asyncio.sleep(1.0)
            return
        self.batches += 1

    def _step_key(
        self, p: int, key: bytes, records: Sequence[Any], now: datetime, work: _Batch
    ) -> None:
        """Run the step for one key's records of the batch, in order; events in a row make one
        change. Records that cannot be handled become dead letters."""
        events: list[Any] = []
        for record in records:
            kind = _kind(record)
            if kind == "event":
                events.append(record)
                continue
            self._flush_events(p, key, events, now, work)
            events = []
            if kind is None:
                self._dead_letter(record, "no hub.message header (event, pending or link)",
                                  "UnknownInboxMessage", work)
                continue
            if kind == "erase":
                self._apply(p, key, [record], work, functools.partial(
                    _erase_step, key=key, value=record.value))
                self._apply(p, order_cases_key(order_case_of(key.decode())).encode(), [record],
                            work, functools.partial(_forget_step, value=record.value))
                continue
            self._apply(p, key, [record], work, functools.partial(
                _reference_step, key=key, kind=kind, value=record.value, now=now))
        self._flush_events(p, key, events, now, work)

    def _flush_events(
        self, p: int, key: bytes, records: list[Any], now: datetime, work: _Batch
    ) -> None:
        if not records:
            return
        parsed = []
        valid = []
        for record in records:
            try:
                parsed.append((record.value, CANONICAL_EVENT.validate_json(record.value)))
                valid.append(record)
            except Exception as exc:  # noqa: BLE001 - a bad record must not stop its case
                self._dead_letter(record, f"not a canonical event: {exc}", type(exc).__name__,
                                  work)
        if not parsed:
            return
        if is_later_case(key.decode()):
            self._apply(p, key, valid, work, functools.partial(
                _case_step, key=key, events=parsed, now=now, settings=self.settings))
            return
        try:
            result = step_order(lambda name: self._state(p, name.encode(), work), key.decode(),
                                parsed, now=now, settings=self.settings)
        except Exception as exc:  # noqa: BLE001 - route every failure, never lose a record
            log.exception("case step failed on the order of %r", key)
            for record in valid:
                self._dead_letter(record, f"cannot apply to case: {exc}", type(exc).__name__,
                                  work)
            return
        for name, state in result.states.items():
            self._collect(p, name.encode(), StepResult(state), work)
        self._collect(p, key, StepResult(None, result.outputs), work)

    def _apply(
        self, p: int, key: bytes, records: Sequence[Any], work: _Batch,
        step: Callable[[State | None], StepResult],
    ) -> None:
        try:
            result = step(self._state(p, key, work))
        except Exception as exc:  # noqa: BLE001 - route every failure, never lose a record
            log.exception("case step failed on %r", key, extra={
                "case_id": key, "topic": self.topics.case_inbox, "partition": p,
                "offset": records[0].offset if records else None, "stage": "cases"})
            for record in records:
                self._dead_letter(record, f"cannot apply to case: {exc}", type(exc).__name__,
                                  work)
            return
        self._collect(p, key, result, work)

    def _collect(self, p: int, key: bytes, result: StepResult, work: _Batch) -> None:
        if result.erased:
            work.states[p][key] = None
        elif result.state is not None:
            work.states[p][key] = result.state
        for out in result.outputs:
            headers: tuple[tuple[str, bytes], ...] = ()
            if out.role == "inbox" and out.kind is not None:
                headers = ((MESSAGE_HEADER, out.kind.encode()),)
            elif out.role == "dead_letter":
                letter = DeadLetter(
                    stage="cases", source="case.inbox", reason=out.reason, error=out.error,
                    topic=self.topics.case_inbox, partition=p, offset=-1,
                    failed_at=self.clock(), key=out.key, value=out.value or b"",
                    original_headers=((MESSAGE_HEADER, (out.kind or "event").encode()),),
                )
                headers = tuple(letter.headers())
                self.dead_letters.add(letter)
                log.warning("dead letter for %r: %s", out.key, out.reason, extra={
                    "case_id": out.key, "partition": p, "stage": "cases",
                    "error": out.error})
            work.outputs.append((out, headers))

    def _dead_letter(self, record: Any, reason: str, error: str, work: _Batch) -> None:
        letter = DeadLetter(
            stage="cases", source="case.inbox", reason=reason, error=error,
            topic=record.topic, partition=record.partition, offset=record.offset,
            failed_at=self.clock(), key=record.key, value=record.value or b"",
            original_headers=as_header_pairs(record.headers),
        )
        log.warning("dead letter from %s[%d]@%d: %s", record.topic, record.partition,
                    record.offset, reason, extra={
                        "topic": record.topic, "partition": record.partition,
                        "offset": record.offset, "case_id": record.key, "stage": "cases",
                        "error": error})
        self.dead_letters.add(letter)
        work.outputs.append((Output("dead_letter", record.key or b"", letter.value),
                             tuple(letter.headers())))

    def _state(self, p: int, key: bytes, work: _Batch) -> State | None:
        pending = work.states[p]
        if key in pending:
            return pending[key]  # None: erased earlier in this batch
        hot = self._hot.get(key)
        if hot is not None:
            return hot
        stored = self._stores[p].get(key)
        if stored is None:
            return None
        state = decode_state(stored)
        self._hot.put(key, state)
        return state

    async def _commit(self, work: _Batch) -> bool:
        """Write a batch in one transaction; False when it was aborted (read it again)."""
        changelog: list[tuple[int, bytes, State | None, bytes | None, Any]] = []
        try:
            async with self._producer.transaction():
                for p, states in work.states.items():
                    for key, state in states.items():
                        value = state.encode() if state is not None else None
                        future = await self._producer.send(
                            self.topics.case_state, key=key, value=value, partition=p)
                        changelog.append((p, key, state, value, future))
                for out, headers in work.outputs:
                    await self._producer.send(self._roles[out.role], key=out.key,
                                              value=out.value, headers=list(headers))
                if work.offsets:
                    await self._producer.send_offsets_to_transaction(
                        work.offsets, self.config.group_id)
                if self.before_commit is not None:
                    await self._producer.flush()
                    self.before_commit(self.batches + 1)
        except ProducerFenced:
            log.error("another worker took this worker's transactional id: stopping")
            raise
        except KafkaError:
            log.exception("case step transaction aborted; reading the batch again")
            return False
        self.committed.update(work.offsets)
        self.sent += len(work.outputs) + len(changelog)
        ends: dict[int, int] = {}
        per_partition: dict[int, dict[bytes, bytes | None]] = defaultdict(dict)
        for p, key, state, value, future in changelog:
            metadata = future.result()
            ends[p] = max(ends.get(p, 0), metadata.offset + 1)
            per_partition[p][key] = value
            if state is None:
                self._hot.discard(key)
                self._index(p, key, None)
            else:
                self._hot.put(key, state)
                self._index(p, key, state.due_at(self.settings))
        for p, values in per_partition.items():
            if p in self._stores:
                self._stores[p].write(values, next_offset=ends[p])
        return True

    # -- time ---------------------------------------------------------------------------------

    async def _tick_if_due(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        if loop_time < self._next_tick:
            return
        self._next_tick = loop_time + self.config.tick_interval
        now = self.clock()
        work = _Batch.empty()
        for p, heap in self._due_heap.items():
            if p not in self._stores:
                continue
            while heap and heap[0][0] <= now:
                due, key = heapq.heappop(heap)
                if self._due[p].get(key) != due:
                    continue  # superseded by a later write
                del self._due[p][key]
                state = self._state(p, key, work)
                if state is None:
                    continue
                try:
                    result = tick(state, key.decode(), now, settings=self.settings)
                except Exception:  # noqa: BLE001 - one bad key must not stop the clock
                    log.exception("tick failed for %r", key,
                                  extra={"case_id": key, "partition": p, "stage": "cases"})
                    continue
                self._collect(p, key, result, work)
                again = state.due_at(self.settings)
                if result.state is None and again is not None and again > now:
                    self._index(p, key, again)  # still settling: look again when it says
        if work.outputs or any(work.states.values()):
            await self._commit(work)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, worker: CaseWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.worker._revoke({tp.partition for tp in revoked})  # noqa: SLF001

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.worker._assign({tp.partition for tp in assigned})  # noqa: SLF001


def _case_step(
    state: State | None, *, key: bytes, events: list[tuple[bytes, CanonicalEvent]],
    now: datetime, settings: StepSettings,
) -> StepResult:
    return step_case(state if isinstance(state, CaseState) else None, key.decode(), events,
                     now=now, settings=settings)


def _reference_step(
    state: State | None, *, key: bytes, kind: InboxKind, value: bytes, now: datetime
) -> StepResult:
    return step_reference(state if isinstance(state, ReferenceState) else None, key.decode(),
                          kind, value, now=now)


def _erase_step(state: State | None, *, key: bytes, value: bytes | None) -> StepResult:
    return erase_case(state, key.decode(),
                      case_id=ERASE_MESSAGE.validate_json(value or b"").case_id)


def _forget_step(state: State | None, *, value: bytes | None) -> StepResult:
    return forget_case(state, case_id=ERASE_MESSAGE.validate_json(value or b"").case_id)


def _by_key(records: Sequence[Any]) -> dict[bytes, list[Any]]:
    groups: dict[bytes, list[Any]] = defaultdict(list)
    for record in records:
        groups[record.key or b""].append(record)
    return groups


def _kind(record: Any) -> InboxKind | None:
    for name, value in record.headers or ():
        if name == MESSAGE_HEADER:
            return INBOX_KINDS.get(bytes(value))
    return None
