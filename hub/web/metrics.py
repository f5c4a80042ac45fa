"""`GET /metrics` (Prometheus), `GET /metrics.json` and `GET /dashboard` on every worker.

    GET /metrics        Prometheus text exposition format 0.0.4 (prometheus-client)
    GET /metrics.json   the worker's facts and the service figures as JSON (the dashboard's)
    GET /dashboard      one static page, charts drawn in SVG by inline JS (no CDN)

Each app has its own `CollectorRegistry` (`HubMetrics`), never the client's global one, so
several apps in one process (tests) do not collide. The registry holds the client's process,
platform and GC collectors and one collector that reads the worker at scrape time: the stages
keep plain counters (`streams.ingest`, `streams.case_worker`, `streams.feed_stage`), so nothing
on the hot path touches the client.

Names follow the Prometheus naming guide: `hub_` prefix, snake case, base units (`_seconds`),
`_total` on counters. Every name is listed in `METRIC_NAMES` below; the Grafana dashboard and
the alert rules in `deploy/` use only these (a test holds them to it).

Two kinds of figures:

* The worker's own (`hub_worker_*`, `hub_ingest_*`, `hub_case_step_*`, `hub_feed_*`,
  `hub_consumer_*`, `hub_dead_letters_total`, `hub_translation_*`, `hub_faust_*`): counters
  since the process started (they reset on a restart, as Prometheus counters may), consumer
  lag per stage and topic-partition (end offset minus the offset the stage committed). Sum
  them across workers.
* Service figures (`hub_service_*`, labels region / marketplace / reason): every worker follows
  all of `case.changes` from the beginning (no consumer group) into a
  `streams.metrics.ServiceMetrics`, so every worker reports the same, global figures: take
  `max` across workers, not `sum`. They cover what `case.changes` still retains.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from hub.web.health import worker_health
from schemas.settings import Settings
from streams.feed_stage import FeedStage
from streams.kafka_clients import kafka_client_options
from streams.metrics import GroupFigures, Histogram, ServiceMetrics
from streams.pipeline import Pipeline
from streams.read_model import FOLLOWER_FETCH, ReadModel
from streams.topics import TopicNames

log = logging.getLogger("hub.web.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What `generate_latest` writes; the client's CONTENT_TYPE_LATEST names a newer version that
older Prometheus servers do not know."""
DLQ_STAGES = ("normalize", "cases", "feeds")
"""Dead-letter stages, as in `dlq.<stage>`: every one is reported, with 0 until it sends one."""
CIRCUIT_STATES = ("closed", "open", "half_open")

Samples = dict[str, list[tuple[dict[str, str], float]]]


# --- Reading an exposition (tests and tools) ----------------------------------------------------

def parse_prometheus(text: str) -> Samples:
    """Samples of a text exposition by full sample name (`x_total`, `x_bucket`...), each with
    its labels and value.

    Raises:
        ValueError: the text is not a valid exposition.
    """
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return samples


def exposed_names(text: str) -> set[str]:
    """Every name an exposition declares, whether or not it has samples yet: families, and
    the sample names their type implies (`_total`, `_bucket`, `_sum`, `_count`)."""
    names: set[str] = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                "summary": ("_sum", "_count")}
    for family in text_string_to_metric_families(text):
        implied = suffixes.get(family.type)
        if implied:  # a counter's or histogram's family name is no series of its own
            names.update(family.name + suffix for suffix in implied)
        else:
            names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


# --- The worker's own figures -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    topic: str
    partition: int
    committed: int | None
    highwater: int | None
    stage: str = ""

    @property
    def lag(self) -> int | None:
        if self.committed is None or self.highwater is None:
            return None
        return max(0, self.highwater - self.committed)


@dataclass(frozen=True, slots=True)
class StageFigures:
    """One batch stage's counters since start."""

    records: int
    sent: int


@dataclass(frozen=True, slots=True)
class FaustFigures:
    """faust's own monitor (`app.monitor`): what still goes through faust (tables, timers)."""

    messages_received: int
    messages_sent: int
    send_errors: int
    events: int
    events_active: int
    assignments_completed: int
    assignments_failed: int
    rebalances: int


@dataclass(frozen=True, slots=True)
class TranslationFigures:
    """The feeds' translators: results by path (stream, retry) and outcome, and their state."""

    outcomes: tuple[tuple[str, str, int], ...]
    circuit_state: str
    pending_views: int
    memory_entries: int


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """A snapshot of one worker's figures, as plain values."""

    app_id: str
    web_port: int
    ready: bool
    rebalancing: bool
    assigned_partitions: int
    events_per_second: float
    stages: Mapping[str, StageFigures]
    dead_letters: tuple[tuple[str, str, str, int], ...]
    """(stage, source, error class, count)"""
    parked_events: int | None
    partitions: tuple[PartitionOffsets, ...]
    read_model_cases: int | None
    read_model_policies: int | None
    read_model_caught_up: bool | None
    service_records: int
    service_records_skipped: int
    service_caught_up: bool
    ingest_records: tuple[tuple[str, int], ...] = ()
    """(source, records consumed)"""
    ingest_sent: tuple[tuple[str, int], ...] = ()
    """(inbox kind, records sent)"""
    ignored_payloads: tuple[tuple[str, str, int], ...] = ()
    case_step_batches: int | None = None
    faust: FaustFigures | None = None
    translation: TranslationFigures | None = None

    @property
    def events_total(self) -> int:
        return sum(stage.records for stage in self.stages.values())

    def dead_letters_by_stage(self) -> dict[str, int]:
        totals = dict.fromkeys(DLQ_STAGES, 0)
        for stage, _, _, count in self.dead_letters:
            totals[stage] = totals.get(stage, 0) + count
        return totals

    def as_json(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "web_port": self.web_port,
            "ready": self.ready,
            "rebalancing": self.rebalancing,
            "assigned_partitions": self.assigned_partitions,
            "events_per_second": self.events_per_second,
            "events_total": self.events_total,
            "stages": {name: {"records": figures.records, "sent": figures.sent}
                       for name, figures in self.stages.items()},
            "dead_letters": self.dead_letters_by_stage(),
            "parked_events": self.parked_events,
            "consumer": [
                {"stage": p.stage, "topic": p.topic, "partition": p.partition,
                 "committed": p.committed, "highwater": p.highwater, "lag": p.lag}
                for p in self.partitions
            ],
            "consumer_lag_total": sum(p.lag or 0 for p in self.partitions),
            "read_model": {"cases": self.read_model_cases, "policies": self.read_model_policies,
                           "caught_up": self.read_model_caught_up},
            "service_follower": {"records": self.service_records,
                                 "skipped": self.service_records_skipped,
                                 "caught_up": self.service_caught_up},
            "ignored_payloads": [{"source": source, "kind": kind, "count": count}
                                 for source, kind, count in self.ignored_payloads],
        }


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], float(value))
    return family


def _counter(name: str, documentation: str, value: float | None) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], float(value))
    return family


def worker_metrics(facts: WorkerFacts) -> list[Metric]:
    """The worker's figures as metric families."""
    families: list[Metric] = [
        _gauge("hub_worker_ready", "1 when the stages are assigned, restored and caught up "
               "(what /readyz answers)", facts.ready),
        _gauge("hub_worker_rebalancing", "1 while a rebalance is under way", facts.rebalancing),
        _gauge("hub_worker_assigned_partitions",
               "topic-partitions assigned to this worker's faust consumer",
               facts.assigned_partitions),
    ]
    records = CounterMetricFamily("hub_stage_records_total",
                                  "records a stage consumed since start", labels=["stage"])
    sent = CounterMetricFamily("hub_stage_records_sent_total",
                               "records a stage handed to the producer since start (a batch "
                               "read again counts again)", labels=["stage"])
    for name, figures in sorted(facts.stages.items()):
        records.add_metric([name], figures.records)
        sent.add_metric([name], figures.sent)
    by_source = CounterMetricFamily("hub_ingest_records_total",
                                    "raw records the ingest stage consumed, per source",
                                    labels=["source"])
    for source, count in facts.ingest_records:
        by_source.add_metric([source], count)
    by_kind = CounterMetricFamily("hub_ingest_records_sent_total",
                                  "case.inbox records the ingest stage sent, per kind "
                                  "(event, pending, link)", labels=["kind"])
    for kind, count in facts.ingest_sent:
        by_kind.add_metric([kind], count)
    ignored = CounterMetricFamily("hub_ingest_ignored_total",
                                  "raw payloads a connector ignored on purpose (a type the hub "
                                  "does not use), per source and kind", labels=["source", "kind"])
    for source, kind, count in facts.ignored_payloads:
        ignored.add_metric([source, kind], count)
    dead = CounterMetricFamily("hub_dead_letters_total",
                               "dead letters this worker sent since start, per stage "
                               "(dlq.<stage>), source and error class",
                               labels=["stage", "source", "error"])
    sent_stages = {stage for stage, _, _, _ in facts.dead_letters}
    for stage, source, error, count in facts.dead_letters:
        dead.add_metric([stage, source, error], count)
    for stage in DLQ_STAGES:
        if stage not in sent_stages:  # a zero per stage: rate() and alerts need the series
            dead.add_metric([stage, "", ""], 0)
    families += [records, sent, by_source, by_kind, ignored, dead]
    families.append(_counter("hub_case_step_batches_total",
                             "case step transactions committed since start",
                             facts.case_step_batches))
    families.append(_gauge("hub_case_step_parked_references",
                           "references with events waiting to be linked, on this worker's "
                           "partitions", facts.parked_events))
    lag = GaugeMetricFamily("hub_consumer_lag_records",
                            "records behind: end offset minus committed offset, per stage and "
                            "topic-partition", labels=["stage", "topic", "partition"])
    committed = GaugeMetricFamily("hub_consumer_committed_offset",
                                  "offset the stage committed last", labels=["stage", "topic",
                                                                             "partition"])
    end = GaugeMetricFamily("hub_consumer_end_offset", "end offset (high-water mark)",
                            labels=["stage", "topic", "partition"])
    for offsets in facts.partitions:
        labels = [offsets.stage, offsets.topic, str(offsets.partition)]
        for family, value in ((lag, offsets.lag), (committed, offsets.committed),
                              (end, offsets.highwater)):
            if value is not None:
                family.add_metric(labels, value)
    families += [lag, committed, end]
    documents = GaugeMetricFamily("hub_read_model_documents",
                                  "documents in this worker's read model", labels=["kind"])
    if facts.read_model_cases is not None:
        documents.add_metric(["case"], facts.read_model_cases)
    if facts.read_model_policies is not None:
        documents.add_metric(["policy"], facts.read_model_policies)
    families += [
        documents,
        _gauge("hub_read_model_caught_up", "1 once the read model caught up",
               facts.read_model_caught_up),
        _counter("hub_service_follower_records_total",
                 "case.changes records read into the service metrics", facts.service_records),
        _counter("hub_service_follower_skipped_total",
                 "case.changes records the service metrics could not read",
                 facts.service_records_skipped),
        _gauge("hub_service_follower_caught_up",
               "1 once the service metrics read case.changes to its end",
               facts.service_caught_up),
    ]
    families += _faust_metrics(facts.faust)
    families += _translation_metrics(facts.translation)
    return families


def _faust_metrics(faust: FaustFigures | None) -> list[Metric]:
    figures = faust or FaustFigures(0, 0, 0, 0, 0, 0, 0, 0)
    assignments = CounterMetricFamily("hub_faust_assignments_total",
                                      "partition assignments faust completed or failed",
                                      labels=["result"])
    assignments.add_metric(["completed"], figures.assignments_completed)
    assignments.add_metric(["failed"], figures.assignments_failed)
    return [
        _counter("hub_faust_messages_received_total", "messages faust's consumer received",
                 figures.messages_received),
        _counter("hub_faust_messages_sent_total", "messages faust's producer sent",
                 figures.messages_sent),
        _counter("hub_faust_send_errors_total", "sends of faust's producer that failed",
                 figures.send_errors),
        _counter("hub_faust_events_total", "events faust's streams processed", figures.events),
        _gauge("hub_faust_events_active", "events faust's streams are processing now",
               figures.events_active),
        assignments,
        _counter("hub_faust_rebalances_total", "rebalances faust's consumer went through",
                 figures.rebalances),
    ]


def _translation_metrics(translation: TranslationFigures | None) -> list[Metric]:
    results = CounterMetricFamily(
        "hub_translation_results_total",
        "translations asked for by the feeds, per path (stream, retry) and outcome "
        "(translated, memory, pending, not_needed)", labels=["path", "outcome"])
    circuit = GaugeMetricFamily("hub_translation_circuit_state",
                                "1 for the translation circuit breaker's current state",
                                labels=["state"])
    if translation is None:
        return [results, circuit]
    for path, outcome, count in translation.outcomes:
        results.add_metric([path, outcome], count)
    for state in CIRCUIT_STATES:
        circuit.add_metric([state], float(state == translation.circuit_state))
    return [
        results, circuit,
        _gauge("hub_translation_pending_views",
               "views published with a pending translation, waiting for a retry",
               translation.pending_views),
        _gauge("hub_translation_memory_entries", "entries of the translation memory",
               translation.memory_entries),
    ]


# --- Service figures ----------------------------------------------------------------------------

_COUNTS = (
    ("cases_opened", "hub_service_cases_opened", "cases opened"),
    ("resolved", "hub_service_cases_resolved", "cases resolved"),
    ("first_contact_resolved", "hub_service_cases_first_contact_resolved",
     "cases resolved at first contact (one buyer request, no dispute, no SLA breach)"),
    ("escalated", "hub_service_cases_escalated", "cases with a dispute or an SLA breach"),
    ("sla_breached", "hub_service_cases_sla_breached", "cases with an SLA deadline breached"),
    ("disputed", "hub_service_cases_disputed", "cases with a dispute"),
    ("csat_responses", "hub_service_csat_responses", "satisfaction survey answers"),
    ("csat_satisfied", "hub_service_csat_satisfied", "survey answers of 4 or 5 out of 5"),
)
_RATES = (
    ("first_contact_resolution_rate", "hub_service_first_contact_resolution_ratio",
     "first-contact resolutions / resolved cases"),
    ("escalation_rate", "hub_service_escalation_ratio", "escalated / opened cases"),
    ("dispute_rate", "hub_service_dispute_ratio", "disputed / opened cases"),
    ("csat", "hub_service_csat_ratio", "satisfied / survey answers (CSAT)"),
)
_DURATIONS = (
    ("first_response_seconds", "hub_service_time_to_first_response_seconds",
     "return request (else opening) to the first merchant answer"),
    ("refund_seconds", "hub_service_time_to_refund_seconds",
     "return request (else opening) to the first refund"),
    ("resolution_seconds", "hub_service_time_to_resolution_seconds", "opening to resolution"),
)
_GROUP_LABELS = ["region", "marketplace", "reason"]


def service_metrics(groups: Iterable[GroupFigures]) -> list[Metric]:
    """Service figures per (region, marketplace, reason) as metric families. Counts are
    gauges: a case whose region becomes known later moves from one group to another."""
    counts = {attr: GaugeMetricFamily(name, text, labels=_GROUP_LABELS)
              for attr, name, text in _COUNTS}
    rates = {attr: GaugeMetricFamily(name, text, labels=_GROUP_LABELS)
             for attr, name, text in _RATES}
    durations = {attr: HistogramMetricFamily(name, text, labels=_GROUP_LABELS)
                 for attr, name, text in _DURATIONS}
    for group in groups:
        labels = [group.region, group.marketplace, group.reason]
        for attr, family in counts.items():
            family.add_metric(labels, getattr(group, attr))
        for attr, family in rates.items():
            rate = getattr(group, attr)
            if rate is not None:  # undefined (nothing resolved yet): left out, not 0 or NaN
                family.add_metric(labels, rate)
        for attr, histogram in durations.items():
            _add_histogram(histogram, labels, getattr(group, attr))
    return [*counts.values(), *rates.values(), *durations.values()]


def _add_histogram(family: HistogramMetricFamily, labels: list[str],
                   histogram: Histogram) -> None:
    buckets = [("+Inf" if bound == float("inf") else repr(float(bound)), float(count))
               for bound, count in histogram.cumulative()]
    family.add_metric(labels, buckets, sum_value=histogram.total)


def service_json(service: ServiceMetrics) -> dict[str, Any]:
    groups = service.groups()
    by_marketplace: dict[str, int] = {}
    by_region: dict[str, GroupFigures] = {}
    for group in groups:
        opened = by_marketplace.get(group.marketplace, 0) + group.cases_opened
        by_marketplace[group.marketplace] = opened
        region = by_region.get(group.region) or GroupFigures(group.region, "all", "all")
        by_region[group.region] = region.merged(group)
    return {
        "cases": service.cases,
        "totals": service.totals().as_json(),
        "by_marketplace": by_marketplace,
        "by_region": [by_region[code].as_json() for code in sorted(by_region)],
        "groups": [group.as_json() for group in groups],
    }


# --- Registry ----------------------------------------------------------------------------------

class _Families(Collector):
    def __init__(self, read: Any) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        yield from self._read()


def new_registry(*families: Any) -> CollectorRegistry:
    """A registry of its own with the client's process, platform and GC collectors, and a
    collector per `families` callable (called at every scrape, returning metric families)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    if GC_COLLECTOR is not None:
        GCCollector(registry=registry)
    for read in families:
        registry.register(_Families(read))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the text exposition format."""
    return bytes(generate_latest(registry))


# --- Collecting from a running worker -----------------------------------------------------------

@dataclass(slots=True)
class _Follower:
    caught_up: bool = False


class MetricsCollector:
    """Reads one worker's figures from its stages and faust; holds the service metrics it
    follows and the app's own registry."""

    def __init__(self, app: Any, topics: TopicNames, read_model: ReadModel | None,
                 service: ServiceMetrics | None = None, pipeline: Pipeline | None = None,
                 feeds: FeedStage | None = None) -> None:
        self.app = app
        self.topics = topics
        self.read_model = read_model
        self.service = service or ServiceMetrics()
        self.follower = _Follower()
        self.pipeline = pipeline
        self.feeds = feeds
        self._last_reading: tuple[float, int] = (time.monotonic(), 0)
        self.registry = new_registry(self.families)

    def worker_facts(self) -> WorkerFacts:
        app = self.app
        health = worker_health(app, self.read_model, self.pipeline, self.feeds)
        stages: dict[str, StageFigures] = {}
        dead_letters: list[tuple[str, str, str, int]] = []
        for name, dlq_stage, stage in self._stages():
            stages[name] = StageFigures(stage.records, stage.sent)
            dead_letters += [(dlq_stage, source, error, count)
                             for source, error, count in stage.dead_letters.items()]
        pipeline = self.pipeline
        model = self.read_model
        return WorkerFacts(
            app_id=str(app.conf.id), web_port=int(app.conf.web_port),
            ready=bool(health["ready"]), rebalancing=bool(health["rebalancing"]),
            assigned_partitions=int(health["assigned_partitions"]),
            events_per_second=self._rate(sum(s.records for s in stages.values())),
            stages=stages,
            dead_letters=tuple(dead_letters),
            parked_events=pipeline.cases.waiting_references() if pipeline else None,
            partitions=tuple(self._offsets()),
            read_model_cases=len(model.cases) if model else None,
            read_model_policies=len(model.policies) if model else None,
            read_model_caught_up=model.caught_up.is_set() if model else None,
            service_records=self.service.records_seen,
            service_records_skipped=self.service.records_skipped,
            service_caught_up=self.follower.caught_up,
            ingest_records=tuple(sorted(pipeline.ingest.records_by_source.items()))
            if pipeline else (),
            ingest_sent=tuple(sorted(pipeline.ingest.sent_by_kind.items())) if pipeline else (),
            ignored_payloads=tuple(pipeline.ingest.ignored.items()) if pipeline else (),
            case_step_batches=pipeline.cases.batches if pipeline else None,
            faust=_faust_figures(app),
            translation=_translation_figures(self.feeds),
        )

    def families(self) -> list[Metric]:
        return [*worker_metrics(self.worker_facts()), *service_metrics(self.service.groups())]

    def render(self) -> bytes:
        return render(self.registry)

    def as_json(self) -> dict[str, Any]:
        return {
            "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "worker": self.worker_facts().as_json(),
            "service": service_json(self.service),
        }

    def _stages(self) -> list[tuple[str, str, Any]]:
        """(name, dead-letter stage, stage) of the worker's batch stages: ingest (raw topics),
        case step (case.inbox), feeds (case.changes)."""
        stages: list[tuple[str, str, Any]] = []
        if self.pipeline is not None:
            stages += [("ingest", "normalize", self.pipeline.ingest),
                       ("case_step", "cases", self.pipeline.cases)]
        if self.feeds is not None:
            stages.append(("feeds", "feeds", self.feeds))
        return stages

    def _rate(self, consumed: int) -> float:
        """Records consumed per second since the previous reading (for the dashboard)."""
        now = time.monotonic()
        since, before = self._last_reading
        self._last_reading = (now, consumed)
        return (consumed - before) / (now - since) if now > since else 0.0

    def _offsets(self) -> list[PartitionOffsets]:
        """Committed offset and end offset of every partition the worker's stages read."""
        found = []
        for name, _, stage in self._stages():
            try:
                offsets = stage.offsets()
            except Exception:  # noqa: BLE001 - not started or mid-rebalance: report nothing
                log.debug("no offsets of %s yet", name, exc_info=True)
                continue
            found += [PartitionOffsets(topic, partition, committed, end, name)
                      for topic, partition, committed, end in offsets]
        return found


def _faust_figures(app: Any) -> FaustFigures | None:
    monitor = getattr(app, "monitor", None)
    if monitor is None:
        return None
    return FaustFigures(
        messages_received=int(monitor.messages_received_total),
        messages_sent=int(monitor.messages_sent),
        send_errors=int(getattr(monitor, "send_errors", 0)),
        events=int(monitor.events_total),
        events_active=int(monitor.events_active),
        assignments_completed=int(monitor.assignments_completed),
        assignments_failed=int(monitor.assignments_failed),
        rebalances=int(getattr(app, "rebalancing_count", monitor.rebalances) or 0),
    )


def _translation_figures(feeds: FeedStage | None) -> TranslationFigures | None:
    if feeds is None:
        return None
    publisher = feeds.publisher
    outcomes = [(path, outcome, count)
                for path, translator in (("stream", publisher.translator),
                                         ("retry", publisher.retry_translator))
                for outcome, count in sorted(translator.outcomes.items())]
    return TranslationFigures(
        outcomes=tuple(outcomes),
        circuit_state=publisher.translator.breaker.state,
        pending_views=len(publisher.pending),
        memory_entries=len(publisher.translator.memory),  # type: ignore[arg-type]
    )


async def follow_case_changes(
    collector: MetricsCollector, bootstrap_servers: str, topic: str, *,
    retry_seconds: float = 5.0, client_options: Mapping[str, Any] | None = None,
) -> None:
    """Feed every record of `topic` (all partitions, from the beginning) to the service
    metrics, then keep up, until cancelled. Failures restart the consumer where it was."""
    positions: dict[TopicPartition, int] = {}
    while True:
        try:
            await _follow(collector, bootstrap_servers, topic, positions, client_options or {})
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the task must not die; try again shortly
            log.exception("service metrics follower failed; retrying in %.0f s", retry_seconds)
            await asyncio.sleep(retry_seconds)


async def _follow(collector: MetricsCollector, bootstrap_servers: str, topic: str,
                  positions: dict[TopicPartition, int], options: Mapping[str, Any]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                metadata_max_age_ms=5000, **FOLLOWER_FETCH, **options)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        for tp in partitions:
            if tp in positions:
                consumer.seek(tp, positions[tp])
            else:
                await consumer.seek_to_beginning(tp)
        ends = await consumer.end_offsets(partitions)
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    collector.service.observe_bytes(record.value)
                    positions[tp] = record.offset + 1
            if not collector.follower.caught_up:
                done = [await consumer.position(tp) >= ends[tp] for tp in partitions]
                if all(done):
                    collector.follower.caught_up = True
                    log.info("service metrics caught up: %d cases", collector.service.cases)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(600):
        found = sorted(consumer.partitions_for_topic(topic) or ())
        if found:
            return [TopicPartition(topic, p) for p in found]
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic may be new
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} does not exist")


# --- Wiring ------------------------------------------------------------------------------------

def register_metrics(app: Any, settings: Settings, topics: TopicNames,
                     read_model: ReadModel | None = None,
                     pipeline: Pipeline | None = None,
                     feeds: FeedStage | None = None) -> MetricsCollector:
    """Follow `case.changes` into the service metrics and serve /metrics, /metrics.json and
    /dashboard."""
    collector = MetricsCollector(app, topics, read_model, pipeline=pipeline, feeds=feeds)

    @app.task
    async def follow_service_metrics() -> None:
        await follow_case_changes(collector, settings.bootstrap_servers, topics.case_changes,
                                  client_options=kafka_client_options(settings))

    register_metrics_view(app, collector)
    return collector


def register_metrics_view(app: Any, collector: MetricsCollector) -> None:
    """Serve the collector's figures."""

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(collector.render(), headers={"Content-Type": CONTENT_TYPE})

    @app.page("/metrics.json")
    async def metrics_json(web: Any, request: Any) -> Any:
        return web.json(collector.as_json())

    @app.page("/dashboard")
    async def dashboard(web: Any, request: Any) -> Any:
        return web.html(DASHBOARD_HTML)


DASHBOARD_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aftersales-hub dashboard</title>
<style>
 body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
 h1{font-size:1.3rem;margin:0 0 .2rem} h2{font-size:1rem;margin:0 0 .5rem}
 .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1rem}
 .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem}
 .kpis{display:flex;gap:1.5rem;flex-wrap:wrap} .kpi b{display:block;font-size:1.6rem}
 table{border-collapse:collapse;width:100%} td,th{padding:.2rem .4rem;text-align:right}
 td:first-child,th:first-child{text-align:left} tr:nth-child(even){background:#f4f4f4}
 svg text{font-size:11px} .muted{color:#777}
</style></head><body>
<h1>aftersales-hub</h1><div class="muted" id="meta">loading /metrics.json ...</div>
<div class="card" style="margin:1rem 0"><div class="kpis" id="kpis"></div></div>
<div class="grid">
 <div class="card"><h2>Cases opened per marketplace</h2><svg id="marketplaces"></svg></div>
 <div class="card"><h2>Time to first response (all cases)</h2><svg id="first_response"></svg></div>
 <div class="card"><h2>Time to resolution (all cases)</h2><svg id="resolution"></svg></div>
 <div class="card"><h2>Rates per region</h2><table id="regions"></table></div>
 <div class="card"><h2>Consumer lag per topic-partition (this worker)</h2><svg id="lag"></svg></div>
 <div class="card"><h2>Dead letters per stage (this worker)</h2><svg id="dead"></svg></div>
</div>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function bars(id, pairs, unit) {
  const svg = document.getElementById(id);
  const rowH = 20, labelW = 170, width = 400;
  svg.replaceChildren();
  svg.setAttribute("width", width);
  svg.setAttribute("height", Math.max(rowH, pairs.length * rowH) + 4);
  if (!pairs.length) { svg.appendChild(el("text", {x: 0, y: 14}, "no data yet")); return; }
  const max = Math.max(1, ...pairs.map(p => p[1]));
  pairs.forEach(([label, value], i) => {
    const y = i * rowH;
    const w = Math.max(1, (width - labelW - 60) * value / max);
    svg.appendChild(el("text", {x: 0, y: y + 14}, String(label).slice(0, 26)));
    svg.appendChild(el("rect", {x: labelW, y: y + 3, width: w, height: rowH - 6, fill: "#4a7bd0"}));
    svg.appendChild(el("text", {x: labelW + w + 4, y: y + 14}, value + (unit || "")));
  });
}
function hours(seconds) {
  if (seconds === "+Inf") return "more";
  const h = seconds / 3600;
  return h >= 24 ? "\\u2264 " + (h / 24) + " d" : "\\u2264 " + h + " h";
}
function histogram(id, figures) {
  let previous = 0;
  const pairs = figures.buckets.map(([bound, cumulative]) => {
    const count = cumulative - previous; previous = cumulative;
    return [hours(bound), count];
  });
  bars(id, pairs);
}
function pct(value) { return value === null ? "\\u2013" : (100 * value).toFixed(1) + " %"; }
function kpi(label, value) {
  const div = document.createElement("div"); div.className = "kpi";
  const b = document.createElement("b"); b.textContent = value;
  div.appendChild(b); div.appendChild(document.createTextNode(label)); return div;
}
function render(data) {
  const w = data.worker, s = data.service, t = s.totals;
  document.getElementById("meta").textContent =
    w.app_id + " on port " + w.web_port + (w.ready ? " \\u2013 ready" : " \\u2013 not ready") +
    " \\u2013 " + data.generated_at;
  const deadTotal = Object.values(w.dead_letters).reduce((a, b) => a + b, 0);
  document.getElementById("kpis").replaceChildren(
    kpi("cases opened", t.cases_opened), kpi("events/s", w.events_per_second),
    kpi("consumer lag", w.consumer_lag_total), kpi("dead letters", deadTotal),
    kpi("parked events", w.parked_events === null ? "\\u2013" : w.parked_events),
    kpi("first-contact resolution", pct(t.first_contact_resolution_rate)),
    kpi("escalation rate", pct(t.escalation_rate)), kpi("dispute rate", pct(t.dispute_rate)),
    kpi("CSAT", pct(t.csat)));
  bars("marketplaces", Object.entries(s.by_marketplace).sort((a, b) => b[1] - a[1]));
  histogram("first_response", t.first_response_seconds);
  histogram("resolution", t.resolution_seconds);
  bars("lag", w.consumer.map(p => [p.topic + "[" + p.partition + "]", p.lag === null ? 0 : p.lag]));
  bars("dead", Object.entries(w.dead_letters));
  const table = document.getElementById("regions");
  table.replaceChildren();
  const head = table.insertRow();
  for (const h of ["region", "opened", "FCR", "escalated", "disputed", "CSAT"]) {
    const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
  }
  for (const r of s.by_region) {
    const row = table.insertRow();
    for (const v of [r.region, r.cases_opened, pct(r.first_contact_resolution_rate),
                     pct(r.escalation_rate), pct(r.dispute_rate), pct(r.csat)]) {
      row.insertCell().textContent = v;
    }
  }
}
async function refresh() {
  try {
    const response = await fetch("metrics.json", {cache: "no-store"});
    render(await response.json());
  } catch (error) {
    document.getElementById("meta").textContent = "cannot read metrics.json: " + error;
  }
}
refresh();
setInterval(refresh, 5000);
</script></body></html>
"""
