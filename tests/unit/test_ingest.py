"""The ingest stage's pure core: one raw record in, inbox records or a dead letter out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from schemas.events import CANONICAL_EVENT
from schemas.raw_records import RawRecord, encode_headers
from streams.cases import case_id_for_order
from streams.ingest import ingest_record
from streams.normalize import OTHER_KIND, IgnoredCounts, RawKafkaRecord
from tests.support.connector_fixtures import RECEIVED_AT, load_fixtures

NOW = datetime(2026, 3, 5, 12, 0, 1, tzinfo=UTC)


def raw(source: str, body: bytes, *, headers: dict[str, str] | None = None,
        claimed_source: str | None = None, topic: str | None = None) -> RawKafkaRecord:
    record = RawRecord(claimed_source or source, body, RECEIVED_AT, "verified", headers or {})
    return RawKafkaRecord(source=source, topic=topic or f"raw.{source}", partition=2,
                          offset=41, timestamp_ms=None, key=b"k", value=body,
                          headers=tuple(encode_headers(record)))


@pytest.mark.parametrize("fixture", load_fixtures(), ids=lambda f: f.id)
def test_every_fixture_is_routed_or_dead_lettered_never_neither(fixture) -> None:  # type: ignore[no-untyped-def]
    result = ingest_record(raw(fixture.source, fixture.body, headers=fixture.headers), now=NOW)
    if result.dead_letter is not None:
        assert result.records == [] and result.dead_letter.reason
        assert result.dead_letter.value == fixture.body
        return
    for record in result.records:
        event = CANONICAL_EVENT.validate_json(record.value)
        assert event.raw is not None and (event.raw.partition, event.raw.offset) == (2, 41)
        if record.kind == "event":
            assert record.key == case_id_for_order(event.order_id or "").encode() or any(
                record.key == case_id_for_order(r.value).encode()
                for r in event.references if r.kind == "order")
        else:
            assert record.kind == "pending" and record.key == event.case_key.encode()


def test_an_event_naming_its_order_goes_to_its_orders_first_case_alone() -> None:
    """Links wait for the case step: which case of the order the event joins is decided there."""
    [fixture] = [f for f in load_fixtures("shopify")
                 if f.id.endswith("orders-create-presentment-eur")]
    result = ingest_record(raw("shopify", fixture.body, headers=fixture.headers), now=NOW)
    [record] = result.records
    event = CANONICAL_EVENT.validate_json(record.value)
    assert (record.kind, record.key) == ("event", case_id_for_order(event.order_id or "").encode())


def test_an_event_naming_no_order_waits_on_its_own_reference() -> None:
    scans = [f for f in load_fixtures("dhl") if "customs-hold" in f.id]
    result = ingest_record(raw("dhl", scans[0].body, headers=scans[0].headers), now=NOW)
    assert result.records and all(r.kind == "pending" for r in result.records)
    assert {r.key for r in result.records} == {
        CANONICAL_EVENT.validate_json(r.value).case_key.encode() for r in result.records}


def test_the_topic_decides_the_connector_not_a_header() -> None:
    [refund] = [f for f in load_fixtures("stripe")][:1]
    spoofed = raw("hub", refund.body, claimed_source="stripe", topic="raw.hub")
    result = ingest_record(spoofed, now=NOW)
    assert result.records == []
    assert result.dead_letter is not None and result.dead_letter.source == "hub"
    assert result.dead_letter.value == refund.body


def test_garbage_is_a_dead_letter_with_the_original_bytes() -> None:
    body = json.dumps({"deeply": [[[[[[[[[[]]]]]]]]]]}).encode() + b"\xff"
    result = ingest_record(raw("stripe", body), now=NOW)
    assert result.records == []
    assert result.dead_letter is not None and result.dead_letter.value == body
    assert result.dead_letter.stage == "normalize" and result.dead_letter.reason


def test_an_ignored_payload_is_counted_by_source_and_kind_not_dead_lettered() -> None:
    [fixture] = [f for f in load_fixtures("stripe") if "ignored" in f.name]
    result = ingest_record(raw("stripe", fixture.body, headers=fixture.headers), now=NOW)
    assert result.records == [] and result.dead_letter is None
    assert result.ignored == ("stripe", "charge.succeeded uncaptured")


def test_another_providers_body_is_a_dead_letter_saying_unrecognized_payload() -> None:
    [body] = [f.body for f in load_fixtures("aftership") if "customs-order" in f.name]
    result = ingest_record(raw("17track", body), now=NOW)
    assert result.records == [] and result.ignored is None
    assert result.dead_letter is not None
    assert result.dead_letter.reason.startswith("unrecognized payload: ")


def test_ignored_kinds_per_source_are_bounded() -> None:
    counts = IgnoredCounts(max_kinds=2)
    for kind in ("a.created", "b.created", "a.created", "c.created", "d.created"):
        counts.add("stripe", kind)
    counts.add("paypal", "X.Y")
    assert counts.items() == [
        ("paypal", "X.Y", 1), ("stripe", "a.created", 2), ("stripe", "b.created", 1),
        ("stripe", OTHER_KIND, 2),
    ]
    assert counts.total() == 6
