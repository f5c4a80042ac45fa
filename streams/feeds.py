"""Localized regional case feeds: every case change, rendered for each region that serves it.

    case.changes --feeds--> feed.<region>   compacted, keyed by case_id: LocalizedCaseView JSON
                      \\---> dlq.feeds       original bytes, reason in headers
    (the feeds stage, streams.feed_stage: committed reads, in batches)
    timer feed_translation_retry (every worker, its own partitions of case.changes):
                 pending translations -> feed.<region> (same case version, state translated)
    every worker: FeedHub follows ALL partitions of every feed.<region> (as the read model does):
                 latest view per (region, case_id), fan-out to live subscribers, and the
                 translation memory

The stage reads; this module renders and declares. For each change the stage hands it,
`FeedPublisher.views_for` routes the case to its regions (`translations.regions.routes_for`),
translates the reason text once per target language with a `ResilientTranslator` that makes ONE
attempt (so a slow provider costs a change at most one timeout, an open circuit nothing),
renders the `LocalizedCaseView` with the case's SLA deadline and alert (from the change's own
`policy` and from `sla.warning` / `sla.breach` records of the case step), masks personal data
(the renderer does), and gives one view per region. The stage never waits for a translation: a
pending one is published with the original text marked "translation pending" and retried by the
timer, with backoff and the shared circuit breaker, every `translation_retry_interval_seconds`
(the breaker's reset time too); the answer goes out, on the stage's producer, as an update of
the same case version.

Translation memory: the translators' memory is filled by the FeedHub from the translated views
it follows, so it is durable (the compacted feed topics), shared by every worker, and survives
restarts and rebalances; in process it is a bounded LRU. Pending retries survive restarts the
same way: the retry timer adopts the pending views of the feeds whose case partition this
worker's feeds stage owns.

A region that cannot be rendered is reported by `views_for` (the other regions are still
given); the stage dead-letters it to `dlq.feeds` with its reason and the original bytes.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter, ValidationError

from schemas.case import CASE, RETURN_SHIPMENT, Case, ReturnShipment
from schemas.errors import SkippableRecordError
from schemas.settings import Settings
from streams.kafka_clients import kafka_client_options
from streams.pipeline import run_supervised
from streams.read_model import ReadModel, follow_topics
from streams.topics import TopicNames, partition_of
from translations.glossary import primary_language
from translations.machine import (
    AUTO,
    CircuitBreaker,
    InMemoryTranslationMemory,
    MemoryKey,
    ResilientTranslator,
    TranslationResult,
    Translator,
    translator_from_settings,
)
from translations.regions import REGIONS, Region, RegionsConfig
from translations.views import AlertKind, LocalizedCaseView, SlaAlert, render_case, with_translation

if TYPE_CHECKING:
    from streams.feed_stage import FeedStage

log = logging.getLogger("streams.feeds")

STAGE_NAME = "feeds"
"""The feeds stage's consumer group is `<app_id>-feeds`."""
RETRY_TIMER_NAME = "feed_translation_retry"
DLQ_STAGE = "feeds"
SLA_EVENT_TYPES: Mapping[str, AlertKind] = {"sla.warning": "warning", "sla.breach": "breach"}
"""Event types of the SLA records on `case.changes`, and the alert each one shows."""
RETRIES_PER_TICK = 200
"""At most this many pending translations are tried per retry tick."""
MEMORY_ENTRIES = 50_000
SUBSCRIBER_QUEUE = 256
"""Updates a live subscriber may lag behind before it is dropped (it then reconnects)."""


class FeedRecordError(SkippableRecordError):
    """A `case.changes` record the feeds stage cannot read: dead-lettered with its reason."""


class ChangeRecord(BaseModel):
    """A `case.changes` record as the feeds stage reads it.

    Lenient on purpose (extra fields ignored): the case step's `CaseChangeRecord` and its
    SLA records (which may carry a `notification`) are both read.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    case_id: str
    version: int
    event_id: str = ""
    event_type: str = ""
    case: Case
    notification: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    return_shipment: ReturnShipment | None = None


CHANGE_RECORD = TypeAdapter(ChangeRecord)


class _PolicyDeadline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    due_at: AwareDatetime
    warn_at: AwareDatetime | None = None
    met_at: AwareDatetime | None = None


class _PolicyDocument(BaseModel):
    """The part of a `case.policy` assessment the feeds show (read leniently)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deadlines: list[_PolicyDeadline] = []


def decode_change(raw: bytes | None) -> ChangeRecord:
    """Read one `case.changes` record.

    Raises:
        FeedRecordError: the value is missing, not JSON, or not a case change record.
    """
    if raw is None:
        raise FeedRecordError("the record has no value", source="case.changes")
    try:
        change = CHANGE_RECORD.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        raise FeedRecordError(f"not a case change record: {where}: {first['msg']}",
                              source="case.changes") from exc
    if change.case.case_id != change.case_id:
        raise FeedRecordError(
            f"case_id {change.case_id!r} differs from the case's {change.case.case_id!r}",
            source="case.changes",
        )
    return change


def sla_highlights(
    change: ChangeRecord, policy: Mapping[str, Any] | None, now: datetime
) -> tuple[datetime | None, SlaAlert | None]:
    """The deadline to show (earliest one not met) and the SLA alert to highlight, if any.

    The alert is the SLA record's notification when the record is one (`sla.warning` /
    `sla.breach`); otherwise a deadline of the policy document that is past due (breach) or past
    its warning time (warning) at `now`. A policy document that cannot be read is ignored.
    """
    deadlines: list[_PolicyDeadline] = []
    if policy is not None:
        try:
            deadlines = _PolicyDocument.model_validate(policy).deadlines
        except ValidationError as exc:
            log.warning("unreadable policy of %s ignored: %s", change.case_id, exc.errors()[0])
    open_ones = sorted((d for d in deadlines if d.met_at is None), key=lambda d: d.due_at)
    shown = open_ones[0].due_at if open_ones else None
    kind = SLA_EVENT_TYPES.get(change.event_type)
    if kind is not None:
        return shown, _notified_alert(change, kind, open_ones, now)
    for deadline in open_ones:
        if deadline.due_at <= now:
            return shown, SlaAlert("breach", deadline.name, deadline.due_at)
    for deadline in open_ones:
        if deadline.warn_at is not None and deadline.warn_at <= now:
            return shown, SlaAlert("warning", deadline.name, deadline.due_at)
    return shown, None


def _notified_alert(
    change: ChangeRecord, kind: AlertKind, open_ones: list[_PolicyDeadline], now: datetime
) -> SlaAlert:
    """The alert of a policy record: its notification, else its id, else the policy document."""
    notification = change.notification or {}
    name, due = notification.get("deadline"), notification.get("due_at")
    if not (isinstance(name, str) and isinstance(due, str)):
        # Notification ids are `case_id:deadline:kind:due_at` (streams.policy.sla).
        parts = change.event_id.removeprefix(f"{change.case_id}:").split(":", 2)
        if len(parts) == 3 and parts[1] == kind:
            name, due = parts[0], parts[2]
    if isinstance(name, str) and isinstance(due, str):
        try:
            due_at = datetime.fromisoformat(due.replace("Z", "+00:00"))
        except ValueError:
            due_at = None
        if due_at is not None and due_at.tzinfo is not None:
            return SlaAlert(kind, name, due_at)
    if open_ones:
        return SlaAlert(kind, open_ones[0].name, open_ones[0].due_at)
    return SlaAlert(kind, "sla", now)


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """One view to publish on one region's feed."""

    region: Region
    view: LocalizedCaseView

    @property
    def key(self) -> bytes:
        return self.view.case_id.encode()

    @property
    def value(self) -> bytes:
        return self.view.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """The latest view of one case on one region's feed, as the FeedHub keeps it."""

    value: bytes
    version: int
    status: str
    updated_at: str
    pending: bool


FeedPosition = tuple[str, str]
"""A view's place in its feed: (updated_at, case_id); feeds list the greatest first."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of a feed: views most recently updated first, and the position the next page
    starts after (None: this is the last page)."""

    views: list[bytes]
    next: FeedPosition | None


class Subscription:
    """A live subscriber's bounded queue of view updates (JSON bytes); None means it ended."""

    def __init__(self, hub: FeedHub, region: str, maxsize: int) -> None:
        self.region = region
        self.dropped = False
        self._hub = hub
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize + 1)
        self._maxsize = maxsize
        self._ended = False

    def offer(self, value: bytes) -> None:
        """Queue an update; a subscriber that lags `maxsize` updates behind is dropped."""
        if self._ended:
            return
        if self._queue.qsize() >= self._maxsize:
            self.dropped = True
            log.warning("slow feed subscriber on %s dropped", self.region)
            self.end()
            return
        self._queue.put_nowait(value)

    def end(self) -> None:
        """End the subscription: what is still queued is discarded, the reader gets None."""
        if self._ended:
            return
        self._ended = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        self._hub._unsubscribe(self)  # noqa: SLF001 - the hub's own bookkeeping

    async def get(self, timeout: float) -> bytes | None:
        """The next update; None when the subscription ended.

        Raises:
            TimeoutError: nothing arrived within `timeout` seconds.
        """
        return await asyncio.wait_for(self._queue.get(), timeout)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.end()


class FeedHub:
    """Latest view per (region, case_id) of every feed topic, with live subscribers.

    Fed by `follow_feeds` on every worker; versions never go back (a replayed older view is
    ignored, the same version replaces: a translation arriving later). Translated views teach
    the translation memory.
    """

    def __init__(
        self,
        topics: Mapping[str, str],
        *,
        memory: InMemoryTranslationMemory | None = None,
        queue_size: int = SUBSCRIBER_QUEUE,
    ) -> None:
        self.topics = dict(topics)
        """region code -> feed topic name"""
        self.memory = memory if memory is not None else InMemoryTranslationMemory(MEMORY_ENTRIES)
        self.caught_up = asyncio.Event()
        self._regions_by_topic = {topic: region for region, topic in self.topics.items()}
        self._views: dict[str, dict[str, FeedEntry]] = {region: {} for region in self.topics}
        self._subscribers: dict[str, set[Subscription]] = {region: set() for region in self.topics}
        self._queue_size = queue_size

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """Take one record of a feed topic (a tombstone removes the case)."""
        region = self._regions_by_topic.get(topic)
        if region is None or key is None:
            return
        case_id = key.decode()
        views = self._views[region]
        if value is None:
            if views.pop(case_id, None) is not None:
                self._publish(region, json.dumps({"case_id": case_id, "removed": True}).encode())
            return
        try:
            document = json.loads(value)
            entry = FeedEntry(
                value=value, version=int(document["version"]), status=str(document["status"]),
                updated_at=str((document.get("updated") or {}).get("utc") or ""),
                pending=(document.get("reason") or {}).get("state") == "pending",
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("unreadable view of %s on %s skipped", case_id, topic)
            return
        previous = views.get(case_id)
        if previous is not None and previous.version > entry.version:
            return  # an older version replayed after a rebalance: keep the newer one
        views[case_id] = entry
        self._learn(document)
        self._publish(region, value)

    def _learn(self, document: dict[str, Any]) -> None:
        reason = document.get("reason") or {}
        target = primary_language(document.get("locale"))
        if reason.get("state") == "translated" and reason.get("translated") and target:
            key = MemoryKey.of(reason["original"], reason.get("language") or AUTO, target)
            self.memory.put(key, reason["translated"])

    def _publish(self, region: str, value: bytes) -> None:
        for subscription in list(self._subscribers[region]):
            subscription.offer(value)

    def views(self, region: str, *, status: str | None = None) -> list[bytes]:
        """The latest views of a region's feed, most recently updated first."""
        return self.page(region, status=status).views

    def page(
        self,
        region: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        after: FeedPosition | None = None,
    ) -> FeedPage:
        """At most `limit` latest views of a region's feed, most recently updated first,
        starting after the position `after` (a previous page's `next`)."""
        found = [((entry.updated_at, case_id), entry.value)
                 for case_id, entry in self._views.get(region, {}).items()
                 if (status is None or entry.status == status)
                 and (after is None or (entry.updated_at, case_id) < after)]
        if limit is not None and len(found) > limit:
            # The newest `limit` of a large feed, without sorting all of it.
            found = heapq.nlargest(limit, found, key=lambda item: item[0])
            return FeedPage([value for _, value in found], found[-1][0])
        found.sort(key=lambda item: item[0], reverse=True)
        return FeedPage([value for _, value in found], None)

    def latest(self, region: str, case_id: str) -> FeedEntry | None:
        """The latest view of a case on a region's feed."""
        return self._views.get(region, {}).get(case_id)

    def pending(self) -> Iterable[tuple[str, str, FeedEntry]]:
        """(region, case_id, entry) of every view whose translation is pending."""
        for region, views in self._views.items():
            for case_id, entry in views.items():
                if entry.pending:
                    yield region, case_id, entry

    def subscribe(self, region: str) -> Subscription:
        """A new live subscription to a region's updates (use it as a context manager)."""
        subscription = Subscription(self, region, self._queue_size)
        self._subscribers[region].add(subscription)
        return subscription

    def subscriber_count(self, region: str) -> int:
        return len(self._subscribers.get(region, ()))

    def _unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.get(subscription.region, set()).discard(subscription)

    def close(self) -> None:
        """End every subscription (the web server is shutting down)."""
        for subscriptions in self._subscribers.values():
            for subscription in list(subscriptions):
                subscription.end()


async def follow_feeds(
    hub: FeedHub, bootstrap_servers: str, *, client_options: Mapping[str, Any] | None = None
) -> None:
    """Read every feed topic from the beginning, then keep up with them, until cancelled."""
    await follow_topics(hub, list(hub.topics.values()), bootstrap_servers, what="feeds",
                        client_options=client_options)


Key = tuple[str, str]
"""(region code, case_id)"""

_ERASED = 2**62
"""The settled version of an erased case's views: newer than any view, so none is adopted."""


class FeedPublisher:
    """Renders the views of case changes and the updates of pending translations; no Kafka.

    `translator` serves the stream (one attempt), `retry_translator` the retry timer (bounded
    retries with backoff); both share memory and circuit breaker.
    """

    def __init__(
        self,
        *,
        translator: ResilientTranslator,
        retry_translator: ResilientTranslator,
        read_model: ReadModel,
        hub: FeedHub,
        regions: RegionsConfig = REGIONS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.translator = translator
        self.retry_translator = retry_translator
        self.read_model = read_model
        self.hub = hub
        self.regions = regions
        self.clock = clock
        self.pending: dict[Key, LocalizedCaseView] = {}
        """Views published with a pending translation, to retry (this worker's cases)."""
        self._settled: dict[Key, int] = {}
        # case version of keys whose pending view this worker replaced, while the feed still
        # shows the pending one (the update is on its way back through the broker)

    async def views_for(self, change: ChangeRecord) -> tuple[list[FeedUpdate], list[str]]:
        """The views of a case change for every region it routes to, and per-region failures."""
        case = self._newest(change)
        now = self.clock()
        # A change carries its policy and parcel (the case step publishes them together);
        # records written before it did fall back to the read model.
        policy = change.policy if change.policy is not None else self.read_model.policy(
            case.case_id)
        deadline, alert = sla_highlights(change, policy, now)
        shipment = change.return_shipment or self._return_shipment(case)
        regions = self.regions.routes_for(case)
        translations = await self._translate(case, {region.language for region in regions})
        updates: list[FeedUpdate] = []
        failures: list[str] = []
        for region in regions:
            try:
                view = render_case(case, region, now=now,
                                   translation=translations.get(region.language),
                                   return_shipment=shipment, deadline=deadline, alert=alert)
            except Exception as exc:  # noqa: BLE001 - one region's failure spares the others
                log.exception("cannot render %s for %s", case.case_id, region.code)
                failures.append(f"{region.code}: {type(exc).__name__}: {exc}")
                continue
            self._track(region.code, view)
            updates.append(FeedUpdate(region, view))
        return updates, failures

    def _newest(self, change: ChangeRecord) -> Case:
        """The record's case; for an SLA record, the read model's if it is newer."""
        if change.event_type not in SLA_EVENT_TYPES:
            return change.case
        stored = self.read_model.case(change.case_id)
        if stored is not None and stored.get("version", 0) > change.case.version:
            try:
                return CASE.validate_python(stored)
            except ValidationError:
                log.warning("unreadable case %s in the read model", change.case_id)
        return change.case

    def _return_shipment(self, case: Case) -> ReturnShipment | None:
        if not case.return_tracking_numbers:
            return None
        document = self.read_model.shipment(case.return_tracking_numbers[-1])
        if not document or not document.get("return_shipping"):
            return None
        try:
            return RETURN_SHIPMENT.validate_python(document["return_shipping"])
        except ValidationError:
            return None

    async def _translate(self, case: Case, languages: set[str]) -> dict[str, TranslationResult]:
        if not case.reason_text:
            return {}
        text = case.reason_text
        ordered = sorted(languages)
        calls = [self.translator.translate(text, source=case.reason_language, target=language)
                 for language in ordered]
        results: list[TranslationResult | BaseException]
        if len(calls) == 1:
            # Most cases route to one language: awaited directly, it costs no task and no extra
            # turn of the event loop, which gather takes even when the memory answers at once.
            try:
                results = [await calls[0]]
            except Exception as exc:  # noqa: BLE001 - treated below like gather's results
                results = [exc]
        else:
            results = await asyncio.gather(*calls, return_exceptions=True)
        found: dict[str, TranslationResult] = {}
        for language, result in zip(ordered, results, strict=True):
            if isinstance(result, TranslationResult):
                found[language] = result
            elif isinstance(result, Exception):
                # Never expected (the translator maps its errors); shown as pending.
                log.error("translator raised for %s: %r", case.case_id, result)
        return found

    def _track(self, region: str, view: LocalizedCaseView) -> None:
        key = (region, view.case_id)
        if view.reason is not None and view.reason.state == "pending":
            self.pending[key] = view
            self._settled.pop(key, None)
        else:
            self.pending.pop(key, None)
            self._settled[key] = view.version

    def forget(self, case_id: str) -> None:
        """Drop an erased case's pending translations, so no retry publishes its view again
        (and no view still on a feed is adopted while its tombstone is on the way)."""
        for region in self.regions.regions:
            key = (region.code, case_id)
            self.pending.pop(key, None)
            self._settled[key] = _ERASED

    async def retry_pending(
        self, owns: Callable[[str], bool], *, limit: int = RETRIES_PER_TICK
    ) -> list[FeedUpdate]:
        """Try the pending translations of the cases this worker owns again.

        Returns the updated views of those the provider answered; each keeps its case version
        and everything else it was rendered with. Stops early while the circuit is open.
        """
        self._adopt(owns)
        updates: list[FeedUpdate] = []
        for key, view in list(self.pending.items())[:limit]:
            region_code, case_id = key
            latest = self.hub.latest(region_code, case_id)
            if not owns(case_id) or (latest is not None and latest.version > view.version):
                self.pending.pop(key, None)  # moved to another worker, or superseded
                continue
            if self.retry_translator.breaker.state == "open":
                break
            region = self.regions.region(region_code)
            assert view.reason is not None
            result = await self.retry_translator.translate(
                view.reason.original, source=view.reason.language, target=region.language
            )
            if result.state == "pending" or self.pending.get(key) is not view:
                continue  # still down, or the stream published a newer view meanwhile
            updated = with_translation(view, result, region)
            self._track(region_code, updated)
            updates.append(FeedUpdate(region, updated))
        return updates

    def _adopt(self, owns: Callable[[str], bool]) -> None:
        """Take over pending views of owned cases found on the feeds (after a restart or a
        rebalance); forget settled keys the feeds no longer show as pending."""
        still_pending: set[Key] = set()
        for region, case_id, entry in self.hub.pending():
            key = (region, case_id)
            still_pending.add(key)
            if key in self.pending or self._settled.get(key, -1) >= entry.version:
                continue
            if not owns(case_id):
                continue
            try:
                self.pending[key] = LocalizedCaseView.model_validate_json(entry.value)
            except ValidationError:
                log.warning("unreadable pending view of %s on %s", case_id, region)
        for key in [key for key in self._settled if key not in still_pending]:
            del self._settled[key]


def build_translators(
    settings: Settings,
    memory: InMemoryTranslationMemory,
    *,
    provider: Translator | None = None,
    breaker: CircuitBreaker | None = None,
) -> tuple[ResilientTranslator, ResilientTranslator]:
    """The stream's translator (one attempt) and the retry timer's (bounded retries), sharing
    memory and a circuit breaker that half-opens once per retry interval. `provider` and
    `breaker` replace the configured ones (tests).

    Raises:
        ConfigurationError: the provider lacks its URL or key.
    """
    if provider is None:
        provider = translator_from_settings(settings)
    if breaker is None:
        breaker = CircuitBreaker(reset_timeout=settings.translation_retry_interval_seconds)
    timeout = settings.translation_timeout_seconds
    inline = ResilientTranslator(provider, memory=memory, breaker=breaker, timeout=timeout,
                                 retries=0)
    retrying = ResilientTranslator(provider, memory=memory, breaker=breaker, timeout=timeout)
    return inline, retrying


@dataclass(frozen=True, slots=True)
class Feeds:
    """What `register_feeds` declared: the FeedHub the web views serve from, the publisher,
    one run of the retry timer's body (tests call it with their own `owns`), and the stage
    (its counters and readiness)."""

    hub: FeedHub
    publisher: FeedPublisher
    retry_once: Callable[[Callable[[str], bool] | None], Awaitable[int]]
    stage: FeedStage


def register_feeds(
    app: Any,
    settings: Settings,
    topics: TopicNames,
    read_model: ReadModel,
    *,
    regions: RegionsConfig = REGIONS,
    provider: Translator | None = None,
    breaker: CircuitBreaker | None = None,
) -> Feeds:
    """Declare the feeds stage, its translation retry timer and the feed follower on `app`.

    Pass `feeds.hub` of the result to `hub.web.feeds.register_feed_views`. `provider` and
    `breaker` replace the configured translation provider and circuit breaker (tests).

    Raises:
        ConfigurationError: the translation provider lacks its URL or key.
    """
    # Imported here: the stage renders with this module's publisher (a cycle at import time).
    from streams.feed_stage import FeedStage, FeedStageConfig

    feed_hub = FeedHub({region.code: topics.feed(region.code) for region in regions.regions})
    inline, retrying = build_translators(settings, feed_hub.memory, provider=provider,
                                         breaker=breaker)
    publisher = FeedPublisher(translator=inline, retry_translator=retrying,
                              read_model=read_model, hub=feed_hub, regions=regions)
    stage = FeedStage(
        FeedStageConfig(settings.bootstrap_servers, f"{settings.app_id}-{STAGE_NAME}",
                        batch_max_records=settings.batch_max_records,
                        client_options=kafka_client_options(settings)),
        topics, publisher,
    )

    async def retry_once(owns: Callable[[str], bool] | None = None) -> int:
        if owns is None:
            owned = stage.owned_partitions()

            def owns(case_id: str) -> bool:
                return partition_of(case_id.encode(), settings.partitions) in owned

        updates = await publisher.retry_pending(owns)
        await stage.publish(updates)
        if updates:
            log.info("published %d translations that were pending", len(updates))
        return len(updates)

    async def retry_translations() -> None:
        try:
            await retry_once()
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("pending translations could not be retried")

    async def feeds_stage() -> None:
        await run_supervised(app, "feeds stage", stage.run)

    async def follow_feed_topics() -> None:
        await follow_feeds(feed_hub, settings.bootstrap_servers,
                           client_options=kafka_client_options(settings))

    # faust's decorators are untyped: applied as calls, so the functions keep their types.
    app.task(feeds_stage)
    app.timer(interval=settings.translation_retry_interval_seconds,
              name=RETRY_TIMER_NAME)(retry_translations)
    app.task(follow_feed_topics)
    return Feeds(hub=feed_hub, publisher=publisher, retry_once=retry_once, stage=stage)


__all__ = [
    "STAGE_NAME",
    "ChangeRecord",
    "FeedHub",
    "FeedPage",
    "FeedPosition",
    "FeedPublisher",
    "FeedRecordError",
    "FeedUpdate",
    "Feeds",
    "Subscription",
    "decode_change",
    "follow_feeds",
    "register_feeds",
    "sla_highlights",
]
