"""Produce sample-traffic stories to a deployment's raw topics, and compute what must come out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from connectors.registry import connector_for
from hub.sample_traffic import CaseStory, SamplePayload
from schemas.case import CASE, Case
from schemas.events import CanonicalEvent
from schemas.raw_records import RawRecord, encode_headers
from streams.cases import apply_event, case_id_for_order
from streams.correlation import links_for, route
from tests.support.connector_fixtures import RECEIVED_AT
from tests.support.kafka import Record
from translations.glossary import classify_reason


def raw_record(payload: SamplePayload, index: int) -> RawRecord:
    """The raw record of a payload, received at a fixed time so every run is comparable."""
    return RawRecord(
        payload.source,
        payload.body,
        RECEIVED_AT + timedelta(seconds=index),
        "verified",
        payload.headers,
    )


async def produce_payloads(
    bootstrap: str, prefix: str, ordered: Sequence[tuple[int, SamplePayload]],
    *, client_options: Mapping[str, Any] | None = None,
) -> None:
    """Produce (index, payload) pairs in the given order; the index fixes its receive time."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
        **(client_options or {}),
    )
    await producer.start()
    try:
        sends = []
        for index, payload in ordered:
            record = raw_record(payload, index)
            sends.append(
                await producer.send(
                    f"{prefix}raw.{payload.source}",
                    value=payload.body,
                    key=payload.key,
                    headers=encode_headers(record),
                )
            )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def indexed(stories: Sequence[CaseStory]) -> list[tuple[int, SamplePayload]]:
    return list(enumerate(p for story in stories for p in story.payloads))


def canonical_events(ordered: Sequence[tuple[int, SamplePayload]]) -> list[CanonicalEvent]:
    events = []
    for index, payload in ordered:
        record = raw_record(payload, index)
        events += connector_for(payload.source).parse(
            record.body, received_at=record.received_at, headers=record.http_headers
        )
    return events


def expected_cases(stories: Sequence[CaseStory]) -> dict[str, Case]:
    """What an undisturbed, sequential hub makes of the stories: one fold per order (a sample
    story is one return of one order)."""
    by_case: dict[str, list[CanonicalEvent]] = {}
    events = canonical_events(indexed(stories))
    links: dict[str, str] = {}
    for event in events:
        routed = route(event)
        if routed.case_id:
            for link in links_for(event, routed.case_id):
                links.setdefault(link.reference, routed.case_id)
    for event in events:
        routed = route(event)
        case_id = routed.case_id or links[event.case_key]
        by_case.setdefault(case_id, []).append(event)
        for reference in event.references:
            links.setdefault(str(reference), case_id)
    cases = {}
    for case_id, found in by_case.items():
        ledger = None
        case = None
        for event in found:
            change = apply_event(
                ledger, event, case_id=case_id, previous=case, classify_reason=classify_reason
            )
            if change is not None:
                ledger, case = change.ledger, change.case
        if case is not None:
            cases[case_id] = case
    assert set(cases) == {case_id_for_order(s.order_id) for s in stories}
    return cases


def latest_cases(records: Sequence[Record]) -> dict[str, Case]:
    latest: dict[str, Case] = {}
    for record in records:
        case = CASE.validate_json(record.value)
        if case.case_id not in latest or latest[case.case_id].version < case.version:
            latest[case.case_id] = case
    return latest


def all_done(expected: dict[str, Case]):  # type: ignore[no-untyped-def]
    def done(records: Sequence[Record]) -> bool:
        latest = latest_cases(records)
        return all(
            case_id in latest and latest[case_id].version >= case.version
            for case_id, case in expected.items()
        )

    return done


def conflicting_changes(records: Sequence[Record]) -> list[str]:
    """(case_id, version) pairs published with different content: a change applied twice."""
    seen: dict[tuple[str, int], bytes] = {}
    conflicts = []
    for record in records:
        document = json.loads(record.value)
        if document["event_type"].startswith("sla."):
            continue  # policy notifications carry the version of the case they judged
        key = (document["case_id"], document["version"])
        if key in seen and seen[key] != record.value:
            conflicts.append(f"{key}")
        seen[key] = record.value
    return conflicts
