"""AfterShip tracking webhooks: order references, per-checkpoint offsets, lost-after-delivered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.carriers.aftership import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT


def checkpoint(subtag: str = "InTransit_001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "fedex",
        "checkpoint_time": "2025-04-02T08:27:00+09:00",
        "message": "At destination sort facility",
        "location": "NARITA-SHI JP",
        "city": "NARITA-SHI",
        "state": None,
        "country_iso3": "JPN",
        "tag": subtag.split("_")[0],
        "subtag": subtag,
    }
    body.update(overrides)
    return body


def webhook(*checkpoints: dict[str, Any], event: str = "tracking_update", **tracking: Any) -> bytes:
    last = checkpoints[-1] if checkpoints else {"tag": "Pending", "subtag": "Pending_001"}
    msg: dict[str, Any] = {
        "id": "67f0a1c2e4b0d3a9c8f71b25",
        "tracking_number": "794712603218",
        "slug": "fedex",
        "tag": last["tag"],
        "subtag": last["subtag"],
        "updated_at": "2025-04-03T05:20:11+00:00",
        "order_id": None,
        "order_number": None,
        "checkpoints": list(checkpoints),
    }
    msg.update(tracking)
    return json.dumps({"event": event, "event_id": "5c2f9a4e-1b7d-4e3a-9f60-8d2c4b1a7e39",
                       "is_tracking_first_tag": False, "msg": msg, "ts": 1743657611}).encode()


def run(raw: bytes) -> list[CanonicalEvent]:
    return parse(raw, received_at=RECEIVED_AT, headers={})


@pytest.mark.parametrize(
    ("order_id", "order_number", "case_key", "orders"),
    [
        ("5102938475", "#1042", "order:5102938475", ["5102938475", "#1042"]),
        (None, "#1187", "order:#1187", ["#1187"]),
        ("5102938475", None, "order:5102938475", ["5102938475"]),
        (None, None, "tracking:794712603218", []),
    ],
)
def test_the_merchant_order_names_the_case(
    order_id: str | None, order_number: str | None, case_key: str, orders: list[str]
) -> None:
    [update] = run(webhook(checkpoint(), order_id=order_id, order_number=order_number))
    assert update.case_key == case_key
    assert update.reference_values("order") == orders
    assert update.reference_values("tracking") == ["794712603218"]
    assert update.order_id == (orders[0] if orders else None)


def test_lost_after_delivered_reaches_the_case() -> None:
    events = run(webhook(
        checkpoint("Delivered_001", checkpoint_time="2025-04-03T14:10:00+09:00",
                   message="Delivered"),
        tag="Exception", subtag="Exception_013", subtag_message="Shipment lost",
    ))
    assert [e.shipment.status for e in events if e.shipment] == ["delivered", "exception"]
    verdict = events[-1]
    assert (verdict.reason_code, verdict.raw_reason) == ("lost_in_transit", "Exception_013")
    assert verdict.text == "Shipment lost"
    assert verdict.occurred_at == datetime(2025, 4, 3, 5, 20, 11, tzinfo=UTC)


def test_the_verdict_keeps_its_id_when_redelivered_later() -> None:
    delivered = checkpoint("Delivered_001", checkpoint_time="2025-04-03T14:10:00+09:00")
    lost = {"tag": "Exception", "subtag": "Exception_013", "subtag_message": "Shipment lost"}
    first = run(webhook(delivered, **lost))[-1]
    again = run(webhook(delivered, updated_at="2025-04-09T11:00:00+00:00", **lost))[-1]
    assert first.event_id == again.event_id


def test_a_tracking_status_the_last_checkpoint_already_says_adds_nothing() -> None:
    events = run(webhook(checkpoint("InTransit_007"), tag="InTransit", subtag="InTransit_001"))
    assert len(events) == 1


def test_each_checkpoint_keeps_its_own_offset() -> None:
    events = run(webhook(
        checkpoint("InfoReceived_001", checkpoint_time="2025-04-01T01:21:39-05:00",
                   country_iso3=None, location=None, city=None),
        checkpoint("InTransit_002", checkpoint_time="2025-04-01T16:58:00+08:00",
                   country_iso3="CHN", location="DONGGUAN CN"),
        checkpoint("InTransit_004", checkpoint_time="2025-04-02T08:27:00+09:00"),
    ))
    offsets = [e.occurred_at_local.utcoffset() for e in events if e.occurred_at_local]
    assert offsets == [timedelta(hours=-5), timedelta(hours=8), timedelta(hours=9)]
    assert [e.source_timezone for e in events] == [None, "Asia/Shanghai", "Asia/Tokyo"]
    assert [e.shipment.country for e in events if e.shipment] == [None, "CN", "JP"]


@pytest.mark.parametrize(
    ("fields", "source", "zone"),
    [
        ({"country_iso3": "GBR", "city": "Chester"}, "resolved_zone", "Europe/London"),
        ({"country_iso3": None, "country_region": "DEU"}, "resolved_zone", "Europe/Berlin"),
        ({"country_iso3": "USA", "state": None, "city": "Springfield"}, "received", None),
    ],
)
def test_checkpoint_times_without_offset(
    fields: dict[str, Any], source: str, zone: str | None
) -> None:
    [update] = run(webhook(checkpoint(checkpoint_time="2025-06-02T18:40:00", **fields)))
    assert (update.time_source, update.source_timezone) == (source, zone)


@pytest.mark.parametrize(
    ("subtag", "message", "customs"),
    [
        ("InTransit_005", "Arrived at facility", "released"),
        ("InTransit_006", "Arrived at facility", "in_clearance"),
        ("Exception_004", "Clearance delay - Import", "held"),
        ("InTransit_007", "International shipment release - Import", "released"),
        ("InTransit_001", "In transit - Package available for clearance", "in_clearance"),
        ("InTransit_003", "Arrival scan", None),
    ],
)
def test_customs_milestones(subtag: str, message: str, customs: str | None) -> None:
    events = run(webhook(checkpoint(subtag, message=message)))
    found = [e.customs.status for e in events if e.customs]
    assert found == ([customs] if customs else [])
    if customs:
        assert events[1].customs is not None and events[1].customs.country == "JP"


@pytest.mark.parametrize("event", ["edd_revise", "tracking_pending_time"])
def test_events_without_checkpoints_are_ignored(event: str) -> None:
    assert run(webhook(checkpoint(), event=event)) == []


def test_get_tracking_envelope_is_accepted() -> None:
    body = json.loads(webhook(checkpoint()))
    raw = json.dumps({"meta": {"code": 200}, "data": {"tracking": body["msg"]}}).encode()
    assert [e.event_id for e in run(raw)] == [e.event_id for e in run(webhook(checkpoint()))]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'{"msg": {}}', "missing field 'event'"),
        (b'{"event": "tracking_update", "msg": []}', "msg: expected an object"),
        (webhook(checkpoint(checkpoint_time="2025-13-01T10:00:00+09:00")),
         r"msg\.checkpoints\[0\]\.checkpoint_time"),
        (webhook(checkpoint(), tracking_number=None), "msg.tracking_number"),
    ],
)
def test_unreadable_payloads_are_skippable(raw: bytes, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match) as err:
        run(raw)
    assert err.value.source == "aftership"
