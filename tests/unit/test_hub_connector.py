"""The hub connector: protocol v1 objects become canonical events one-to-one."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from connectors.marketplaces.hub import CONNECTOR, parse
from schemas.errors import SkippableRecordError
from tests.support.connector_fixtures import RECEIVED_AT, load_fixtures

FIXTURES = load_fixtures("hub")


def record(**overrides: Any) -> bytes:
    """A return.requested record as a marketplace would produce it, with fields replaced."""
    body: dict[str, Any] = {
        "protocol_version": 1,
        "event_type": "return.requested",
        "event_id": "RET-REQ-1",
        "marketplace": "mercadito-es",
        "occurred_at": "2026-02-24T09:12:44+01:00",
        "order_id": "ES-1",
        "return_id": "DEV-1",
        "reason_code": "size_fit",
        "marketplace_reason_code": "TALLA",
        "reason": "Me queda grande.",
        "language": "es-ES",
    }
    body.update(overrides)
    return json.dumps({key: value for key, value in body.items() if value is not None}).encode()


def test_descriptor() -> None:
    assert (CONNECTOR.source, CONNECTOR.kind, CONNECTOR.signature_scheme) == (
        "hub", "marketplace", "kafka-direct",
    )


@pytest.mark.parametrize("fixture", FIXTURES, ids=[fixture.name for fixture in FIXTURES])
def test_every_protocol_type_maps_to_the_canonical_type_of_the_same_name(fixture) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(fixture.body)
    [event] = parse(fixture.body, received_at=RECEIVED_AT)
    assert event.type == body["event_type"]
    assert event.order_id == body["order_id"]
    assert event.marketplace == body["marketplace"]
    assert event.case_key == f"order:{body['order_id']}"


@pytest.mark.parametrize(
    ("amount", "currency", "minor_units"),
    [("12800", "JPY", 12800), ("12.345", "KWD", 12345), ("349.90", "BRL", 34990)],
)
def test_amounts_stay_exact_in_their_currency(amount: str, currency: str, minor_units: int) -> None:
    raw = record(
        event_type="refund.succeeded", refund_id="RF-1", return_id=None,
        reason_code=None, marketplace_reason_code=None, reason=None, language=None,
        amount={"amount": amount, "currency": currency},
    )
    [event] = parse(raw, received_at=RECEIVED_AT)
    assert event.money is not None
    assert event.money.amount == Decimal(amount)
    assert event.money.to_minor_units() == minor_units
    assert event.refund_id == "RF-1"


@pytest.mark.parametrize(
    ("occurred_at", "utc", "local_offset_hours"),
    [
        ("2026-02-24T09:12:44+01:00", "2026-02-24T08:12:44+00:00", 1),
        ("2026-02-22T18:47:31-03:00", "2026-02-22T21:47:31+00:00", -3),
        ("2026-02-24T08:12:44Z", "2026-02-24T08:12:44+00:00", None),
        ("2026-02-24T08:12:44-00:00", "2026-02-24T08:12:44+00:00", None),
    ],
)
def test_offsets_are_kept_as_local_wall_time(
    occurred_at: str, utc: str, local_offset_hours: int | None
) -> None:
    [event] = parse(record(occurred_at=occurred_at), received_at=RECEIVED_AT)
    assert event.occurred_at.isoformat() == utc
    assert event.time_source == "provider"
    if local_offset_hours is None:
        assert event.occurred_at_local is None
    else:
        assert event.occurred_at_local is not None
        offset = event.occurred_at_local.utcoffset()
        assert offset is not None and offset.total_seconds() == local_offset_hours * 3600


def test_reason_fields_and_primary_language() -> None:
    [event] = parse(record(), received_at=RECEIVED_AT)
    assert (event.reason_code, event.raw_reason, event.text, event.language) == (
        "size_fit", "TALLA", "Me queda grande.", "es",
    )


def test_the_same_fact_twice_has_one_id_and_marketplaces_do_not_collide() -> None:
    [first] = parse(record(), received_at=RECEIVED_AT)
    [again] = parse(record(), received_at=RECEIVED_AT)
    [elsewhere] = parse(record(marketplace="vitrine-br"), received_at=RECEIVED_AT)
    [other_fact] = parse(record(event_id="RET-REQ-2"), received_at=RECEIVED_AT)
    assert first.event_id == again.event_id
    assert len({first.event_id, elsewhere.event_id, other_fact.event_id}) == 3


def test_a_label_becomes_a_tracked_return_shipment() -> None:
    raw = record(
        event_type="return.label_created", reason_code=None, marketplace_reason_code=None,
        reason=None, language=None,
        label={"carrier": "Correos Express", "tracking_number": "3230044781129050028001"},
    )
    [event] = parse(raw, received_at=RECEIVED_AT)
    assert event.shipment is not None
    assert (event.shipment.status, event.shipment.direction) == ("info_received", "return")
    assert event.reference_values("tracking") == ["3230044781129050028001"]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        pytest.param(record(refund_id="RF-1"), "Extra inputs", id="refund-id-on-a-return"),
        pytest.param(record(amount={"amount": "5.5", "currency": "JPY"}), "minor unit",
                     id="jpy-fraction"),
        pytest.param(record(event_type="return.approved"), "Extra inputs",
                     id="reason-on-return-approved"),
        pytest.param(record(occurred_at="2026-02-24 09:12:44"), "occurred_at", id="naive-time"),
        pytest.param(record(return_id=None), "return_id", id="missing-return-id"),
        pytest.param(b'{"protocol_version": 1', "JSON", id="truncated"),
        pytest.param(b"[]", "should be an object", id="array"),
    ],
)
def test_invalid_records_are_skippable_with_the_field_named(raw: bytes, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match) as caught:
        parse(raw, received_at=RECEIVED_AT)
    assert caught.value.source == "hub"
