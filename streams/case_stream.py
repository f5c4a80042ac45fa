"""Faust wiring of the case stream: router, resolver and case builder agents, and their tables.

    events.canonical --route--> events.by_case (keyed by case_id)
                         \\---> case.references (keyed by reference: links, waiting events)
    case.references --resolve--> events.by_case, case.references (links learnt on release),
                                  dlq.cases (events whose reference never got linked)
    events.by_case --build_cases--> cases (compacted), case.changes, shipments (compacted)

The case builder applies one event per change, iterating event by event: faust's batching
iterator (`Stream.take_events`) coalesced a case's events into one change and cut the work
downstream, but left workers stalled with events unapplied in the benchmark (two workers
sharing partitions, and one saturated worker), so it is not used.

Agents are thin: decode, call the pure functions of `streams.correlation` / `streams.cases`,
send. Delivery is at-least-once: faust flushes the producer before committing input offsets,
and every state change is idempotent. When a worker dies after its local store took a change
but before the change's sends reached the broker, the replayed input is a duplicate, and the
agent sends the same records again (the case builder rebuilds the change with
`replay_change`, the resolver keeps short-lived outboxes). No exception leaves an agent: a
record that cannot be handled goes to `dlq.cases` with its reason.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.partitioner import murmur2
from pydantic import BaseModel, ConfigDict, Field

from hub.recent import RecentMap
from hub.settings import Settings
from schemas.case import CASE, Case, CustomsState, ReturnShipment
from schemas.events import CANONICAL_EVENT, CanonicalEvent
from streams.cases import (
    CASE_LEDGER,
    CaseChange,
    CaseLedger,
    ReasonClassifier,
    apply_event,
    fold_case,
    replay_change,
)
from streams.correlation import (
    REFERENCE_MESSAGE,
    REFERENCE_STATE,
    LinkMessage,
    PendingMessage,
    ReferenceState,
    TickMessage,
    expire,
    expiry_reason,
    resolve,
    route,
)
from streams.dead_letters import DeadLetter, as_header_pairs
from streams.topics import TopicNames

log = logging.getLogger("streams.cases")

TICK_KEY = b"\x00tick"
HOT_CASES_KEPT = 2_000
LINKS_REMEMBERED = 100_000
# How long released and expired events stay in the resolver's outbox (well beyond a commit).
OUTBOX_KEEP = timedelta(seconds=60)
_SHIPPING_TYPES = frozenset(
    {
        "shipment.update",
        "customs.update",
        "return.label_created",
        "return.closed",
        "refund.succeeded",
    }
)


class CaseChangeRecord(BaseModel):
    """One record of `case.changes`: which event changed which fields, and the case after it.

    A replayed change (after a crash) is published again byte for byte: consumers keep the
    first record per (case_id, version).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    version: int
    event_id: str = Field(description="the last event the change applied")
    event_type: str = Field(description="the type of `event_id`")
    event_ids: list[str] = Field(
        default_factory=list,
        description="every event the change applied, in the order applied (today one: the "
        "case builder applies event by event)",
    )
    changed_fields: list[str]
    case: Case


class ShipmentRecord(BaseModel):
    """One record of `shipments`: a return parcel's shipping and customs state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tracking_number: str
    case_id: str
    return_shipping: ReturnShipment | None = None
    customs: list[CustomsState] = []


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives `key` (murmur2, as in the Java client)."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


async def tick_every_partition(topic: Any, key: bytes, value: bytes, partitions: int) -> None:
    """A leader timer's tick, sent to each partition of `topic` so that each partition's owner
    acts on its own part of a table. A failed tick is logged; the next one tries again."""
    try:
        for partition in range(partitions):
            await topic.send(key=key, value=value, partition=partition)
    except Exception:  # noqa: BLE001 - the timer must not die
        log.exception("could not send ticks to %s", topic.get_topic_name())


def register_case_stream(
    app: Any,
    settings: Settings,
    topics: TopicNames,
    *,
    classify_reason: ReasonClassifier | None = None,
) -> None:
    """Declare the case stream's topics, tables, agents and the parked-event expiry timer."""

    def raw_topic(name: str) -> Any:
        return app.topic(
            name, value_serializer="raw", key_serializer="raw", partitions=settings.partitions
        )

    canonical = raw_topic(topics.events_canonical)
    references = raw_topic(topics.case_references)
    by_case = raw_topic(topics.events_by_case)
    cases_out = raw_topic(topics.cases)
    changes_out = raw_topic(topics.case_changes)
    shipments_out = raw_topic(topics.shipments)
    policy_clock_out = raw_topic(topics.policy_clock)
    dead_letters = raw_topic(topics.dlq_cases)

    links_table = app.Table(
        "reference_links",
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        help="reference -> case_id it belongs to",
    )
    parked_table = app.Table(
        "parked_events",
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        help="reference -> events waiting for it to be linked",
    )
    ledgers = app.Table(
        "case_ledgers",
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        help="case_id -> every event applied to the case",
    )
    return_shipping = app.Table(
        "return_shipping",
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        help="tracking number -> return parcel state and history",
    )
    customs_table = app.Table(
        "customs_state",
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        help="tracking number|direction -> customs state and history",
    )
    ttl = timedelta(seconds=settings.parked_event_ttl_seconds)

    async def dead_letter(event: Any, reason: str, error: str, source: str) -> None:
        message = event.message
        letter = DeadLetter(
            stage="cases",
            source=source,
            reason=reason,
            error=error,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            failed_at=datetime.now(UTC),
            key=message.key,
            value=message.value,
            original_headers=as_header_pairs(message.headers),
        )
        log.warning(
            "dead letter from %s[%d]@%d: %s",
            message.topic,
            message.partition,
            message.offset,
            reason,
        )
        await dead_letters.send(key=letter.key, value=letter.value, headers=letter.headers())

    async def send_to_case(case_id: str, event: CanonicalEvent) -> None:
        await by_case.send(key=case_id.encode(), value=CANONICAL_EVENT.dump_json(event))

    async def send_link(link: LinkMessage) -> None:
        await references.send(key=link.reference.encode(), value=REFERENCE_MESSAGE.dump_json(link))

    # Links this worker's router has sent (reference -> case id): most events of a case repeat
    # the same references, and the resolver needs each link once. A link forgotten here (a
    # restart, a rebalance, eviction) is just sent again; the resolver ignores a known link.
    links_sent: RecentMap[str, str] = RecentMap(LINKS_REMEMBERED)

    @app.agent(canonical, name="route")
    async def route_events(stream: Any) -> None:
        async for event in stream.events():
            try:
                canonical_event = CANONICAL_EVENT.validate_json(event.message.value)
                routed = route(canonical_event)
                if routed.case_id is not None:
                    # The canonical bytes as they are: re-serializing the event gives the same.
                    await by_case.send(key=routed.case_id.encode(), value=event.message.value)
                    for link in routed.links:
                        if links_sent.get(link.reference) == link.case_id:
                            continue
                        await send_link(link)
                        links_sent.put(link.reference, link.case_id)
                elif routed.pending is not None:
                    await references.send(
                        key=routed.pending.reference.encode(),
                        value=REFERENCE_MESSAGE.dump_json(routed.pending),
                    )
            except Exception as exc:  # noqa: BLE001 - route every failure, never lose a record
                await dead_letter(event, f"cannot route: {exc}", type(exc).__name__, "canonical")

    @app.agent(references, name="resolve")
    async def resolve_references(stream: Any) -> None:
        async for event in stream.events():
            try:
                message = REFERENCE_MESSAGE.validate_json(event.message.value)
                if isinstance(message, TickMessage):
                    await _expire_partition(event.message.partition, message.now)
                else:
                    await _resolve(event.message.key, message)
            except Exception as exc:  # noqa: BLE001
                await dead_letter(event, f"cannot resolve: {exc}", type(exc).__name__, "references")

    async def _resolve(key: bytes, message: LinkMessage | PendingMessage) -> None:
        link = links_table.get(key)
        stored = parked_table.get(key)
        outbox = REFERENCE_STATE.validate_json(stored) if stored else ReferenceState()
        state = outbox.model_copy(update={"case_id": link.decode() if link else None})
        resolution = resolve(state, message, now=datetime.now(UTC))
        for case_id, waiting in resolution.to_cases:
            await send_to_case(case_id, waiting)
        for new_link in resolution.links:
            await send_link(new_link)
        if resolution.state is not None:
            _store_reference(key, link, resolution.state)

    def _store_reference(key: bytes, link: bytes | None, state: ReferenceState) -> None:
        if state.case_id is not None and link is None:
            links_table[key] = state.case_id.encode()
        if state.empty:
            if parked_table.get(key) is not None:
                parked_table.pop(key, None)
        else:
            parked_table[key] = REFERENCE_STATE.dump_json(
                state.model_copy(update={"case_id": None})
            )

    async def _expire_partition(partition: int, tick: datetime) -> None:
        for key, value in list(parked_table.items()):
            if partition_of(key, settings.partitions) != partition:
                continue
            resolution = expire(
                REFERENCE_STATE.validate_json(value), tick=tick, ttl=ttl, keep_outbox=OUTBOX_KEEP
            )
            for parked in resolution.expired:
                reason = expiry_reason(parked, key.decode(), ttl)
                letter = DeadLetter(
                    stage="cases",
                    source=parked.event.source,
                    reason=reason,
                    # Replay sends it back through routing, where a link may exist by then.
                    error="ParkedEventExpired",
                    topic=topics.events_canonical,
                    partition=partition,
                    offset=-1,
                    failed_at=tick,
                    key=key,
                    value=CANONICAL_EVENT.dump_json(parked.event),
                )
                log.warning("parked event %s expired: %s", parked.event.event_id, reason)
                await dead_letters.send(
                    key=letter.key, value=letter.value, headers=letter.headers()
                )
            if resolution.state is not None:
                _store_reference(key, links_table.get(key), resolution.state)

    @app.timer(
        interval=settings.parked_check_interval_seconds, on_leader=True, name="parked_event_expiry"
    )
    async def tick_partitions() -> None:
        value = REFERENCE_MESSAGE.dump_json(TickMessage(now=datetime.now(UTC)))
        await tick_every_partition(references, TICK_KEY, value, settings.partitions)

    # The cases built last, as (ledger bytes stored, ledger, Case): the next event of a hot case
    # (a carrier's scans arrive together) skips parsing the ledger and folding it again. Valid
    # only while the table still holds exactly those bytes.
    hot_cases: RecentMap[str, tuple[bytes, CaseLedger, Case | None]] = RecentMap(HOT_CASES_KEPT)

    @app.agent(by_case, name="build_cases")
    async def build_cases(stream: Any) -> None:
        async for event in stream.events():
            try:
                canonical_event = CANONICAL_EVENT.validate_json(event.message.value)
                await _build(event.message.key, canonical_event)
            except Exception as exc:  # noqa: BLE001
                log.exception(
                    "case builder failed on %s[%d]@%d",
                    event.message.topic,
                    event.message.partition,
                    event.message.offset,
                )
                await dead_letter(
                    event, f"cannot apply to case: {exc}", type(exc).__name__, "cases"
                )

    async def _build(key: bytes, event: CanonicalEvent) -> None:
        case_id = key.decode()
        stored = ledgers.get(key)
        ledger: CaseLedger | None = None
        previous: Case | None = None
        if stored:
            hot = hot_cases.get(case_id)
            if hot is not None and hot[0] == stored:
                _, ledger, previous = hot
            else:
                ledger = CASE_LEDGER.validate_json(stored)
                previous = fold_case(ledger, classify_reason=classify_reason)
            if ledger.has(event.event_id):
                # A duplicate: send again what applying it sent (a crash may have lost that
                # after the state was stored); `cases` gets the latest case, never an older one.
                replayed = replay_change(ledger, event.event_id, classify_reason=classify_reason)
                await _publish(replayed, latest=None)
                await _publish_latest(previous)
                # The same state again: the changelog holds it even if a crash lost the first
                # changelog write after the local store had it.
                ledgers[key] = stored
                return
        change = apply_event(
            ledger, event, case_id=case_id, previous=previous, classify_reason=classify_reason
        )
        if change is None:
            return
        await _publish(change, latest=change.case)
        written = CASE_LEDGER.dump_json(change.ledger)
        ledgers[key] = written
        hot_cases.put(case_id, (written, change.ledger, change.case))

    async def _publish_latest(latest: Case | None) -> None:
        if latest is not None:
            snapshot = CASE.dump_json(latest)
            await cases_out.send(key=latest.case_id.encode(), value=snapshot)
            await policy_clock_out.send(key=latest.case_id.encode(), value=snapshot)

    async def _publish(change: CaseChange, *, latest: Case | None) -> None:
        await _publish_latest(latest)
        cause = change.events[-1]
        if change.case is not None:
            record = CaseChangeRecord(
                case_id=change.case.case_id,
                version=change.case.version,
                event_id=cause.event_id,
                event_type=cause.type,
                event_ids=[event.event_id for event in change.events],
                changed_fields=change.changed_fields,
                case=change.case,
            )
            await changes_out.send(
                key=change.case.case_id.encode(), value=record.model_dump_json().encode()
            )
        if not any(event.type in _SHIPPING_TYPES for event in change.events):
            return
        for shipment_record in _shipment_records(change):
            if shipment_record.return_shipping is not None:
                return_shipping[shipment_record.tracking_number.encode()] = (
                    shipment_record.return_shipping.model_dump_json().encode()
                )
            for customs in shipment_record.customs:
                customs_table[f"{customs.tracking_number}|{customs.direction}".encode()] = (
                    customs.model_dump_json().encode()
                )
            await shipments_out.send(
                key=shipment_record.tracking_number.encode(),
                value=shipment_record.model_dump_json().encode(),
            )


def _shipment_records(change: CaseChange) -> list[ShipmentRecord]:
    numbers = {s.tracking_number for s in change.shipments} | {
        c.tracking_number for c in change.customs
    }
    records = []
    for number in sorted(numbers):
        records.append(
            ShipmentRecord(
                tracking_number=number,
                case_id=change.ledger.case_id,
                return_shipping=next(
                    (s for s in change.shipments if s.tracking_number == number), None
                ),
                customs=[c for c in change.customs if c.tracking_number == number],
            )
        )
    return records


__all__ = [
    "register_case_stream",
    "partition_of",
    "tick_every_partition",
    "CaseChangeRecord",
    "ShipmentRecord",
    "json",
]
