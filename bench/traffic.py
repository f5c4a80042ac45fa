"""Benchmark traffic: the hub's sample stories, interleaved, as raw Kafka records.

The payloads come from `hub.sample_traffic` (marketplace, carrier and payment deliveries in
their native formats and languages, several per case, one case per story). The bench only
numbers them: every record carries a `bench.seq` header (its index in the run), which B0, B1
and Q pass through, and stories are interleaved in waves so that the payloads of one case are
spread over time and partitions as they are in production (not all back to back).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.sample_traffic import STORIES, SamplePayload
from schemas.raw_records import RawRecord, encode_headers

SEQ_HEADER = "bench.seq"
WAVE = 64  # stories interleaved per wave: payload 0 of 64 cases, then payload 1, ...


@dataclass(frozen=True, slots=True)
class BenchRecord:
    seq: int
    source: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    template: tuple[int, int]  # (story kind, payload position): fixes the number of events


def iter_payloads(cases: int, *, seed: int = 7, first_case: int = 0
                  ) -> Iterator[tuple[SamplePayload, tuple[int, int]]]:
    """The payloads of `cases` stories in waves, lazily (1M records do not sit in memory)."""
    rng = random.Random(seed)
    n = first_case
    end = first_case + cases
    while n < end:
        wave = []
        for m in range(n, min(n + WAVE, end)):
            kind = m % len(STORIES)
            wave.append([(p, (kind, i)) for i, p in enumerate(STORIES[kind](m, rng).payloads)])
        n += len(wave)
        for column in itertools.zip_longest(*wave):
            yield from (item for item in column if item is not None)


def records(cases: int, *, seed: int = 7, first_case: int = 0, received_at: datetime | None = None
            ) -> Iterator[BenchRecord]:
    """Raw records as the webhook intake writes them (hub headers), numbered from 0."""
    when = received_at or datetime.now(UTC)
    for seq, (payload, template) in enumerate(iter_payloads(cases, seed=seed,
                                                            first_case=first_case)):
        headers = encode_headers(RawRecord(source=payload.source, body=payload.body,
                                           received_at=when, http_headers=payload.headers))
        headers.append((SEQ_HEADER, str(seq).encode()))
        yield BenchRecord(seq, payload.source, payload.key, payload.body, headers, template)


def records_per_case() -> float:
    lengths = [len(STORIES[k % len(STORIES)](k, random.Random(1)).payloads)
               for k in range(len(STORIES))]
    return statistics.mean(lengths)


def cases_for(n_records: int) -> int:
    return max(1, round(n_records / records_per_case()))


@dataclass
class Expectations:
    """What a correct run of a variant outputs for a set of records."""

    records: int = 0
    events: int = 0
    events_by_seq: list[int] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    bytes_total: int = 0
    sizes: list[int] = field(default_factory=list)
    # seq -> event ids (filled only when asked for: the hub's outputs carry no bench header)
    event_ids: dict[str, int] = field(default_factory=dict)

    def size_summary(self) -> str:
        sizes = sorted(self.sizes)
        if not sizes:
            return "n/a"
        q = statistics.quantiles(sizes, n=20)
        return (f"mean {statistics.mean(sizes):.0f} B, p5 {q[0]:.0f} B, median "
                f"{statistics.median(sizes):.0f} B, p95 {q[-1]:.0f} B")


_TEMPLATE_EVENTS: dict[tuple[int, int], int] = {}


def _normalize(record: BenchRecord) -> list[str]:
    from streams.normalize import RawKafkaRecord, normalize_record

    raw = RawKafkaRecord(source=record.source, topic=f"raw.{record.source}", partition=0,
                         offset=record.seq, timestamp_ms=None, key=record.key,
                         value=record.value, headers=tuple(record.headers))
    result = normalize_record(raw, now=datetime.now(UTC))
    if result.dead_letter is not None:
        raise RuntimeError(f"generated payload rejected: {result.dead_letter.reason}")
    return [event.event_id for event in result.events]


def template_events(record: BenchRecord) -> int:
    """Events the hub's normalization makes of a record (the same for every record of a template;
    checked on the first stories of each kind)."""
    count = _TEMPLATE_EVENTS.get(record.template)
    if count is None:
        count = len(_normalize(record))
        _TEMPLATE_EVENTS[record.template] = count
    return count


def verify_templates(cases: int = 8) -> None:
    """Fail early when the generator changed so that the template event counts do not hold."""
    seen: dict[tuple[int, int], int] = {}
    for record in records(cases):
        count = len(_normalize(record))
        if seen.setdefault(record.template, count) != count:
            raise RuntimeError(f"events per payload vary within template {record.template}")
    _TEMPLATE_EVENTS.update(seen)


def expect(batch: list[BenchRecord], *, with_event_ids: bool = False) -> Expectations:
    result = Expectations()
    for record in batch:
        result.records += 1
        result.sources.add(record.source)
        result.bytes_total += len(record.value)
        result.sizes.append(len(record.value))
        if with_event_ids:
            ids = _normalize(record)
            for event_id in ids:
                result.event_ids[event_id] = record.seq
            n = len(ids)
        else:
            n = template_events(record)
        result.events_by_seq.append(n)
        result.events += n
    return result


async def produce_all(bootstrap: str, batch: list[BenchRecord], topic_of: dict[str, str]) -> float:
    """Write `batch` as fast as the broker takes it (acks=all); returns the seconds it took."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=10,
                                max_batch_size=512 * 1024, enable_idempotence=False,
                                request_timeout_ms=60_000)
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for record in batch:
            pending.append(await producer.send(topic_of[record.source], value=record.value,
                                               key=record.key, headers=record.headers))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - started


async def produce_paced(bootstrap: str, batch: list[BenchRecord], topic_of: dict[str, str],
                        rate: float) -> dict[int, int]:
    """Open loop: record i is due at start + i/rate whatever the system under test does.

    Each record is stamped (Kafka CreateTime) with the time it was due, not the time it left,
    so a producer that falls behind its schedule cannot hide queueing (coordinated omission).
    Returns seq -> due time in ms.
    """
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0,
                                enable_idempotence=False)
    await producer.start()
    due: dict[int, int] = {}
    pending = []
    try:
        start = time.time() + 0.2
        for i, record in enumerate(batch):
            at = start + i / rate
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            stamp = int(at * 1000)
            due[record.seq] = stamp
            pending.append(await producer.send(topic_of[record.source], value=record.value,
                                               key=record.key, headers=record.headers,
                                               timestamp_ms=stamp))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return due


async def preload_case_states(bootstrap: str, ns: str, count: int, record: BenchRecord) -> float:
    """Put `count` stored cases in the case step's changelog (`<ns>case.state`), each on its
    key's partition, as a worker restores them: what a hub with that many cases holds before
    the trial's traffic (new cases) arrives. Each is an order without after-sales yet (one
    raw event, no deadline). Returns the seconds it took."""
    from aiokafka import AIOKafkaProducer

    from schemas.events import CANONICAL_EVENT
    from streams.case_step import CaseState
    from streams.normalize import RawKafkaRecord, normalize_record
    from streams.topics import partition_of

    raw = RawKafkaRecord(source=record.source, topic=f"raw.{record.source}", partition=0,
                         offset=0, timestamp_ms=None, key=record.key, value=record.value,
                         headers=tuple(record.headers))
    event = normalize_record(raw, now=datetime.now(UTC)).events[0]
    # One stored value for all: what matters is how many keys the stores hold.
    value = CaseState("case-preloaded", version=1, applied=(event.event_id,),
                      raw_events=(CANONICAL_EVENT.dump_json(event),)).encode()
    started = time.monotonic()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=512 * 1024, compression_type=None)
    await producer.start()
    try:
        pending = []
        for i in range(count):
            key = f"case-preloaded-{i:08d}".encode()
            pending.append(await producer.send(f"{ns}case.state", key=key, value=value,
                                               partition=partition_of(key, 4)))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - started
