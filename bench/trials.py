"""One trial of one variant: throughput (closed, pre-produced backlog) or latency (open loop).

Throughput: the input is on the broker before the variant starts; the variant drains it flat
out. The rate comes from the broker's LogAppendTime stamps of the outputs, from the output at
the 10th percentile (warm-up excluded) to the last one. CPU and RSS come from /proc of the
variant's processes, sampled every 0.5 s, over the same part of the run.

Latency: the variant runs on empty topics; a warm-up at the offered rate, then a paced open-loop
producer stamps each record with the time it was due; latency = output LogAppendTime - due time,
joined on `bench.seq` (B0, B1, Q forward the header) or on the event id (H, whose outputs carry
no bench header: the harness normalizes its inputs offline to know which event came from which
record).

Every trial checks its outputs: count, duplicates, missing and unexpected records. A trial that
fails the check is void and left out of the medians. B0: every input record exactly once (by
`bench.seq`). B1, Q: every canonical event of every input record exactly once (by seq and event
id). H: the final state of every case (latest record per case on the compacted `cases` topic)
has applied every expected event id exactly once, and no other; H is done when that holds
(followed live on `cases`). H also republishes a change when an event reaches its case twice
(the router and the resolver can both send it): those repeated `case.changes` records are
counted (`republished`), not voided: the hub documents at-least-once outputs with idempotent
ids.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.kafka import (
    OffsetProbe,
    OutRecord,
    create_topics,
    delete_topics_with_prefix,
    read_all,
    records_by_topic,
)
from bench.machine import ProcSample, sample_all
from bench.sut import PASSTHROUGH, Running, Variant
from bench.traffic import SEQ_HEADER, BenchRecord, Expectations, produce_all, produce_paced

WARMUP_FRACTION = 0.10
POLL = 0.5


@dataclass
class TrialResult:
    variant: str
    kind: str  # "throughput" | "latency"
    label: str
    rep: int
    records: int
    cases: int
    expected_outputs: int
    outputs: int = 0
    duplicates: int = 0
    missing: int = 0
    unexpected: int = 0
    republished: int = 0  # H: repeated case.changes records (same case and version)
    written: dict[str, int] = field(default_factory=dict)  # H: records per topic after the run
    hops: dict[str, list[float]] = field(default_factory=dict)  # H latency: hop -> [p50, p99]
    valid: bool = False
    void_reason: str = ""
    rate: float = 0.0  # input records per second
    cpu_ms_per_1k: float = 0.0  # per 1k input records
    rss_steady_mib: float = 0.0
    rss_peak_mib: float = 0.0
    window_s: float = 0.0
    wall_s: float = 0.0
    offered: float = 0.0
    achieved: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    p999_ms: float = 0.0
    max_ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Sample:
    t: float
    count: int
    proc: ProcSample | None


# -- correctness ----------------------------------------------------------------------------------

def _seq(record: OutRecord) -> int | None:
    for name, value in record.headers:
        if name == SEQ_HEADER:
            return int(value)
    return None


def _event_id(record: OutRecord) -> str | None:
    if record.value is None or record.value.startswith(b"DEAD:"):
        return None
    try:
        return str(json.loads(record.value)["event_id"])
    except (ValueError, KeyError, TypeError):
        return None


def _change_event_ids(record: OutRecord) -> list[str] | None:
    """Every event a `case.changes` record applied (one record can apply several); None for
    the policy's SLA notifications, which apply no event."""
    if record.value is None or record.value.startswith(b"DEAD:"):
        return []
    try:
        document = json.loads(record.value)
        if str(document.get("event_type", "")).startswith("sla."):
            return None
        return [str(e) for e in document.get("event_ids") or [document["event_id"]]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


def check_cases(cases: list[OutRecord], expect: Expectations) -> tuple[int, int, int, int]:
    """H: (events applied twice, expected events never applied, foreign events, cases) from the
    latest record of every case on the compacted `cases` topic."""
    latest: dict[bytes, tuple[int, list[str]]] = {}
    for record in cases:
        if record.key is None or record.value is None:
            continue
        case = json.loads(record.value)
        version = int(case.get("version", 0))
        if record.key not in latest or version >= latest[record.key][0]:
            latest[record.key] = (version, list(case.get("timeline", [])))
    applied: Counter[str] = Counter()
    for version, timeline in latest.values():
        applied.update(timeline)
        if version != len(timeline):
            applied["<version does not match the timeline>"] += 1
    expected = set(expect.event_ids)
    twice = sum(n - 1 for n in applied.values() if n > 1)
    missing = len(expected - set(applied))
    foreign = len(set(applied) - expected)
    return twice, missing, foreign, len(latest)


def check(variant: Variant, outputs: list[OutRecord], expect: Expectations,
          seqs: range) -> tuple[int, int, int, list[tuple[OutRecord, int]]]:
    """(duplicates, missing, unexpected, [(first output of each expected item, its seq)])."""
    firsts: list[tuple[OutRecord, int]] = []
    if variant.name == "N":
        return _check_inbox(outputs, expect)
    if variant.name in PASSTHROUGH:
        seen: Counter[int] = Counter()
        for record in outputs:
            seq = _seq(record)
            if seq is None or seq not in seqs:
                seen[-1] += 1
                continue
            if seen[seq] == 0:
                firsts.append((record, seq))
            seen[seq] += 1
        unexpected = seen.pop(-1, 0)
        dups = sum(n - 1 for n in seen.values())
        return dups, len(seqs) - len(seen), unexpected, firsts
    if variant.is_hub:
        ids: Counter[str] = Counter()
        unexpected = 0
        for record in outputs:
            applied = _change_event_ids(record)
            if applied is None:
                continue
            for event_id in applied or [""]:
                seq = expect.event_ids.get(event_id) if event_id else None
                if seq is None or seq not in seqs:
                    unexpected += 1
                    continue
                if ids[event_id] == 0:
                    firsts.append((record, seq))
                ids[event_id] += 1
        return sum(n - 1 for n in ids.values()), 0, unexpected, firsts
    # B1, Q: canonical events with the input's bench.seq header
    per_seq: dict[int, Counter[str]] = defaultdict(Counter)
    unexpected = 0
    for record in outputs:
        seq, canonical_id = _seq(record), _event_id(record)
        if seq is None or canonical_id is None or seq not in seqs:
            unexpected += 1
            continue
        if per_seq[seq][canonical_id] == 0:
            firsts.append((record, seq))
        per_seq[seq][canonical_id] += 1
    dups = missing = 0
    for seq in seqs:
        got = per_seq.get(seq, Counter())
        want = expect.events_by_seq[seq - seqs.start]
        dups += sum(n - 1 for n in got.values())
        missing += max(0, want - len(got))
        unexpected += max(0, len(got) - want)
    return dups, missing, unexpected, firsts


def _check_inbox(outputs: list[OutRecord], expect: Expectations
                 ) -> tuple[int, int, int, list[tuple[OutRecord, int]]]:
    """N: every canonical event on `case.inbox` (events and waiting events; links are extra
    records) exactly once, by event id; as many as the inputs hold."""
    ids: Counter[str] = Counter()
    for record in outputs:
        kinds = [value for name, value in record.headers if name == "hub.message"]
        if kinds and kinds[0] == b"link":
            continue
        ids[_event_id(record) or "<unreadable>"] += 1
    dups = sum(n - 1 for n in ids.values())
    unexpected = ids.pop("<unreadable>", 0)
    missing = max(0, expect.events - len(ids))
    return dups, missing, unexpected + max(0, len(ids) - expect.events), []


class CaseTracker:
    """H: follows the compacted `cases` topic and says when every expected event is applied.

    Exact where consumer-group lag is not: H's timers (expiry ticks, policy clock) keep adding
    records to internal topics, and some events legitimately produce no `case.changes` record.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.expected: set[str] = set()
        self._latest: dict[bytes, tuple[int, list[str]]] = {}
        self._applied: Counter[str] = Counter()
        self._consumer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap,
                                          enable_auto_commit=False,
                                          auto_offset_reset="earliest",
                                          isolation_level="read_committed")
        await self._consumer.start()
        await self._consumer._client.force_metadata_update()  # noqa: SLF001
        ids = self._consumer.partitions_for_topic(self.topic) or set()
        self._consumer.assign([TopicPartition(self.topic, p) for p in ids])

    async def missing(self) -> int:
        while True:
            batches = await self._consumer.getmany(timeout_ms=0, max_records=5000)
            if not batches:
                break
            for messages in batches.values():
                for m in messages:
                    if m.key is None or m.value is None:
                        continue
                    case = json.loads(m.value)
                    version = int(case.get("version", 0))
                    old = self._latest.get(m.key)
                    if old is not None and version < old[0]:
                        continue
                    if old is not None:
                        self._applied.subtract(old[1])
                    timeline = list(case.get("timeline", []))
                    self._applied.update(timeline)
                    self._latest[m.key] = (version, timeline)
        return sum(1 for event_id in self.expected if self._applied[event_id] <= 0)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


# -- running a variant ------------------------------------------------------------------------

async def _wait_for(probe: OffsetProbe, variant: Variant, target: int, running: Running,
                    samples: list[Sample], *, first_output_timeout: float,
                    stall_timeout: float, tracker: CaseTracker | None = None) -> str:
    """Poll until the variant is done; '' or why it gave up.

    B0, B1, F0, Q are done when their output topic holds `target` records; N when its consumer
    group has committed all of its input (it commits only what is on the broker; its output
    count includes links); H when the final state of its cases holds every expected event
    (`tracker`).
    """
    started = last_progress = time.monotonic()
    last = -1
    while True:
        count = await probe.count([variant.output_topic])
        now = time.monotonic()
        samples.append(Sample(now, count, sample_all(running.pids)))
        if variant.name == "N":
            lag = await probe.lag(variant.ingest_group, list(variant.input_topics.values()))
            if lag == 0 and count > 0:
                return ""
            progress = count
        elif tracker is not None:
            missing = await tracker.missing()
            if missing == 0:
                return ""
            progress = count * 1_000_000 - missing
        else:
            progress = count
            if count >= target:
                return ""
        if progress > last:
            last, last_progress = progress, now
        if not running.alive():
            return "a process of the variant exited:\n" + running.log_tail()
        limit = stall_timeout if count > 0 else first_output_timeout
        if now - (last_progress if count > 0 else started) > limit:
            return f"stalled at {count}/{target} outputs"
        await asyncio.sleep(POLL)


async def _cleanup(variant: Variant, work_dir: Path) -> None:
    prefixes = (variant.ns, f"bench-{variant.ns.strip('.')}")
    await delete_topics_with_prefix(variant.bootstrap, prefixes)
    shutil.rmtree(work_dir / "state", ignore_errors=True)


async def throughput_trial(variant: Variant, batch: list[BenchRecord], expect: Expectations,
                           work_dir: Path, *, label: str, rep: int, cases: int,
                           produce_input: bool, first_output_timeout: float = 180
                           ) -> TrialResult:
    expected_out = expect.records if variant.name in PASSTHROUGH else expect.events
    result = TrialResult(variant.name, "throughput", label, rep, expect.records, cases,
                         expected_out)
    await create_topics(variant.bootstrap, variant.topics_to_create(), variant.partitions)
    if produce_input:
        await produce_all(variant.bootstrap, batch, variant.input_topics)
    probe = OffsetProbe(variant.bootstrap)
    await probe.start()
    tracker = CaseTracker(variant.bootstrap, variant.cases_topic) if variant.is_hub else None
    if tracker is not None:
        tracker.expected = set(expect.event_ids)
        await tracker.start()
    samples: list[Sample] = []
    started = time.monotonic()
    running = variant.start(work_dir)
    try:
        failure = await _wait_for(probe, variant, expected_out, running, samples,
                                  first_output_timeout=first_output_timeout, stall_timeout=60,
                                  tracker=tracker)
        await asyncio.sleep(1.0)  # late duplicates, if any, land before the read-back
        samples.append(Sample(time.monotonic(), await probe.count([variant.output_topic]),
                              sample_all(running.pids)))
    finally:
        result.wall_s = time.monotonic() - started
        running.stop()
        await probe.stop()
        if tracker is not None:
            await tracker.stop()
    try:
        outputs = await read_all(variant.bootstrap, [variant.output_topic])
        result.outputs = len(outputs)
        seqs = range(batch[0].seq, batch[-1].seq + 1)
        result.duplicates, result.missing, result.unexpected, _ = check(variant, outputs,
                                                                        expect, seqs)
        if variant.is_hub:
            result.republished = result.duplicates
            case_records = await read_all(variant.bootstrap, [variant.cases_topic])
            result.duplicates, result.missing, foreign, _n = check_cases(case_records, expect)
            result.unexpected += foreign
            written = await records_by_topic(variant.bootstrap, (variant.ns, variant.group + "-"))
            result.written = {_topic_role(t, variant): n for t, n in sorted(written.items())
                              if n and "raw." not in t}
        _throughput(result, outputs, samples, expect)
    finally:
        await _cleanup(variant, work_dir)
    problems = [failure] if failure else []
    if result.duplicates or result.missing or result.unexpected:
        problems.append(f"correctness: {result.duplicates} duplicates, {result.missing} missing,"
                        f" {result.unexpected} unexpected")
    result.void_reason = "; ".join(problems)
    result.valid = not problems
    return result


def _throughput(result: TrialResult, outputs: list[OutRecord], samples: list[Sample],
                expect: Expectations) -> None:
    stamps = sorted(r.timestamp_ms for r in outputs)
    if len(stamps) < 10:
        return
    first = int(len(stamps) * WARMUP_FRACTION)
    window = (stamps[-1] - stamps[first]) / 1000
    per_output = expect.records / len(stamps)  # input records per output record
    if window > 0:
        result.rate = (len(stamps) - 1 - first) / window * per_output
    result.window_s = window
    measured = [s for s in samples if s.proc is not None]
    if not measured:
        return
    final = max(s.count for s in measured)
    start = next((s for s in measured if s.count >= final * WARMUP_FRACTION), None)
    end = next((s for s in measured if s.count >= final), None)
    if start is not None and end is not None and end.count > start.count:
        assert start.proc is not None and end.proc is not None
        records = (end.count - start.count) * per_output
        result.cpu_ms_per_1k = (end.proc.cpu_seconds - start.proc.cpu_seconds) * 1e6 / records
        steady = [s.proc.rss_bytes for s in measured if start.t <= s.t <= end.t and s.proc]
        result.rss_steady_mib = statistics.median(steady) / 2**20 if steady else 0.0
    result.rss_peak_mib = max(s.proc.peak_rss_bytes for s in measured if s.proc) / 2**20


def _topic_role(topic: str, variant: Variant) -> str:
    if topic.startswith(variant.group + "-"):
        return "changelog " + topic.removeprefix(variant.group + "-").removesuffix("-changelog")
    return topic.removeprefix(variant.ns)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


async def latency_trial(variant: Variant, warm: list[BenchRecord], measured: list[BenchRecord],
                        expect_warm: Expectations, expect_measured: Expectations,
                        work_dir: Path, *, rate: float, label: str, rep: int,
                        drain_timeout: float = 30.0) -> TrialResult:
    def outputs_for(e: Expectations) -> int:
        return e.records if variant.name in PASSTHROUGH else e.events

    expected_out = outputs_for(expect_measured)
    result = TrialResult(variant.name, "latency", label, rep, expect_measured.records,
                         0, expected_out, offered=rate)
    await create_topics(variant.bootstrap, variant.topics_to_create(), variant.partitions)
    probe = OffsetProbe(variant.bootstrap)
    await probe.start()
    tracker = CaseTracker(variant.bootstrap, variant.cases_topic) if variant.is_hub else None
    if tracker is not None:
        tracker.expected = set(expect_warm.event_ids)
        await tracker.start()
    samples: list[Sample] = []
    started = time.monotonic()
    running = variant.start(work_dir)
    failure = ""
    try:
        # Warm-up at the offered rate; the variant may still be starting, so no timing here.
        await produce_paced(variant.bootstrap, warm, variant.input_topics, rate)
        failure = await _wait_for(probe, variant, outputs_for(expect_warm), running, samples,
                                  first_output_timeout=180, stall_timeout=60, tracker=tracker)
        if tracker is not None:
            tracker.expected |= set(expect_measured.event_ids)
        before = sample_all(running.pids)
        t0 = time.monotonic()
        due = await produce_paced(variant.bootstrap, measured, variant.input_topics, rate)
        sent_s = time.monotonic() - t0
        result.achieved = len(measured) / sent_s if sent_s > 0 else 0.0
        if not failure:
            failure = await _wait_for(probe, variant,
                                      outputs_for(expect_warm) + expected_out, running, samples,
                                      first_output_timeout=drain_timeout,
                                      stall_timeout=drain_timeout, tracker=tracker)
        after = sample_all(running.pids)
        if before and after:
            result.cpu_ms_per_1k = (after.cpu_seconds - before.cpu_seconds) * 1e6 / len(measured)
            result.rss_steady_mib = after.rss_bytes / 2**20
            result.rss_peak_mib = after.peak_rss_bytes / 2**20
    finally:
        result.wall_s = time.monotonic() - started
        running.stop()
        await probe.stop()
        if tracker is not None:
            await tracker.stop()
    try:
        outputs = await read_all(variant.bootstrap, [variant.output_topic])
        seqs = range(measured[0].seq, measured[-1].seq + 1)
        in_window = [o for o in outputs if _belongs(variant, o, expect_measured, expect_warm, seqs)]
        result.outputs = len(in_window)
        result.duplicates, result.missing, result.unexpected, firsts = check(
            variant, in_window, expect_measured, seqs)
        if variant.is_hub:
            result.republished = result.duplicates
            both = Expectations(event_ids={**expect_warm.event_ids, **expect_measured.event_ids})
            case_records = await read_all(variant.bootstrap, [variant.cases_topic])
            result.duplicates, result.missing, foreign, _n = check_cases(case_records, both)
            result.unexpected += foreign
        latencies = sorted(float(o.timestamp_ms - due[seq]) for o, seq in firsts)
        if variant.is_hub:
            result.hops = await _hub_hops(variant, firsts, due, expect_measured)
        result.p50_ms = percentile(latencies, 0.50)
        result.p99_ms = percentile(latencies, 0.99)
        result.p999_ms = percentile(latencies, 0.999)
        result.max_ms = latencies[-1] if latencies else math.nan
    finally:
        await _cleanup(variant, work_dir)
    problems = [failure] if failure else []
    if result.duplicates or result.missing or result.unexpected:
        problems.append(f"correctness: {result.duplicates} duplicates, {result.missing} missing,"
                        f" {result.unexpected} unexpected")
    result.void_reason = "; ".join(problems)
    result.valid = not problems
    return result


async def _hub_hops(variant: Variant, firsts: list[tuple[OutRecord, int]],
                    due: dict[int, int], expect: Expectations) -> dict[str, list[float]]:
    """Where H's latency goes: `case.inbox` has broker timestamps, joined on event id."""
    from streams.topics import TopicNames

    inbox = TopicNames(variant.ns).case_inbox
    entered: dict[str, int] = {}
    for record in await read_all(variant.bootstrap, [inbox]):
        event_id = _event_id(record)
        if event_id is not None and event_id not in entered:
            entered[event_id] = record.timestamp_ms
    segments: dict[str, list[float]] = defaultdict(list)
    for record, seq in firsts:
        ids = [e for e in _change_event_ids(record) or [] if expect.event_ids.get(e) == seq]
        inboxed = entered.get(ids[0]) if ids else None
        if inboxed is None:
            continue
        segments["raw -> case.inbox (ingest)"].append(inboxed - due[seq])
        segments["case.inbox -> case.changes (case step)"].append(record.timestamp_ms - inboxed)
    return {hop: [percentile(sorted(v), 0.5), percentile(sorted(v), 0.99)]
            for hop, v in segments.items()}


def _belongs(variant: Variant, record: OutRecord, expect: Expectations, warm: Expectations,
             seqs: range) -> bool:
    """Outputs of the measured records (warm-up outputs share the topic)."""
    if variant.is_hub:
        event_id = _event_id(record)
        return event_id is None or event_id not in warm.event_ids
    seq = _seq(record)
    return seq is None or seq in seqs
