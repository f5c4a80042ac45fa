"""DHL Shipment Tracking - Unified: the traps of its responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.carriers.dhl import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT


def dhl_event(**overrides: Any) -> dict[str, Any]:
    """One Unified API event; an override of None removes the field."""
    event: dict[str, Any] = {
        "timestamp": "2024-05-06T13:04:00-05:00",
        "location": {"address": {"countryCode": "US", "addressLocality": "Wilmette, IL, US"}},
        "statusCode": "transit",
        "status": "ARRIVAL AT POST OFFICE",
    }
    event.update(overrides)
    return {key: value for key, value in event.items() if value is not None}


def dhl_body(*events: dict[str, Any], **shipment: Any) -> bytes:
    return json.dumps(
        {"shipments": [{"id": "GM2951173225174494", "service": "ecommerce",
                        "events": list(events), **shipment}]}
    ).encode()


def run(raw: bytes, headers: dict[str, str] | None = None) -> list[CanonicalEvent]:
    return parse(raw, received_at=RECEIVED_AT, headers=headers or {})


def test_impossible_date_names_the_field() -> None:
    raw = dhl_body(dhl_event(), dhl_event(timestamp="2017-20-10T09:00:00"))
    where = r"shipments\[0\]\.events\[1\]\.timestamp"
    with pytest.raises(SkippableRecordError, match=where) as err:
        run(raw)
    assert err.value.source == "dhl"
    assert "2017-20-10" in err.value.reason


def test_transit_code_saying_returned_to_shipper_is_a_return() -> None:
    [event] = run(dhl_body(dhl_event(
        statusCode="transit", status="DELIVERED_AT_SHIPPER",
        description="The shipment has been returned to the shipper",
    )))
    assert event.shipment is not None
    assert event.shipment.status == "returned_to_sender"
    assert event.shipment.raw_status == "transit"


def test_customs_remark_adds_a_customs_event() -> None:
    events = run(dhl_body(dhl_event(
        timestamp="2018-03-02T07:53:47Z", statusCode="pre-transit", status="DELIVERED",
        description="JESSICA", location={"address": {"countryCode": "NL"}},
        remark="The shipment is pending completion of customs inspection.",
    )))
    assert [e.type for e in events] == ["shipment.update", "customs.update"]
    assert events[1].customs is not None
    assert (events[1].customs.status, events[1].customs.country) == ("held", "NL")
    assert events[0].shipment is not None and events[0].shipment.status == "customs"
    assert events[0].occurred_at_local is None, "Z states no local time"


@pytest.mark.parametrize(
    ("timestamp", "location", "shipment", "local", "zone", "source"),
    [
        pytest.param("2024-03-31T09:48:00", None,
                     {"origin": {"address": {"countryCode": "DE"}},
                      "destination": {"address": {"countryCode": "DE"}}},
                     "2024-03-31T09:48:00+02:00", "Europe/Berlin", "resolved_zone",
                     id="domestic-de-after-dst"),
        pytest.param("2024-03-30T20:29:00", {"address": {"countryCode": "DE"}}, {},
                     "2024-03-30T20:29:00+01:00", "Europe/Berlin", "resolved_zone",
                     id="de-scan-before-dst"),
        pytest.param("2024-05-06T13:04:00", {"address": {"countryCode": "US",
                                                         "addressLocality": "Wilmette, IL, US"}},
                     {}, "2024-05-06T13:04:00-05:00", "America/Chicago", "resolved_zone",
                     id="us-state-in-locality"),
        pytest.param("2024-05-03T14:24:01", None,
                     {"origin": {"address": {"countryCode": "US"}},
                      "destination": {"address": {"countryCode": "US"}}},
                     None, None, "received", id="us-without-state"),
        pytest.param("2019-03-12T00:00:00", None,
                     {"origin": {"address": {"countryCode": "MY"}},
                      "destination": {"address": {"countryCode": "NZ"}}},
                     None, None, "received", id="international-without-scan-country"),
        pytest.param("2019-08-26T13:04:00-05:00", None, {}, "2019-08-26T13:04:00-05:00", None,
                     "provider", id="offset-stated"),
    ],
)
def test_timestamps_without_offset_are_placed_or_fall_back(
    timestamp: str,
    location: dict[str, Any] | None,
    shipment: dict[str, Any],
    local: str | None,
    zone: str | None,
    source: str,
) -> None:
    [event] = run(dhl_body(dhl_event(timestamp=timestamp, location=location), **shipment))
    assert event.time_source == source
    assert event.source_timezone == zone
    if local is None:
        assert event.occurred_at_local is None
        assert event.occurred_at == RECEIVED_AT
    else:
        assert event.occurred_at_local == datetime.fromisoformat(local)
        assert event.occurred_at == datetime.fromisoformat(local).astimezone(UTC)


def test_events_come_out_oldest_first_with_mixed_offsets() -> None:
    events = run(dhl_body(
        dhl_event(timestamp="2019-08-26T08:29:00-05:00", status="OUT FOR DELIVERY"),
        dhl_event(timestamp="2019-08-20T23:44:07-07:00", status="DEPARTURE ORIGIN FACILITY",
                  location={"address": {"countryCode": "US",
                                        "addressLocality": "Compton, CA, US"}}),
    ))
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert events[0].source_timezone == "America/Los_Angeles"
    assert events[1].shipment is not None and events[1].shipment.status == "out_for_delivery"


def test_redelivered_history_keeps_its_event_ids() -> None:
    first = dhl_event(timestamp="2024-05-03T17:23:06-07:00", status="ARRIVAL")
    second = dhl_event(timestamp="2024-05-06T08:29:00-05:00", status="OUT FOR DELIVERY")
    third = dhl_event(timestamp="2024-05-06T13:04:00-05:00", statusCode="delivered",
                      status="DELIVERED")
    early = {e.occurred_at: e.event_id for e in run(dhl_body(second, first))}
    later = {e.occurred_at: e.event_id for e in run(dhl_body(third, second, first))}
    assert early.items() <= later.items()
    assert len(later) == 3


def test_same_time_same_code_but_different_status_are_distinct_events() -> None:
    events = run(dhl_body(
        dhl_event(timestamp="2019-05-29T17:19:15+02:00", status="PARCEL_RETURNED_FROM_ROUTE"),
        dhl_event(timestamp="2019-05-29T17:19:15+02:00",
                  status="PARCEL_COLLECTED_AT_PARCELSHOP_BY_COURIER"),
    ))
    assert len({e.event_id for e in events}) == 2


@pytest.mark.parametrize(
    ("headers", "language"),
    [({"content-language": "de-DE"}, "de"), ({"content-language": "pl"}, "pl"), ({}, None)],
)
def test_language_only_when_the_response_states_it(
    headers: dict[str, str], language: str | None
) -> None:
    [event] = run(dhl_body(dhl_event(description="przesyłka doręczona do odbiorcy")), headers)
    assert event.language == language
    assert event.text == "przesyłka doręczona do odbiorcy"


def test_numeric_shipment_id_is_the_tracking_number() -> None:
    raw = json.dumps({"shipments": [{"id": 7777777770, "events": [dhl_event()]}]}).encode()
    [event] = run(raw)
    assert event.case_key == "tracking:7777777770"


def test_shipment_status_stands_in_when_there_are_no_events() -> None:
    raw = json.dumps({"shipments": [{"id": "JJD000390005893028175",
                                     "status": dhl_event(statusCode="delivered")}]}).encode()
    [event] = run(raw)
    assert event.shipment is not None and event.shipment.status == "delivered"


def test_problem_response_is_ignored() -> None:
    raw = b'{"title": "No result found", "status": 404, "detail": "No shipment found."}'
    assert run(raw) == []


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'{"shipments": {"id": "1"}}', "shipments: expected an array"),
        (b'{"shipments": [{"events": []}]}', r"shipments\[0\]\.id"),
        (b'{"something": "else"}', "missing field 'shipments'"),
        (b'{"shipments": [{"id": "1", "events": [{"timestamp": 20240101}]}]}',
         r"events\[0\]\.timestamp"),
    ],
)
def test_unreadable_payloads_are_skippable(raw: bytes, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match):
        run(raw)


def _express_event(timestamp: str, locality: str | None, description: str) -> dict[str, Any]:
    """A DHL Express event: a locality in words, no country code, no offset."""
    event: dict[str, Any] = {"timestamp": timestamp, "description": description}
    if locality is not None:
        event["location"] = {"address": {"addressLocality": locality}}
    return event


def _ends(origin: str, destination: str, origin_code: str | None = None) -> dict[str, Any]:
    codes = {"origin": origin_code}
    return {
        end: {"address": {"addressLocality": locality,
                          **({"countryCode": codes[end]} if codes.get(end) else {})}}
        for end, locality in (("origin", origin), ("destination", destination))
    }


@pytest.mark.parametrize(
    ("locality", "description", "ends", "local", "zone", "country"),
    [
        pytest.param("LEIPZIG - GERMANY", "Processed", _ends("A - CHINA", "B - FRANCE"),
                     "2025-03-03T09:15:00+01:00", "Europe/Berlin", "DE",
                     id="2-country-in-the-locality"),
        pytest.param("CINCINNATI HUB, OH - USA", "Processed", _ends("A - CHINA", "B - USA"),
                     "2025-03-03T09:15:00-05:00", "America/New_York", "US",
                     id="2-state-in-the-locality"),
        pytest.param("LEIPZIG - DEUTSCHLAND", "Bearbeitet", _ends("A - CHINA", "B - FRANKREICH"),
                     "2025-03-03T09:15:00+01:00", "Europe/Berlin", "DE",
                     id="2-country-named-in-german"),
        pytest.param(None, "Arrived at DHL Sort Facility LEIPZIG - GERMANY",
                     _ends("A - CHINA", "B - FRANCE"), "2025-03-03T09:15:00+01:00",
                     "Europe/Berlin", None, id="3-country-in-the-description"),
        pytest.param("SHENZHEN", "Shipment picked up",
                     _ends("SHENZHEN - CHINA MAINLAND", "B - FRANCE"),
                     "2025-03-03T09:15:00+08:00", "Asia/Shanghai", "CN",
                     id="4-city-of-the-origin-service-area"),
        pytest.param("ORIGIN AREA", "Shipment picked up",
                     _ends("ORIGIN AREA", "B - FRANCE", origin_code="JP"),
                     "2025-03-03T09:15:00+09:00", "Asia/Tokyo", "JP",
                     id="4-origin-service-area-with-its-code"),
        pytest.param(None, "Shipment is in transit", _ends("A - GERMANY", "B - GERMANY"),
                     "2025-03-03T09:15:00+01:00", "Europe/Berlin", None,
                     id="5-domestic-shipment"),
        pytest.param(None, "Shipment is in transit", _ends("A - CHINA", "B - GERMANY"),
                     None, None, None, id="6-nothing-places-the-scan"),
        pytest.param("NEWARK - USA", "Arrived", _ends("A - CHINA", "B - USA"),
                     None, None, "US", id="6-a-country-of-several-zones-without-state"),
    ],
)
def test_express_scans_without_country_codes_are_placed_by_what_the_payload_says(
    locality: str | None,
    description: str,
    ends: dict[str, Any],
    local: str | None,
    zone: str | None,
    country: str | None,
) -> None:
    [event] = run(dhl_body(_express_event("2025-03-03T09:15:00", locality, description), **ends))
    assert event.source_timezone == zone
    assert event.shipment is not None and event.shipment.country == country
    if local is None:
        assert (event.time_source, event.occurred_at) == ("received", RECEIVED_AT)
    else:
        assert event.time_source == "resolved_zone"
        assert event.occurred_at_local == datetime.fromisoformat(local)


def test_express_scans_of_one_shipment_keep_their_own_times() -> None:
    """Without country codes every scan used to fall back to one and the same receive time."""
    events = run(dhl_body(
        _express_event("2025-02-14T10:08:00", "MANILA - PHILIPPINES, THE", "Delivered"),
        _express_event("2025-02-11T16:03:00", "HONG KONG - HONG KONG SAR, CHINA", "Departed"),
        _express_event("2025-02-10T21:54:00", "DHAKA - BANGLADESH", "Shipment picked up"),
        **_ends("DHAKA - BANGLADESH", "MANILA - PHILIPPINES, THE"),
    ))
    assert [event.occurred_at.isoformat() for event in events] == [
        "2025-02-10T15:54:00+00:00", "2025-02-11T08:03:00+00:00", "2025-02-14T02:08:00+00:00",
    ]
    assert {event.time_source for event in events} == {"resolved_zone"}
