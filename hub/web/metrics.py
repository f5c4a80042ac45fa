"""`GET /metrics` (Prometheus text), `GET /metrics.json` and `GET /dashboard` on every worker.

    GET /metrics        Prometheus text exposition format 0.0.4
    GET /metrics.json   the same facts as JSON (what the dashboard reads)
    GET /dashboard      one static page, charts drawn in SVG by inline JS (no CDN)

Two kinds of figures:

* The worker's own health (`hub_worker_*`, `hub_consumer_*`, `hub_dead_letters_total`, ...):
  consumer lag per topic-partition of this worker's stages (high-water mark minus the offset
  the stage committed: ingest, case step, feeds), events/s and totals (faust's monitor), dead
  letters this worker sent per stage (the stages' own counts; reset when the process
  restarts, as Prometheus counters may), references with
  events parked on this worker's partitions, and the read model's size. Sum them across workers.
* Service figures (`hub_service_*`, labels region / marketplace / reason): every worker follows
  all of `case.changes` from the beginning (like the read model, no consumer group) into a
  `streams.metrics.ServiceMetrics`, so every worker reports the same, global figures: take
  `max` across workers, not `sum`. They cover what `case.changes` still retains.

The text format is written here (no client library): `render_prometheus` escapes label values
and help text as the format requires.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

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
DLQ_STAGES = ("normalize", "cases", "feeds")
Labels = Mapping[str, str]


# --- Prometheus text format -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Sample:
    """One line of a family: the name suffix (`_bucket`, `_sum`...), labels and value."""

    suffix: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(slots=True)
class Family:
    """One metric family: name, type, help and samples."""

    name: str
    type: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float | None, labels: Labels | None = None, suffix: str = "") -> None:
        """Add a sample; a None value (an undefined ratio) is left out."""
        if value is None:
            return
        self.samples.append(Sample(suffix, tuple((labels or {}).items()), float(value)))

    def add_histogram(self, histogram: Histogram, labels: Labels) -> None:
        for bound, count in histogram.cumulative():
            self.add(count, {**labels, "le": _number(bound)}, "_bucket")
        self.add(histogram.total, labels, "_sum")
        self.add(histogram.count, labels, "_count")


def render_prometheus(families: Iterable[Family]) -> str:
    """The families in the Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
            selector = f"{{{labels}}}" if labels else ""
            lines.append(f"{family.name}{sample.suffix}{selector} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def parse_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples of a text exposition by full sample name (`x_bucket`, `x_sum`...), each with its
    labels and value: the inverse of `render_prometheus`, for tests and tools.

    Raises:
        ValueError: a line is not valid in the text format.
    """
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _SAMPLE.fullmatch(line)
        if match is None:
            raise ValueError(f"line {number} is not a sample: {line!r}")
        labels = {
            name: _unescape(value) for name, value in _LABEL.findall(match["labels"] or "")
        }
        samples.setdefault(match["name"], []).append((labels, float(match["value"])))
    return samples


_SAMPLE = re.compile(
    r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})?'
    r" (?P<value>[-+]?(?:[0-9.eE+-]+|Inf|NaN))"
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], value)


# --- The worker's own health ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    topic: str
    partition: int
    committed: int | None
    highwater: int | None

    @property
    def lag(self) -> int | None:
        if self.committed is None or self.highwater is None:
            return None
        return max(0, self.highwater - self.committed)


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """A snapshot of one worker's health, as plain values."""

    app_id: str
    web_port: int
    ready: bool
    rebalancing: bool
    assigned_partitions: int
    events_per_second: float
    events_total: int
    messages_received_total: int
    messages_sent_total: int
    dead_letters: dict[str, int]
    parked_events: int | None
    partitions: tuple[PartitionOffsets, ...]
    read_model_cases: int | None
    read_model_policies: int | None
    read_model_caught_up: bool | None
    service_records: int
    service_records_skipped: int
    service_caught_up: bool
    ignored_payloads: tuple[tuple[str, str, int], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "web_port": self.web_port,
            "ready": self.ready,
            "rebalancing": self.rebalancing,
            "assigned_partitions": self.assigned_partitions,
            "events_per_second": self.events_per_second,
            "events_total": self.events_total,
            "messages_received_total": self.messages_received_total,
            "messages_sent_total": self.messages_sent_total,
            "dead_letters": dict(self.dead_letters),
            "parked_events": self.parked_events,
            "consumer": [
                {"topic": p.topic, "partition": p.partition, "committed": p.committed,
                 "highwater": p.highwater, "lag": p.lag}
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


def worker_families(facts: WorkerFacts) -> list[Family]:
    """The worker's health as metric families."""
    up = Family("hub_worker_ready", "gauge",
                "1 when the worker is recovered, assigned and caught up")
    up.add(facts.ready)
    rebalancing = Family("hub_worker_rebalancing", "gauge", "1 while a rebalance is under way")
    rebalancing.add(facts.rebalancing)
    assigned = Family("hub_worker_assigned_partitions", "gauge",
                      "topic-partitions assigned to this worker (tables' changelogs included)")
    assigned.add(facts.assigned_partitions)
    rate = Family("hub_worker_events_per_second", "gauge",
                  "records consumed per second since the previous scrape")
    rate.add(facts.events_per_second)
    events = Family("hub_worker_events_total", "counter",
                    "records the worker's stages consumed since start")
    events.add(facts.events_total)
    received = Family("hub_worker_messages_received_total", "counter",
                      "messages consumed since start")
    received.add(facts.messages_received_total)
    sent = Family("hub_worker_messages_sent_total", "counter", "messages produced since start")
    sent.add(facts.messages_sent_total)
    dead = Family("hub_dead_letters_total", "counter",
                  "dead letters this worker sent since start, per stage (dlq.<stage>)")
    for stage, count in sorted(facts.dead_letters.items()):
        dead.add(count, {"stage": stage})
    parked = Family("hub_parked_events", "gauge",
                    "events waiting for their reference to be linked, on this worker's partitions")
    parked.add(facts.parked_events)
    lag = Family("hub_consumer_lag", "gauge",
                 "records behind: high-water mark minus committed offset, per topic-partition")
    committed = Family("hub_consumer_committed_offset", "gauge", "committed offset")
    highwater = Family("hub_consumer_highwater", "gauge", "high-water mark (log end offset)")
    for offsets in facts.partitions:
        labels = {"topic": offsets.topic, "partition": str(offsets.partition)}
        lag.add(offsets.lag, labels)
        committed.add(offsets.committed, labels)
        highwater.add(offsets.highwater, labels)
    model = Family("hub_read_model_documents", "gauge", "documents in this worker's read model")
    model.add(facts.read_model_cases, {"kind": "case"})
    model.add(facts.read_model_policies, {"kind": "policy"})
    caught_up = Family("hub_read_model_caught_up", "gauge", "1 once the read model caught up")
    caught_up.add(None if facts.read_model_caught_up is None else float(facts.read_model_caught_up))
    follower = Family("hub_service_records_total", "counter",
                      "case.changes records read into the service metrics")
    follower.add(facts.service_records)
    skipped = Family("hub_service_records_skipped_total", "counter",
                     "case.changes records the service metrics could not read")
    skipped.add(facts.service_records_skipped)
    service_caught_up = Family("hub_service_caught_up", "gauge",
                               "1 once the service metrics read case.changes to its end")
    service_caught_up.add(facts.service_caught_up)
    ignored = Family("hub_ignored_payloads_total", "counter",
                     "raw payloads a connector ignored on purpose (a type the hub does not use),"
                     " per source and kind")
    for source, kind, count in facts.ignored_payloads:
        ignored.add(count, {"source": source, "kind": kind})
    return [up, rebalancing, assigned, rate, events, received, sent, dead, ignored, parked, lag,
            committed, highwater, model, caught_up, follower, skipped, service_caught_up]


# --- Service figures --------------------------------------------------------------------------

_COUNTS = (
    ("cases_opened", "hub_service_cases_opened", "cases opened"),
    ("resolved", "hub_service_cases_resolved", "cases resolved"),
    ("first_contact_resolved", "hub_service_cases_first_contact_resolved",
     "cases resolved at first contact (one buyer request, no dispute, no SLA breach)"),
    ("escalated", "hub_service_cases_escalated", "cases with a dispute or an SLA breach"),
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


def service_families(groups: Iterable[GroupFigures]) -> list[Family]:
    """Service figures per (region, marketplace, reason) as metric families."""
    counts = {attr: Family(name, "gauge", text) for attr, name, text in _COUNTS}
    rates = {attr: Family(name, "gauge", text) for attr, name, text in _RATES}
    durations = {attr: Family(name, "histogram", text) for attr, name, text in _DURATIONS}
    for group in groups:
        labels = group.labels
        for attr, family in counts.items():
            family.add(getattr(group, attr), labels)
        for attr, family in rates.items():
            family.add(getattr(group, attr), labels)
        for attr, family in durations.items():
            family.add_histogram(getattr(group, attr), labels)
    return [*counts.values(), *rates.values(), *durations.values()]


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


# --- Collecting from a running worker ---------------------------------------------------------

@dataclass(slots=True)
class _Follower:
    caught_up: bool = False


class MetricsCollector:
    """Reads one worker's health from faust and holds the service metrics it follows."""

    def __init__(self, app: Any, topics: TopicNames, read_model: ReadModel | None,
                 service: ServiceMetrics | None = None, pipeline: Pipeline | None = None,
                 feeds: FeedStage | None = None) -> None:
        self.app = app
        self.topics = topics
        self.read_model = read_model
        self.service = service or ServiceMetrics()
        self.follower = _Follower()
        self.pipeline = pipeline
        self._last_reading: tuple[float, int] = (time.monotonic(), 0)
        self.feeds = feeds

    def worker_facts(self) -> WorkerFacts:
        app = self.app
        health = worker_health(app, self.read_model, self.pipeline, self.feeds)
        monitor = app.monitor
        sent_by_topic = monitor.messages_sent_by_topic
        dead_letters = {stage: int(sent_by_topic.get(self.topics.name(f"dlq.{stage}"), 0))
                        for stage in DLQ_STAGES}
        stages = self._stages()
        consumed = sum(stage.records for stage in stages)
        sent = sum(stage.sent for stage in stages)
        pipeline = self.pipeline
        if pipeline is not None:
            dead_letters["normalize"] += pipeline.ingest.dead_letters
            dead_letters["cases"] += pipeline.cases.dead_letters
        if self.feeds is not None:
            dead_letters["feeds"] += self.feeds.dead_letters
        model = self.read_model
        return WorkerFacts(
            app_id=str(app.conf.id), web_port=int(app.conf.web_port),
            ready=bool(health["ready"]), rebalancing=bool(health["rebalancing"]),
            assigned_partitions=int(health["assigned_partitions"]),
            events_per_second=self._rate(consumed),
            events_total=consumed,
            messages_received_total=consumed + int(monitor.messages_received_total),
            messages_sent_total=sent + int(monitor.messages_sent),
            dead_letters=dead_letters,
            parked_events=pipeline.cases.waiting_references() if pipeline else None,
            partitions=tuple(self._offsets()),
            read_model_cases=len(model.cases) if model else None,
            read_model_policies=len(model.policies) if model else None,
            read_model_caught_up=model.caught_up.is_set() if model else None,
            service_records=self.service.records_seen,
            service_records_skipped=self.service.records_skipped,
            service_caught_up=self.follower.caught_up,
            ignored_payloads=tuple(pipeline.ingest.ignored.items()) if pipeline else (),
        )

    def families(self) -> list[Family]:
        return [*worker_families(self.worker_facts()), *service_families(self.service.groups())]

    def as_json(self) -> dict[str, Any]:
        return {
            "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "worker": self.worker_facts().as_json(),
            "service": service_json(self.service),
        }

    def _stages(self) -> list[Any]:
        """The worker's stages: ingest (raw topics), case step (case.inbox), feeds
        (case.changes)."""
        stages: list[Any] = []
        if self.pipeline is not None:
            stages += [self.pipeline.ingest, self.pipeline.cases]
        if self.feeds is not None:
            stages.append(self.feeds)
        return stages

    def _rate(self, consumed: int) -> float:
        """Records consumed per second since the previous reading."""
        now = time.monotonic()
        since, before = self._last_reading
        self._last_reading = (now, consumed)
        return (consumed - before) / (now - since) if now > since else 0.0

    def _offsets(self) -> list[PartitionOffsets]:
        """Committed offset and high-water mark of every partition the worker's stages read."""
        found = []
        for stage in self._stages():
            try:
                offsets = stage.offsets()
            except Exception:  # noqa: BLE001 - not started or mid-rebalance: report nothing
                log.debug("no offsets of %s yet", type(stage).__name__, exc_info=True)
                continue
            found += [PartitionOffsets(*entry) for entry in offsets]
        return found


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


# --- Wiring -----------------------------------------------------------------------------------

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
        body = render_prometheus(collector.families())
        return web.bytes(body.encode(), headers={"Content-Type": CONTENT_TYPE})

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
