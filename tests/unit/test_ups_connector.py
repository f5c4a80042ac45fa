"""UPS Track API and Track Alert: local times without offset, the two formats, status types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.carriers.ups import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT

NUMBER = "1Z5R89390357568127"


def activity(
    *,
    date: str = "20240423",
    time: str = "095004",
    country: str | None = "US",
    state: str | None = "NC",
    city: str | None = "CHARLOTTE",
    status: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    address = {"city": city, "stateProvince": state, "countryCode": country, "country": country}
    return {
        "location": {"address": {k: v for k, v in address.items() if v is not None}},
        "status": status or {"type": "D", "description": "DELIVERED ", "code": "FS"},
        "date": date,
        "time": time,
        **extra,
    }


def track_response(*activities: dict[str, Any]) -> bytes:
    return json.dumps({"trackResponse": {"shipment": [{
        "inquiryNumber": NUMBER,
        "package": [{"trackingNumber": NUMBER, "activity": list(activities)}],
    }]}}).encode()


def track_alert(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "trackingNumber": NUMBER,
        "localActivityDate": "20240423",
        "localActivityTime": "095004",
        "activityLocation": {"city": "CHARLOTTE", "stateProvince": "NC", "postalCode": "28209",
                             "country": "US"},
        "activityStatus": {"type": "D", "code": "FS", "description": "Delivered",
                           "descriptionCode": "011"},
        "gmtActivityDate": "20240423",
        "gmtActivityTime": "135004",
    }
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def run(raw: bytes) -> list[CanonicalEvent]:
    return parse(raw, received_at=RECEIVED_AT, headers={})


@pytest.mark.parametrize(
    ("place", "date", "time", "local", "zone"),
    [
        pytest.param(("US", "NC", "CHARLOTTE"), "20240423", "095004",
                     "2024-04-23T09:50:04-04:00", "America/New_York", id="north-carolina-edt"),
        pytest.param(("US", "NC", "CHARLOTTE"), "20240115", "095004",
                     "2024-01-15T09:50:04-05:00", "America/New_York", id="north-carolina-est"),
        pytest.param(("US", "CA", "ONTARIO"), "20240423", "071356",
                     "2024-04-23T07:13:56-07:00", "America/Los_Angeles", id="california"),
        pytest.param(("US", "TX", "EL PASO"), "20240423", "071356",
                     "2024-04-23T07:13:56-06:00", "America/Denver", id="texas-mountain-city"),
        pytest.param(("DE", None, "NEUSS"), "20241029", "113512",
                     "2024-10-29T11:35:12+01:00", "Europe/Berlin", id="germany-cet"),
        pytest.param(("DE", None, "KOELN"), "20241026", "165800",
                     "2024-10-26T16:58:00+02:00", "Europe/Berlin", id="germany-cest"),
        pytest.param(("JP", None, "TOKYO"), "20240423", "101500",
                     "2024-04-23T10:15:00+09:00", "Asia/Tokyo", id="japan"),
    ],
)
def test_local_times_are_placed_in_the_scan_zone(
    place: tuple[str, str | None, str], date: str, time: str, local: str, zone: str
) -> None:
    country, state, city = place
    [event] = run(track_response(activity(date=date, time=time, country=country, state=state,
                                           city=city)))
    assert event.time_source == "resolved_zone"
    assert event.source_timezone == zone
    assert event.occurred_at_local == datetime.fromisoformat(local)
    assert event.occurred_at == datetime.fromisoformat(local).astimezone(UTC)


@pytest.mark.parametrize(
    "place",
    [
        pytest.param(("US", "TX", "MESQUITE"), id="split-state-unlisted-city"),
        pytest.param(("US", None, None), id="country-only"),
        pytest.param(("MX", "JAL", "GUADALAJARA"), id="country-not-in-table"),
        pytest.param((None, None, None), id="no-location"),
    ],
)
def test_unplaceable_local_times_fall_back_to_the_receive_time(
    place: tuple[str | None, str | None, str | None],
) -> None:
    country, state, city = place
    [event] = run(track_response(activity(country=country, state=state, city=city)))
    assert event.time_source == "received"
    assert event.occurred_at == RECEIVED_AT
    assert event.occurred_at_local is None
    assert event.source_timezone is None


def test_gmt_time_gives_the_instant_and_the_offset() -> None:
    [event] = run(track_alert())
    assert event.time_source == "provider"
    assert event.occurred_at == datetime(2024, 4, 23, 13, 50, 4, tzinfo=UTC)
    assert event.occurred_at_local == datetime.fromisoformat("2024-04-23T09:50:04-04:00")
    assert event.source_timezone == "America/New_York"


def test_a_dropped_leading_zero_in_gmt_time_is_restored() -> None:
    [event] = run(track_response(activity(date="20210210", time="024700", gmtDate="20210210",
                                          gmtTime="74700", gmtOffset="-05:00")))
    assert event.occurred_at == datetime(2021, 2, 10, 7, 47, 0, tzinfo=UTC)
    assert event.occurred_at_local == datetime.fromisoformat("2021-02-10T02:47:00-05:00")


def test_local_and_gmt_times_that_disagree_keep_only_the_gmt_instant() -> None:
    """UPS's own example pairs local 07:13:56 with GMT 07:47:00: no real offset."""
    [event] = run(track_response(activity(date="20210210", time="071356", gmtDate="20210210",
                                          gmtTime="74700", gmtOffset="-05:00")))
    assert event.occurred_at == datetime(2021, 2, 10, 7, 47, 0, tzinfo=UTC)
    assert event.occurred_at_local is None
    assert event.time_source == "provider"


@pytest.mark.parametrize("offset", ["-05:00", "-05.00"])
def test_a_stated_gmt_offset_without_gmt_time_is_used(offset: str) -> None:
    [event] = run(track_response(activity(date="20240115", time="095004", state="TX",
                                          city="MESQUITE", gmtOffset=offset)))
    assert event.time_source == "provider"
    assert event.occurred_at == datetime(2024, 1, 15, 14, 50, 4, tzinfo=UTC)


def test_the_same_scan_from_both_apis_has_one_event_id() -> None:
    [from_track_api] = run(track_response(activity(status={
        "type": "D", "description": "DELIVERED ", "code": "FS", "statusCode": "011"})))
    [from_track_alert] = run(track_alert())
    assert from_track_api.event_id == from_track_alert.event_id


def test_customs_release_code_and_hold_text_add_customs_events() -> None:
    events = run(track_response(
        activity(date="20241026", time="165800", country="DE", state=None, city="KOELN",
                 status={"type": "I", "code": "SR",
                         "description": "Your package was released by the customs agency."}),
        activity(date="20241025", time="091000", country="DE", state=None, city="KOELN",
                 status={"type": "X", "description": "Your package is being held for a customs "
                                                     "inspection."}),
    ))
    customs = [(e.customs.status, e.customs.country) for e in events if e.customs]
    assert customs == [("held", "DE"), ("released", "DE")]
    assert [e.shipment.status for e in events if e.shipment] == ["customs", "customs"]


def test_activities_are_emitted_oldest_first() -> None:
    events = run(track_response(
        activity(date="20240423", time="095004"),
        activity(date="20240423", time="071356",
                 status={"type": "I", "code": "OT", "description": "Out For Delivery Today"}),
    ))
    assert [e.shipment.status for e in events if e.shipment] == ["out_for_delivery", "delivered"]


def test_inquiry_number_of_a_multi_package_shipment_is_a_reference() -> None:
    raw = json.dumps({"trackResponse": {"shipment": [{
        "inquiryNumber": NUMBER,
        "package": [{"trackingNumber": "1Z5R89390357568136", "activity": [activity()]}],
    }]}}).encode()
    [event] = run(raw)
    assert event.case_key == "tracking:1Z5R89390357568136"
    assert event.reference_values("tracking") == ["1Z5R89390357568136", NUMBER]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (track_alert(localActivityDate="20241345"), "localActivityDate"),
        (track_alert(localActivityDate="2024-04-23"), "localActivityDate: expected YYYYMMDD"),
        (track_alert(localActivityTime="9:50"), "localActivityTime: expected HHMMSS"),
        (track_alert(gmtActivityTime="256000"), "gmtActivityDate/gmtActivityTime"),
        (track_response(activity(date="20240231")), r"activity\[0\]\.date"),
        (b'{"shipment": []}', "neither a Track API response"),
        (b'{"trackResponse": {"shipment": {"package": []}}}', "trackResponse.shipment"),
    ],
)
def test_unreadable_payloads_are_skippable(raw: bytes, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match) as err:
        run(raw)
    assert err.value.source == "ups"


def test_tracking_not_found_is_ignored() -> None:
    raw = json.dumps({"trackResponse": {"shipment": [{
        "inquiryNumber": NUMBER,
        "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}],
    }]}}).encode()
    assert run(raw) == []


def test_undated_activities_keep_ups_newest_first_order_reversed() -> None:
    events = run(track_response(
        activity(country="US", state="TX", city="MESQUITE",
                 status={"type": "I", "code": "DP", "description": "Departed from Facility"}),
        activity(country="US", state=None, city=None,
                 status={"type": "M", "code": "MP", "description": "Shipper created a label"}),
    ))
    assert [e.time_source for e in events] == ["received", "received"]
    assert [e.shipment.raw_status for e in events if e.shipment] == ["M/MP", "I/DP"]


@pytest.mark.parametrize(
    ("time", "gmt_time"),
    [("095004", "13:50:04"), ("09:50:04", "135004"), ("09:50:04", "13:50:04"),
     ("9:50:04", "13:50:04")],
)
def test_track_api_times_with_colons_read_as_the_compact_ones(time: str, gmt_time: str) -> None:
    """The Track API writes `gmtTime` (and sometimes `time`) as HH:MM:SS."""
    [event] = run(track_response(activity(date="20240423", time=time, gmtDate="20240423",
                                          gmtTime=gmt_time, gmtOffset="-04:00")))
    assert event.time_source == "provider"
    assert event.occurred_at == datetime(2024, 4, 23, 13, 50, 4, tzinfo=UTC)
    [compact] = run(track_response(activity(date="20240423", time="095004")))
    assert event.event_id == compact.event_id


@pytest.mark.parametrize("bad", ["25:00:00", "09:5:04", "09:50:04:00", "ab:cd:ef", "9:50"])
def test_impossible_colon_times_name_the_field(bad: str) -> None:
    with pytest.raises(SkippableRecordError, match="activity.0..time"):
        run(track_response(activity(time=bad)))
