"""EasyPost tracker Events and Trackers: envelopes, returns to sender, tracker-level status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.carriers.easypost import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT


def detail(status: str = "in_transit", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "object": "TrackingDetail",
        "message": "Arrived at USPS Regional Facility",
        "description": None,
        "status": status,
        "status_detail": "arrived_at_facility",
        "datetime": "2025-01-08T09:03:00Z",
        "source": "USPS",
        "tracking_location": {"object": "TrackingLocation", "city": "NORTH CHARLESTON",
                              "state": "SC", "country": "US", "zip": "29420"},
    }
    body.update(overrides)
    return body


def tracker(*details: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "trk_8b1e2c7d4a9f4e0bb6c3d5a1f2e7c908",
        "object": "Tracker",
        "tracking_code": "9400111206213859671540",
        "status": details[-1]["status"] if details else "unknown",
        "status_detail": details[-1]["status_detail"] if details else "unknown",
        "updated_at": "2025-01-24T15:21:05Z",
        "carrier": "USPS",
        "tracking_details": list(details),
        "is_return": False,
    }
    body.update(overrides)
    return body


def event(result: dict[str, Any], *, description: str = "tracker.updated",
          event_id: str = "evt_4f6c1a2b9e8d4c7f") -> bytes:
    return json.dumps({"id": event_id, "object": "Event", "description": description,
                       "result": result}).encode()


def run(raw: bytes) -> list[CanonicalEvent]:
    return parse(raw, received_at=RECEIVED_AT, headers={})


def test_return_to_sender_detail_is_a_return() -> None:
    events = run(event(tracker(
        detail(),
        detail("return_to_sender", status_detail="return", datetime="2025-01-24T15:20:00Z",
               message="Unclaimed/Being Returned to Sender"),
    )))
    assert [e.shipment.status for e in events if e.shipment] == ["in_transit", "returned_to_sender"]
    assert len(events) == 2, "the tracker status matches its last detail: nothing extra"


def test_tracker_status_without_a_matching_detail_is_emitted_last() -> None:
    events = run(event(tracker(detail(), status="failure", status_detail="lost")))
    assert len(events) == 2
    last = events[-1]
    assert last.shipment is not None
    assert (last.shipment.status, last.shipment.raw_status) == ("exception", "failure")
    assert (last.reason_code, last.raw_reason) == ("lost_in_transit", "lost")
    assert last.occurred_at == datetime(2025, 1, 24, 15, 21, 5, tzinfo=UTC)


def test_a_new_event_envelope_for_the_same_history_keeps_the_ids() -> None:
    history = tracker(detail(), detail("out_for_delivery", status_detail="out_for_delivery",
                                       datetime="2025-01-09T12:40:00Z"))
    first = run(event(history, event_id="evt_1"))
    again = run(event(history, event_id="evt_2", description="tracker.created"))
    bare = run(json.dumps(history).encode())
    assert [e.event_id for e in first] == [e.event_id for e in again] == [e.event_id for e in bare]


@pytest.mark.parametrize(("is_return", "direction"),
                         [(True, "return"), (False, "outbound"), (None, None)])
def test_is_return_gives_the_direction(is_return: bool | None, direction: str | None) -> None:
    [update] = run(event(tracker(detail(), is_return=is_return)))
    assert update.shipment is not None and update.shipment.direction == direction


def test_customs_message_adds_a_customs_event() -> None:
    events = run(event(tracker(detail(
        message="Clearance processing complete at CINCINNATI HUB - USA",
        tracking_location={"city": "CINCINNATI HUB", "state": "OH", "country": "US"},
    ))))
    assert [e.type for e in events] == ["shipment.update", "customs.update"]
    assert events[1].customs is not None and events[1].customs.status == "released"


def test_empty_location_leaves_country_unknown() -> None:
    [update] = run(event(tracker(detail(tracking_location={
        "object": "TrackingLocation", "city": None, "state": None, "country": None, "zip": None,
    }))))
    assert update.shipment is not None
    assert (update.shipment.country, update.shipment.location) == (None, None)


@pytest.mark.parametrize(
    "description",
    ["refund.successful", "batch.created", "shipment.invoice.created", "scan_form.created"],
)
def test_events_other_than_trackers_are_ignored(description: str) -> None:
    assert run(event({"id": "rfnd_1", "object": "Refund"}, description=description)) == []


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'[{"id": "rfnd_1", "object": "Refund"}]', "expected a JSON object"),
        (event({"object": "Refund"}), "result: expected a Tracker"),
        (b'{"object": "Shipment"}', "object: expected 'Event' or 'Tracker'"),
        (event(tracker(detail(datetime="2025-02-30T10:00:00Z"))),
         r"result\.tracking_details\[0\]\.datetime"),
        (event(tracker(detail(), tracking_code=None)), "result.tracking_code"),
    ],
)
def test_unreadable_payloads_are_skippable(raw: bytes, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match) as err:
        run(raw)
    assert err.value.source == "easypost"
