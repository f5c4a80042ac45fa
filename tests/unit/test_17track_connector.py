"""17TRACK push webhooks: Chinese customs scans, time_iso/time_utc, carrier codes, verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.carriers.track17 import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT


def track_event(
    description: str = "到达寄达国（地区）【德国】",
    sub_status: str | None = "InTransit_Arrival",
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "time_iso": "2025-03-07T08:50:00+01:00",
        "time_utc": "2025-03-07T07:50:00Z",
        "description": description,
        "location": "法兰克福",
        "stage": None,
        "sub_status": sub_status,
        "address": {"country": "DE", "state": None, "city": "Frankfurt", "street": None,
                    "postal_code": None, "coordinates": {"longitude": None, "latitude": None}},
    }
    body.update(overrides)
    return body


def push(
    *providers: tuple[int, list[dict[str, Any]]],
    latest: tuple[str, str] | None = None,
    carrier: Any = 3011,
    event: str = "TRACKING_UPDATED",
) -> bytes:
    newest = providers[0][1][0] if providers and providers[0][1] else {}
    status, sub_status = latest or (
        (newest.get("sub_status") or "InTransit_Other").split("_")[0],
        newest.get("sub_status") or "InTransit_Other",
    )
    return json.dumps({"event": event, "data": {
        "number": "RR512839475CN", "carrier": carrier, "param": None, "tag": None,
        "track_info": {
            "latest_status": {"status": status, "sub_status": sub_status,
                              "sub_status_descr": None},
            "latest_event": newest,
            "tracking": {"providers_hash": 1, "providers": [
                {"provider": {"key": key, "name": "?", "country": "CN"}, "events": events}
                for key, events in providers
            ]},
        },
    }}, ensure_ascii=False).encode()


def run(raw: bytes) -> list[CanonicalEvent]:
    return parse(raw, received_at=RECEIVED_AT, headers={})


def test_chinese_customs_hold_and_release() -> None:
    events = run(push((3011, [
        track_event("【德国】海关放行", "InTransit_CustomsReleased",
                    time_iso="2025-03-10T11:05:00+01:00", time_utc="2025-03-10T10:05:00Z"),
        track_event("【德国】进口海关查验（扣留）", "InTransit_CustomsProcessing",
                    time_iso="2025-03-07T15:20:00+01:00", time_utc="2025-03-07T14:20:00Z"),
    ])))
    assert [e.type for e in events] == [
        "shipment.update", "customs.update", "shipment.update", "customs.update"
    ]
    assert [(e.customs.status, e.customs.country) for e in events if e.customs] == [
        ("held", "DE"), ("released", "DE")
    ]
    assert events[0].text == "【德国】进口海关查验（扣留）"
    assert all(e.language is None for e in events), "17TRACK does not state the language"


def test_chinese_export_release_without_a_customs_code() -> None:
    events = run(push((3011, [track_event(
        "【广州国际邮件处理中心】出口海关放行", "InTransit_Other",
        time_iso="2025-03-04T21:36:00+08:00", time_utc="2025-03-04T13:36:00Z",
        address={"country": "CN", "state": "Guangdong", "city": "Guangzhou"},
    )])))
    assert events[1].customs is not None
    assert (events[1].customs.status, events[1].customs.country) == ("released", "CN")
    assert events[0].shipment is not None and events[0].shipment.status == "customs"


@pytest.mark.parametrize(
    ("time_iso", "time_utc", "utc", "local", "source"),
    [
        pytest.param("2025-03-03T14:25:00+08:00", "2025-03-03T06:25:00Z",
                     "2025-03-03T06:25:00+00:00", "2025-03-03T14:25:00+08:00", "provider",
                     id="iso-with-offset"),
        pytest.param("2025-03-03T14:25:00", "2025-03-03T06:25:00Z",
                     "2025-03-03T06:25:00+00:00", "2025-03-03T14:25:00+08:00", "provider",
                     id="naive-iso-paired-with-utc"),
        pytest.param(None, "2025-03-03T06:25:00Z", "2025-03-03T06:25:00+00:00", None,
                     "provider", id="utc-only"),
        pytest.param("2025-03-03T14:25:00", None, "2025-03-03T06:25:00+00:00",
                     "2025-03-03T14:25:00+08:00", "resolved_zone", id="naive-iso-in-china"),
        pytest.param(None, None, RECEIVED_AT.isoformat(), None, "received", id="no-time"),
    ],
)
def test_event_times(
    time_iso: str | None, time_utc: str | None, utc: str, local: str | None, source: str
) -> None:
    [event] = run(push((3011, [track_event(
        "【广州市】已收寄", "InTransit_PickedUp", time_iso=time_iso, time_utc=time_utc,
        address={"country": "CN", "city": "Guangzhou"},
    )])))
    assert event.occurred_at == datetime.fromisoformat(utc)
    assert event.occurred_at_local == (datetime.fromisoformat(local) if local else None)
    assert event.time_source == source


def test_impossible_time_names_the_field() -> None:
    raw = push((3011, [track_event(time_iso="2025-02-30T10:00:00+08:00")]))
    with pytest.raises(SkippableRecordError, match=r"events\[0\]\.time_iso") as err:
        run(raw)
    assert err.value.source == "17track"


def test_events_of_several_providers_are_merged_oldest_first() -> None:
    events = run(push(
        (3011, [track_event("离开【广州】，已交航空公司运输", "InTransit_Departure",
                            time_iso="2025-03-05T03:15:00+08:00",
                            time_utc="2025-03-04T19:15:00Z",
                            address={"country": "CN"})]),
        (100001, [track_event("Die Sendung wurde zugestellt.", "Delivered_Other",
                              time_iso="2025-03-11T13:48:00+01:00",
                              time_utc="2025-03-11T12:48:00Z")]),
        latest=("Delivered", "Delivered_Other"),
    ))
    assert [e.shipment.carrier for e in events if e.shipment] == ["china-post", "dhl"]
    assert events[0].occurred_at < events[1].occurred_at


@pytest.mark.parametrize(
    ("carrier", "name"),
    [(3011, "china-post"), (190271, "cainiao"), (190094, "4px"), ("100002", "ups"),
     (999999, "17track-999999")],
)
def test_carrier_codes(carrier: Any, name: str) -> None:
    raw = json.loads(push((3011, [track_event()]), carrier=carrier))
    del raw["data"]["track_info"]["tracking"]["providers"][0]["provider"]["key"]
    [event] = run(json.dumps(raw).encode())
    assert event.shipment is not None and event.shipment.carrier == name


def test_a_verdict_without_a_scan_is_emitted_at_receive_time() -> None:
    events = run(push((190094, [track_event("Objeto em trânsito - por favor aguarde",
                                            "InTransit_Other")]),
                      latest=("Exception", "Exception_Lost")))
    verdict = events[-1]
    assert verdict.shipment is not None
    assert (verdict.shipment.status, verdict.shipment.raw_status) == ("exception", "Exception_Lost")
    assert (verdict.reason_code, verdict.time_source) == ("lost_in_transit", "received")
    assert verdict.occurred_at == RECEIVED_AT.astimezone(UTC)


def test_returning_and_returned_are_returns_to_sender() -> None:
    events = run(push((190271, [
        track_event("Returned to sender", "Exception_Returned",
                    time_iso="2025-05-30T09:20:00+08:00", time_utc="2025-05-30T01:20:00Z"),
        track_event("Return to sender: refused by recipient", "Exception_Returning",
                    time_iso="2025-05-19T16:05:00-07:00", time_utc="2025-05-19T23:05:00Z"),
    ])))
    assert [e.shipment.status for e in events if e.shipment] == [
        "returned_to_sender", "returned_to_sender"
    ]
    assert len(events) == 2


def test_tracking_stopped_is_ignored() -> None:
    assert run(push((3011, [track_event()]), event="TRACKING_STOPPED")) == []


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'{"data": {}}', "missing field 'event'"),
        (b'{"event": "TRACKING_UPDATED", "data": {"carrier": 3011}}', "data.number"),
        (push((3011, [track_event()]), carrier="china-post"), "data.carrier"),
        (b'{"event": "TRACKING_UPDATED", "data": []}', "data: expected an object"),
    ],
)
def test_unreadable_payloads_are_skippable(raw: bytes, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match):
        run(raw)
