"""DHL Shipment Tracking - Unified: `GET /track/shipments` responses (and pushes of that shape).

Body: `{"shipments": [{"id", "service", "origin", "destination", "status", "details",
"events": [...]}]}`, events newest first. Each event becomes a `shipment.update` (the
shipment-level `status` repeats the latest event and stands in only for a shipment listed
without events); an event that is a customs milestone (usually told in `remark`, e.g.
"pending completion of customs inspection") adds a `customs.update`.

Mapped: `statusCode` (pre-transit, transit, delivered, failure, unknown) through the shared
taxonomy, refined by the event texts because the code is coarse: a "transit" event whose
`status`/`description` says the parcel went back to the shipper (`DELIVERED_AT_SHIPPER`,
"returned to shipper") is `returned_to_sender`. `location.address.countryCode` is the scan
country. Timestamps carry an offset (kept as `occurred_at_local`) or, for express, parcel-de,
dgf and some ecommerce events, none: those are placed in a zone by what the payload says, in
this order (`connectors.carriers._zones` explains each step):

1. the scan location's `countryCode` (and a "Wilmette, IL, US" state);
2. the country the scan's `addressLocality` names in words: DHL Express writes no country code,
   only "LEIPZIG - GERMANY", "HONG KONG - HONG KONG SAR, CHINA", "CINCINNATI HUB, OH - USA", in
   the response's language;
3. the country the scan's description names ("Arrived at DHL Sort Facility LEIPZIG - GERMANY");
4. the service areas: a scan at the origin's or destination's locality or city is in that end's
   country (the end's country code, else the country its locality names);
5. the shipment's own country when origin and destination are one country (a domestic parcel
   is scanned at home);
6. otherwise the receive time (`time_source="received"`): nothing places the scan.

A country read from the scan's own locality (step 2 or 4) is also the scan's `country`.

References: `details.references` of type local-tracking-number are further tracking numbers,
of type customer-reference the merchant's order (or return, when RMA-shaped) number
(`connectors.carriers._returns`). A product named as a return ("DHL Retoure") gives every event
`direction="return"`.

Language: DHL translates texts according to the request and says which language it answered in
only in the `Content-Language` response header; when the record carries that header its primary
tag is the events' `language`, otherwise none is set. A `{"status", "title", "detail"}` problem
response (no shipment found) is ignored. Authentication (`DHL-API-Key`) belongs to the poller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Connector, HttpIntake
from connectors.boundary import ignored, load_json_object, translate_errors, unrecognized
from connectors.carriers._common import (
    Scan,
    build_events,
    country_code,
    header_language,
    iso_scan_time,
    list_at,
    mapping_at,
    optional_mapping,
    received_time,
    required_text,
    text_at,
    tracking_case,
)
from connectors.carriers._customs import recognize_customs
from connectors.carriers._returns import direction_of, reference_kind, split_references
from connectors.carriers._status import DHL_STATUS_CODES, dhl_status, with_customs
from connectors.carriers._zones import Place, city_of, normalized_name, place_in_text
from schemas.events import CanonicalEvent

SOURCE = "dhl"
CARRIER = "dhl"
_LAST_MILE = frozenset({"local-tracking-number"})
_MERCHANT = frozenset({"customer-reference"})
"""Reference types that are the merchant's own number of the shipment (its order)."""


@translate_errors(SOURCE)
def parse(
    raw: bytes, *, received_at: datetime, headers: Mapping[str, str] | None = None
) -> list[CanonicalEvent]:
    """Normalize a DHL Unified tracking response into shipment and customs events.

    Args:
        raw: the response body as received.
        received_at: when the hub received it (used for events whose local time cannot be
            placed in a zone).
        headers: lower-case HTTP headers; `content-language` sets the events' language.

    Returns:
        One `shipment.update` per event of every shipment, oldest first, plus `customs.update`
        events; [] for a "no shipment found" problem response.

    Raises:
        SkippableRecordError: not JSON, no `shipments`, or an unreadable field (named).
    """
    document = load_json_object(raw)
    if "shipments" not in document and _is_problem(document):
        return ignored(SOURCE, f"problem response {document.get('title')!r}",
                       kind="problem response")
    if document.get("shipments") is None:
        raise unrecognized("missing field 'shipments' (not a DHL Unified tracking response)")
    language = header_language(headers)
    events: list[CanonicalEvent] = []
    for index, shipment in enumerate(list_at(document["shipments"], "shipments")):
        where = f"shipments[{index}]"
        events += _shipment_events(
            mapping_at(shipment, where), where, received_at=received_at, language=language
        )
    return events


def _is_problem(document: Mapping[str, Any]) -> bool:
    """An RFC 7807 problem answer ("No shipment with given tracking number found")."""
    status = document.get("status")
    return (isinstance(document.get("title"), str) and isinstance(status, int)
            and not isinstance(status, bool))


def _shipment_events(
    shipment: Mapping[str, Any], where: str, *, received_at: datetime, language: str | None
) -> list[CanonicalEvent]:
    tracking_number = required_text(shipment.get("id"), f"{where}.id")
    areas = _service_areas(shipment, where)
    scans = [
        _scan(mapping_at(event, f"{where}.events[{i}]"), f"{where}.events[{i}]",
              tracking_number=tracking_number, areas=areas, received_at=received_at,
              language=language)
        for i, event in enumerate(list_at(shipment.get("events"), f"{where}.events"))
    ]
    status = optional_mapping(shipment.get("status"), f"{where}.status")
    if status and not scans:
        scans = [
            _scan(status, f"{where}.status", tracking_number=tracking_number, areas=areas,
                  received_at=received_at, language=language)
        ]
    last_mile, orders, returns = _references(shipment, where)
    case = tracking_case(
        tracking_number, order_ids=orders, other_tracking=last_mile, return_ids=returns
    )
    details = optional_mapping(shipment.get("details"), f"{where}.details")
    product = optional_mapping(details.get("product"), f"{where}.details.product")
    direction = direction_of(
        text_at(product.get("productName"), f"{where}.details.product.productName")
    )
    return build_events(
        "dhl", scans, case=case, received_at=received_at, listed_newest_first=True,
        direction=direction,
    )


def _scan(
    event: Mapping[str, Any],
    where: str,
    *,
    tracking_number: str,
    areas: _ServiceAreas,
    received_at: datetime,
    language: str | None,
) -> Scan:
    address = optional_mapping(
        optional_mapping(event.get("location"), f"{where}.location").get("address"),
        f"{where}.location.address",
    )
    locality = text_at(address.get("addressLocality"), f"{where}.location.address.addressLocality")
    description = text_at(event.get("description"), f"{where}.description")
    place, country = _scan_place(
        country_code(address.get("countryCode")), locality, description, areas
    )
    stamp = event.get("timestamp")
    time = (
        received_time(received_at)
        if stamp is None
        else iso_scan_time(stamp, where=f"{where}.timestamp", place=place, received_at=received_at)
    )
    code = text_at(event.get("statusCode"), f"{where}.statusCode")
    status_text = text_at(event.get("status"), f"{where}.status")
    remark = text_at(event.get("remark"), f"{where}.remark")
    next_steps = text_at(event.get("nextSteps"), f"{where}.nextSteps")
    customs = recognize_customs(description, status_text, remark, next_steps)
    return Scan(
        tracking_number=tracking_number,
        carrier=CARRIER,
        status=with_customs(dhl_status(code, status_text, description, remark), customs),
        raw_status=code or "",
        raw_description=description or status_text,
        time=time,
        identity=(stamp, code, status_text, description, locality),
        country=country,
        location=locality,
        customs=customs,
        language=language,
    )


@dataclass(frozen=True, slots=True)
class _ServiceAreas:
    """The shipment's origin and destination as places, keyed by their locality and city."""

    places: Mapping[str, Place]
    home: str | None


def _service_areas(shipment: Mapping[str, Any], where: str) -> _ServiceAreas:
    places: dict[str, Place] = {}
    countries: set[str | None] = set()
    for end in ("origin", "destination"):
        address = optional_mapping(
            optional_mapping(shipment.get(end), f"{where}.{end}").get("address"),
            f"{where}.{end}.address",
        )
        locality = text_at(address.get("addressLocality"), f"{where}.{end}.address.addressLocality")
        named = place_in_text(locality)
        country = country_code(address.get("countryCode")) or (named.country if named else None)
        countries.add(country)
        if country is None or locality is None:
            continue
        place = Place(country=country, state=named.state if named else None,
                      city=named.city if named else None)
        for key in (normalized_name(locality), city_of(locality)):
            if key:
                places.setdefault(key, place)
    return _ServiceAreas(places, countries.pop() if len(countries) == 1 else None)


def _scan_place(
    code: str | None, locality: str | None, description: str | None, areas: _ServiceAreas
) -> tuple[Place, str | None]:
    """Where the scan happened (for its zone) and its country, in the module docstring's order."""
    named = place_in_text(locality)
    if code is not None:
        if named is not None and named.country == code:
            return named, code
        return Place(country=code, state=_us_style_state(locality, code)), code
    if named is not None:
        return named, named.country
    told = place_in_text(description)
    if told is not None:
        return told, None
    for key in (normalized_name(locality or ""), city_of(locality)):
        if key and key in areas.places:
            area = areas.places[key]
            return area, area.country
    return Place(country=areas.home, state=_us_style_state(locality, areas.home)), None


def _us_style_state(locality: str | None, country: str | None) -> str | None:
    """The state of an ecommerce locality written "Wilmette, IL, US"."""
    parts = [part.strip() for part in (locality or "").split(",")]
    if len(parts) == 3 and country and parts[2].upper() == country and len(parts[1]) in (2, 3):
        return parts[1].upper()
    return None


def _references(
    shipment: Mapping[str, Any], where: str
) -> tuple[list[str | None], list[str], list[str]]:
    """`details.references` (an object or a list of them): last-mile tracking numbers, and the
    merchant's order and return numbers (`customer-reference`, return/RMA types)."""
    details = optional_mapping(shipment.get("details"), f"{where}.details")
    references = details.get("references")
    items = references if isinstance(references, list) else [references] if references else []
    last_mile: list[str | None] = []
    merchant: list[tuple[str | None, str | None]] = []
    for i, item in enumerate(items):
        entry = mapping_at(item, f"{where}.details.references[{i}]")
        kind = text_at(entry.get("type"), f"{where}.details.references[{i}].type")
        number = text_at(entry.get("number"), f"{where}.details.references[{i}].number")
        if kind in _LAST_MILE:
            last_mile.append(number)
        elif kind in _MERCHANT or (kind and reference_kind("", carrier_type=kind) == "return"):
            merchant.append((number, kind))
    orders, returns = split_references(merchant)
    return last_mile, orders, returns


CONNECTOR = Connector(
    source="dhl",
    kind="carrier",
    signature_scheme="dhl-api-key",
    parse=parse,
    description="DHL Shipment Tracking - Unified: shipment events, returns to shipper, customs",
    http=HttpIntake(signature_headers=("dhl-api-key",)),
    status_table=DHL_STATUS_CODES,
)
