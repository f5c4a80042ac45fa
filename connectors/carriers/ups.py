"""UPS: Track API responses and Track Alert webhook events (`TrackingEvent`).

Two bodies, told apart by their shape (no header is needed):

* Track API (`GET /track/v1/details/{inquiryNumber}`): `trackResponse.shipment[].package[]
  .activity[]`, activities newest first, each with `date` "YYYYMMDD" and `time` "HHMMSS" in the
  scan's LOCAL time without offset, optionally `gmtDate`/`gmtTime`/`gmtOffset`,
  `location.address` and `status {type, code, description}`. A shipment with only `warnings`
  (tracking information not found) gives no events.
* Track Alert webhook: one activity per body, `trackingNumber`, `localActivityDate`/
  `localActivityTime` (local, no offset), `gmtActivityDate`/`gmtActivityTime`,
  `activityLocation`, `activityStatus`.

Times. When UPS also states the GMT time, the instant is UPS's and the local offset is the
difference of the two (`time_source="provider"`). Otherwise the local wall time is placed in the
zone of the scan's country and state/city (`connectors.carriers._zones`, e.g. NC -> New York,
DE -> Berlin; `time_source="resolved_zone"`); when the location does not pin down one zone (Texas
without a listed city, an unknown country) the hub does not guess and uses the receive time
(`time_source="received"`). A dropped leading zero in a time ("74700") is restored; an impossible
date raises `SkippableRecordError` naming the field.

Mapped: `status.type` (M, MV, P, I, U, D, X, ...) through the shared taxonomy; code OT/OF is out
for delivery; the description refines what the type hides (returned to sender, delivered to a UPS
Access Point = available for pickup); code SR and customs wording add a `customs.update`. The raw
code is kept as "type/code". Identity is the tracking number, local date and time, type and code:
the same scan from the Track API and from Track Alert gets the same event id (UPS's own advice
for de-duplicating Track Alert). A package's `referenceNumber` entries (the shipper's reference
1/2: order or PO numbers, RMA numbers) are kept as `order` / `return` references, and a service
described as a return gives `direction="return"` (`connectors.carriers._returns`).
UPS states no language for its descriptions (they follow the
request's locale), so none is set. Authentication (bearer token / credential) is the receiver's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import Connector, HttpIntake
from connectors.boundary import ignored, load_json_object, translate_errors, unrecognized
from connectors.carriers._common import (
    Scan,
    ScanTime,
    build_events,
    compact_wall_time,
    country_code,
    join_location,
    list_at,
    mapping_at,
    optional_mapping,
    required_text,
    text_at,
    tracking_case,
    utc_and_wall_time,
    wall_scan_time,
)
from connectors.carriers._customs import recognize_customs
from connectors.carriers._returns import direction_of, split_references
from connectors.carriers._status import (
    UPS_CUSTOMS_CODES,
    UPS_STATUS_TYPES,
    ups_status,
    with_customs,
)
from connectors.carriers._zones import Place, resolve_zone
from schemas.events import CanonicalEvent

SOURCE = "ups"
CARRIER = "ups"


@translate_errors(SOURCE)
def parse(
    raw: bytes, *, received_at: datetime, headers: Mapping[str, str] | None = None
) -> list[CanonicalEvent]:
    """Normalize a UPS Track API response or a Track Alert event into shipment events.

    Args:
        raw: the body as received.
        received_at: when the hub received it (used when a local time cannot be placed).
        headers: not needed; the body says which of the two formats it is.

    Returns:
        One `shipment.update` per activity (oldest first) plus `customs.update` events.

    Raises:
        SkippableRecordError: neither format, or an unreadable field (named).
    """
    document = load_json_object(raw)
    if "trackResponse" in document:
        return _track_response(document, received_at)
    if "trackingNumber" in document:
        return _track_alert(document, received_at)
    raise unrecognized(
        "neither a Track API response (trackResponse) nor a Track Alert event (trackingNumber)"
    )


def _track_response(document: Mapping[str, Any], received_at: datetime) -> list[CanonicalEvent]:
    response = mapping_at(document.get("trackResponse"), "trackResponse")
    events: list[CanonicalEvent] = []
    packages = 0
    for s, shipment in enumerate(list_at(response.get("shipment"), "trackResponse.shipment")):
        where = f"trackResponse.shipment[{s}]"
        shipment = mapping_at(shipment, where)
        inquiry = text_at(shipment.get("inquiryNumber"), f"{where}.inquiryNumber")
        for p, package in enumerate(list_at(shipment.get("package"), f"{where}.package")):
            packages += 1
            events += _package_events(
                mapping_at(package, f"{where}.package[{p}]"), f"{where}.package[{p}]",
                inquiry=inquiry, received_at=received_at,
            )
    return events if packages else ignored(SOURCE, "Track API response without packages",
                                            kind="track response without packages")


def _package_events(
    package: Mapping[str, Any], where: str, *, inquiry: str | None, received_at: datetime
) -> list[CanonicalEvent]:
    number = required_text(package.get("trackingNumber"), f"{where}.trackingNumber")
    scans = []
    for i, activity in enumerate(list_at(package.get("activity"), f"{where}.activity")):
        at = f"{where}.activity[{i}]"
        activity = mapping_at(activity, at)
        address = optional_mapping(
            optional_mapping(activity.get("location"), f"{at}.location").get("address"),
            f"{at}.location.address",
        )
        wall = compact_wall_time(
            activity.get("date"), activity.get("time"),
            where_date=f"{at}.date", where_time=f"{at}.time",
        )
        place = _place(address, f"{at}.location.address", ("countryCode", "country"))
        if activity.get("gmtDate") is not None:
            utc_wall = compact_wall_time(
                activity.get("gmtDate"), activity.get("gmtTime"),
                where_date=f"{at}.gmtDate", where_time=f"{at}.gmtTime",
            )
            time = utc_and_wall_time(wall, utc_wall, place=place)
        else:
            time = _with_stated_offset(
                wall, text_at(activity.get("gmtOffset"), f"{at}.gmtOffset"), place, received_at
            )
        scans.append(
            _scan(
                number,
                optional_mapping(activity.get("status"), f"{at}.status"),
                f"{at}.status",
                time=time,
                identity=(wall.strftime("%Y%m%d"), wall.strftime("%H%M%S")),
                place=place,
                city=text_at(address.get("city"), f"{at}.location.address.city"),
            )
        )
    orders, returns = split_references(
        (text_at(entry.get("number"), f"{where}.referenceNumber[{i}].number"),
         text_at(entry.get("type"), f"{where}.referenceNumber[{i}].type"))
        for i, entry in enumerate(
            mapping_at(item, f"{where}.referenceNumber[{i}]")
            for i, item in enumerate(list_at(package.get("referenceNumber"),
                                             f"{where}.referenceNumber"))
        )
    )
    service = optional_mapping(package.get("service"), f"{where}.service")
    case = tracking_case(number, order_ids=orders, other_tracking=[inquiry], return_ids=returns)
    return build_events(
        "ups", scans, case=case, received_at=received_at, listed_newest_first=True,
        direction=direction_of(text_at(service.get("description"), f"{where}.service.description")),
    )


def _track_alert(document: Mapping[str, Any], received_at: datetime) -> list[CanonicalEvent]:
    number = required_text(document.get("trackingNumber"), "trackingNumber")
    location = optional_mapping(document.get("activityLocation"), "activityLocation")
    place = _place(location, "activityLocation", ("country",))
    wall = compact_wall_time(
        document.get("localActivityDate"), document.get("localActivityTime"),
        where_date="localActivityDate", where_time="localActivityTime",
    )
    if document.get("gmtActivityDate") is not None:
        utc_wall = compact_wall_time(
            document.get("gmtActivityDate"), document.get("gmtActivityTime"),
            where_date="gmtActivityDate", where_time="gmtActivityTime",
        )
        time = utc_and_wall_time(wall, utc_wall, place=place)
    else:
        time = wall_scan_time(wall, place=place, received_at=received_at)
    scan = _scan(
        number,
        optional_mapping(document.get("activityStatus"), "activityStatus"),
        "activityStatus",
        time=time,
        identity=(wall.strftime("%Y%m%d"), wall.strftime("%H%M%S")),
        place=place,
        city=text_at(location.get("city"), "activityLocation.city"),
    )
    return build_events("ups", [scan], case=tracking_case(number), received_at=received_at)


def _scan(
    number: str,
    status: Mapping[str, Any],
    where: str,
    *,
    time: ScanTime,
    identity: tuple[str, str],
    place: Place,
    city: str | None,
) -> Scan:
    status_type = text_at(status.get("type"), f"{where}.type")
    code = text_at(status.get("code"), f"{where}.code")
    description = text_at(status.get("description"), f"{where}.description")
    customs = recognize_customs(
        description, code_status=UPS_CUSTOMS_CODES.get((code or "").upper())
    )
    raw_status = "/".join(part for part in (status_type, code) if part)
    return Scan(
        tracking_number=number,
        carrier=CARRIER,
        status=with_customs(ups_status(status_type, code, description), customs),
        raw_status=raw_status,
        raw_description=description,
        time=time,
        identity=(*identity, (status_type or "").upper(), (code or "").upper(),
                  "" if code else (description or "").casefold()),
        country=place.country,
        location=join_location(city, place.state, place.country),
        customs=customs,
    )


def _place(address: Mapping[str, Any], where: str, country_keys: tuple[str, ...]) -> Place:
    country = None
    for key in country_keys:
        country = country or country_code(address.get(key))
    return Place(
        country=country,
        state=text_at(address.get("stateProvince"), f"{where}.stateProvince"),
        city=text_at(address.get("city"), f"{where}.city"),
    )


def _with_stated_offset(
    wall: datetime, offset_text: str | None, place: Place, received_at: datetime
) -> ScanTime:
    """A Track API activity with `gmtOffset` ("-05:00", also written "-05.00") but no GMT time."""
    offset = _offset(offset_text)
    if offset is None:
        return wall_scan_time(wall, place=place, received_at=received_at)
    local = wall.replace(tzinfo=timezone(offset))
    zone = resolve_zone(place)
    utc = local.astimezone(UTC)
    if zone is not None and local.astimezone(ZoneInfo(zone)).utcoffset() != offset:
        zone = None
    return ScanTime(utc=utc, local=local, zone=zone, source="provider")


def _offset(text: str | None) -> timedelta | None:
    if not text:
        return None
    cleaned = text.replace(".", ":")
    sign = -1 if cleaned.startswith("-") else 1
    hours, _, minutes = cleaned.lstrip("+-").partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()):
        return None
    offset = sign * timedelta(hours=int(hours), minutes=int(minutes or 0))
    return offset if abs(offset) <= timedelta(hours=14) else None


CONNECTOR = Connector(
    source="ups",
    kind="carrier",
    signature_scheme="ups-credential",
    parse=parse,
    description="UPS Track API and Track Alert: scans with local times placed in their zone",
    http=HttpIntake(signature_headers=("credential", "authorization")),
    status_table=UPS_STATUS_TYPES,
)
