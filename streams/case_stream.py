"""Faust wiring of the case stream: router, resolver and case builder agents, and their tables.

    events.canonical --route--> events.by_case (keyed by case_id)
                         \\---> case.references (keyed by reference: links, waiting events)
    case.references --resolve--> events.by_case, case.references (links learnt on release),
                                  dlq.cases (events whose reference never got linked)
    events.by_case --build_cases--> cases (compacted), case.changes, shipments (compacted)

Agents are thin: decode, call the pure functions of `streams.correlation` / `streams.cases`,
send, and await the broker's acks before the input is acked. No exception leaves an agent: a
record that cannot be handled goes to `dlq.cases` with its reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.partitioner import murmur2
from pydantic import BaseModel, ConfigDict

from hub.settings import Settings
from schemas.case import CASE, Case, CustomsState, ReturnShipment
from schemas.events import CANONICAL_EVENT, CanonicalEvent
from streams.cases import CASE_LEDGER, CaseChange, ReasonClassifier, apply_event
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
_SHIPPING_TYPES = frozenset({
    "shipment.update", "customs.update", "return.label_created", "return.closed",
    "refund.succeeded",
})


class CaseChangeRecord(BaseModel):
    """One record of `case.changes`: which event changed which fields, and the case after it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    version: int
    event_id: str
    event_type: str
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
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def register_case_stream(
    app: Any,
    settings: Settings,
    topics: TopicNames,
    *,
    classify_reason: ReasonClassifier | None = None,
) -> None:
    """Declare the case stream's topics, tables, agents and the parked-event expiry timer."""

    def raw_topic(name: str) -> Any:
        return app.topic(name, value_serializer="raw", key_serializer="raw",
                         partitions=settings.partitions)

    canonical = raw_topic(topics.events_canonical)
    references = raw_topic(topics.case_references)
    by_case = raw_topic(topics.events_by_case)
    cases_out = raw_topic(topics.cases)
    changes_out = raw_topic(topics.case_changes)
    shipments_out = raw_topic(topics.shipments)
    dead_letters = raw_topic(topics.dlq_cases)

    links_table = app.Table(
        "reference_links", partitions=settings.partitions, key_type=bytes, value_type=bytes, help="reference -> case_id it belongs to",
    )
    parked_table = app.Table(
        "parked_events", partitions=settings.partitions, key_type=bytes, value_type=bytes, help="reference -> events waiting for it to be linked",
    )
    ledgers = app.Table(
        "case_ledgers", partitions=settings.partitions, key_type=bytes, value_type=bytes, help="case_id -> every event applied to the case",
    )
    return_shipping = app.Table(
        "return_shipping", partitions=settings.partitions, key_type=bytes, value_type=bytes, help="tracking number -> return parcel state and history",
    )
    customs_table = app.Table(
        "customs_state", partitions=settings.partitions, key_type=bytes, value_type=bytes, help="tracking number|direction -> customs state and history",
    )
    ttl = timedelta(seconds=settings.parked_event_ttl_seconds)

    async def dead_letter(event: Any, reason: str, error: str, source: str) -> Awaitable[Any]:
        message = event.message
        letter = DeadLetter(
            stage="cases", source=source, reason=reason, error=error, topic=message.topic,
            partition=message.partition, offset=message.offset, failed_at=datetime.now(UTC),
            key=message.key, value=message.value, original_headers=as_header_pairs(message.headers),
        )
        log.warning("dead letter from %s[%d]@%d: %s", message.topic, message.partition,
                    message.offset, reason)
        return await dead_letters.send(key=letter.key, value=letter.value, headers=letter.headers())

    async def send_to_case(case_id: str, event: CanonicalEvent) -> Awaitable[Any]:
        return await by_case.send(key=case_id.encode(), value=CANONICAL_EVENT.dump_json(event))

    async def send_link(link: LinkMessage) -> Awaitable[Any]:
        return await references.send(
            key=link.reference.encode(), value=REFERENCE_MESSAGE.dump_json(link)
        )

    @app.agent(canonical, name="route")  # type: ignore[misc]
    async def route_events(stream: Any) -> None:
        async for event in stream.events():
            pending: list[Awaitable[Any]] = []
            try:
                canonical_event = CANONICAL_EVENT.validate_json(event.message.value)
                routed = route(canonical_event)
                if routed.case_id is not None:
                    pending.append(await send_to_case(routed.case_id, canonical_event))
                    pending += [await send_link(link) for link in routed.links]
                elif routed.pending is not None:
                    pending.append(await references.send(
                        key=routed.pending.reference.encode(),
                        value=REFERENCE_MESSAGE.dump_json(routed.pending),
                    ))
            except Exception as exc:  # noqa: BLE001 - route every failure, never lose a record
                pending.append(await dead_letter(event, f"cannot route: {exc}", type(exc).__name__,
                                                 "canonical"))
            await asyncio.gather(*pending)

    @app.agent(references, name="resolve")  # type: ignore[misc]
    async def resolve_references(stream: Any) -> None:
        async for event in stream.events():
            pending: list[Awaitable[Any]] = []
            try:
                message = REFERENCE_MESSAGE.validate_json(event.message.value)
                if isinstance(message, TickMessage):
                    pending += await _expire_partition(event.message.partition, message.now)
                else:
                    pending += await _resolve(event.message.key, message)
            except Exception as exc:  # noqa: BLE001
                pending.append(await dead_letter(event, f"cannot resolve: {exc}",
                                                 type(exc).__name__, "references"))
            await asyncio.gather(*pending)

    async def _resolve(key: bytes, message: LinkMessage | PendingMessage) -> list[Awaitable[Any]]:
        link = links_table.get(key)
        parked = parked_table.get(key)
        state = ReferenceState(
            case_id=link.decode() if link else None,
            parked=REFERENCE_STATE.validate_json(parked).parked if parked else (),
        )
        resolution = resolve(state, message, now=datetime.now(UTC))
        pending: list[Awaitable[Any]] = []
        for case_id, waiting in resolution.to_cases:
            pending.append(await send_to_case(case_id, waiting))
        pending += [await send_link(new_link) for new_link in resolution.links]
        # Outputs are on their way before the state changes: a crash in between replays the
        # input, and the case builder's idempotency absorbs the repeat.
        await asyncio.gather(*pending)
        if resolution.state is not None:
            if resolution.state.case_id is not None and link is None:
                links_table[key] = resolution.state.case_id.encode()
            if resolution.state.parked:
                parked_table[key] = REFERENCE_STATE.dump_json(
                    ReferenceState(parked=resolution.state.parked)
                )
            elif parked is not None:
                parked_table.pop(key, None)
        return []

    async def _expire_partition(partition: int, now: datetime) -> list[Awaitable[Any]]:
        pending: list[Awaitable[Any]] = []
        for key, value in list(parked_table.items()):
            if partition_of(key, settings.partitions) != partition:
                continue
            resolution = expire(REFERENCE_STATE.validate_json(value), now=now, ttl=ttl)
            for parked in resolution.expired:
                reason = expiry_reason(parked, key.decode(), ttl)
                letter = DeadLetter(
                    stage="cases", source=parked.event.source, reason=reason,
                    # Replay sends it back through routing, where a link may exist by then.
                    error="ParkedEventExpired", topic=topics.events_canonical,
                    partition=partition, offset=-1, failed_at=now, key=key,
                    value=CANONICAL_EVENT.dump_json(parked.event),
                )
                log.warning("parked event %s expired: %s", parked.event.event_id, reason)
                pending.append(await dead_letters.send(
                    key=letter.key, value=letter.value, headers=letter.headers()
                ))
            await asyncio.gather(*pending)
            if resolution.state is not None:
                if resolution.state.parked:
                    parked_table[key] = REFERENCE_STATE.dump_json(resolution.state)
                else:
                    parked_table.pop(key, None)
        return []

    @app.timer(interval=settings.parked_check_interval_seconds, on_leader=True,
               name="parked_event_expiry")  # type: ignore[misc]
    async def tick_partitions() -> None:
        value = REFERENCE_MESSAGE.dump_json(TickMessage(now=datetime.now(UTC)))
        try:
            for partition in range(settings.partitions):
                await references.send(key=TICK_KEY, value=value, partition=partition)
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("could not send expiry ticks")

    @app.agent(by_case, name="build_cases")  # type: ignore[misc]
    async def build_cases(stream: Any) -> None:
        async for event in stream.events():
            try:
                await _build(event)
            except Exception as exc:  # noqa: BLE001
                log.exception("case builder failed on %s[%d]@%d", event.message.topic,
                              event.message.partition, event.message.offset)
                await (await dead_letter(event, f"cannot apply to case: {exc}",
                                         type(exc).__name__, "cases"))

    async def _build(event: Any) -> None:
        key: bytes = event.message.key
        case_id = key.decode()
        canonical_event = CANONICAL_EVENT.validate_json(event.message.value)
        stored = ledgers.get(key)
        ledger = CASE_LEDGER.validate_json(stored) if stored else None
        previous = _previous_case(ledger, classify_reason)
        change = apply_event(ledger, canonical_event, case_id=case_id, previous=previous,
                             classify_reason=classify_reason)
        if change is None:
            # Already applied. Writing the same state again makes sure the changelog holds it
            # even if a crash lost the first changelog write after the local store had it.
            if stored is not None:
                ledgers[key] = stored
            return
        await asyncio.gather(*await _publish(change, canonical_event))
        ledgers[key] = CASE_LEDGER.dump_json(change.ledger)

    async def _publish(change: CaseChange, cause: CanonicalEvent) -> list[Awaitable[Any]]:
        pending: list[Awaitable[Any]] = []
        if change.case is not None:
            key = change.case.case_id.encode()
            pending.append(await cases_out.send(key=key, value=CASE.dump_json(change.case)))
            record = CaseChangeRecord(
                case_id=change.case.case_id, version=change.case.version,
                event_id=cause.event_id, event_type=cause.type,
                changed_fields=change.changed_fields, case=change.case,
            )
            pending.append(await changes_out.send(key=key, value=record.model_dump_json().encode()))
        if cause.type not in _SHIPPING_TYPES:
            return pending
        for shipment_record in _shipment_records(change):
            if shipment_record.return_shipping is not None:
                return_shipping[shipment_record.tracking_number.encode()] = (
                    shipment_record.return_shipping.model_dump_json().encode()
                )
            for customs in shipment_record.customs:
                customs_table[f"{customs.tracking_number}|{customs.direction}".encode()] = (
                    customs.model_dump_json().encode()
                )
            pending.append(await shipments_out.send(
                key=shipment_record.tracking_number.encode(),
                value=shipment_record.model_dump_json().encode(),
            ))
        return pending


def _previous_case(ledger: Any, classify_reason: ReasonClassifier | None) -> Case | None:
    from streams.cases import fold_case

    return fold_case(ledger, classify_reason=classify_reason) if ledger is not None else None


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


__all__ = ["register_case_stream", "partition_of", "CaseChangeRecord", "ShipmentRecord", "json"]
