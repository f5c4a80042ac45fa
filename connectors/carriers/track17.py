"""17TRACK Tracking API v2.x push webhooks (`TRACKING_UPDATED`) for source "17track".

(The module is `track17` because a Python module name cannot start with a digit.)

Body: `{"event": "TRACKING_UPDATED", "data": {"number", "carrier", "param", "tag",
"track_info": {"latest_status", "latest_event", "tracking": {"providers": [{"provider",
"events": [...]}]}, ...}}}`. `TRACKING_STOPPED` and other events are ignored.

Each event of each provider (origin carrier, destination postal service...) becomes a
`shipment.update`, plus a `customs.update` for customs milestones: 17TRACK's
InTransit_CustomsProcessing / InTransit_CustomsReleased / InTransit_CustomsRequiringInformation
sub-statuses, or the carrier's own description, which for Chinese carriers is Chinese
("海关查验" inspection hold, "海关扣留" detention, "清关完成"/"放行" release). Statuses (NotFound,
InfoReceived, InTransit, Expired, AvailableForPickup, OutForDelivery, DeliveryFailure, Delivered,
Exception) and sub-statuses (Exception_Returning / Exception_Returned = returned to sender,
Exception_Lost, Exception_Damage) map through the shared taxonomy; an event's `sub_status`, else
its `stage`, is its raw status. `latest_status` is emitted last when it says more than the newest
event (Expired, Exception_Lost set by 17TRACK without a scan of their own); 17TRACK gives that
verdict no time, so it takes the receive time (`time_source="received"`).

Times: `time_iso` carries the scan's local offset (+08:00 in China, -07:00 in California, so
one payload mixes offsets) and is used as stated; a `time_iso` without offset is paired with
`time_utc`; a lone `time_utc` is the UTC instant. `data.tag`, the merchant's own tag of the
number, keeps its numbers as `order` (or RMA-shaped `return`) references, and a tag that says
"退货", "return", "返品"... marks the parcel as a return: `direction="return"` on every event.
`data.carrier` and `provider.key` are 17TRACK's
numeric carrier codes (`CARRIERS`). Descriptions are kept in their original language; 17TRACK's
payload does not state that language (`description_translation.lang` names a translation's
language, not the original's), so no `language` is set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import Connector, HttpIntake
from connectors.boundary import ignored, load_json_object, translate_errors, unrecognized
from connectors.carriers._common import (
    Scan,
    ScanTime,
    build_events,
    country_code,
    iso_scan_time,
    join_location,
    list_at,
    mapping_at,
    optional_mapping,
    received_time,
    required_text,
    text_at,
    tracking_case,
    utc_and_wall_time,
)
from connectors.carriers._customs import recognize_customs
from connectors.carriers._returns import direction_of, identifiers_in, split_references
from connectors.carriers._status import (
    TRACK17_CUSTOMS_SUB_STATUSES,
    TRACK17_REASONS,
    TRACK17_STATUSES,
    track17_status,
    with_customs,
)
from connectors.carriers._zones import Place
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent

SOURCE = "17track"
_UPDATED = "TRACKING_UPDATED"
_PUSH_EVENT = re.compile(r"[A-Z][A-Z_]*")
"""17TRACK names its push events in upper snake case (TRACKING_UPDATED, TRACKING_STOPPED)."""

CARRIERS: dict[int, str] = {
    3011: "china-post",
    190271: "cainiao",
    190094: "4px",
    100001: "dhl",
    100002: "ups",
    100003: "fedex",
    21051: "usps",
}
"""17TRACK's numeric carrier codes of the carriers the hub names; others become
"17track-<code>"."""


@translate_errors(SOURCE)
def parse(
    raw: bytes, *, received_at: datetime, headers: Mapping[str, str] | None = None
) -> list[CanonicalEvent]:
    """Normalize a 17TRACK push into shipment and customs events.

    Args:
        raw: the webhook body as received.
        received_at: when the hub received it.
        headers: not needed (the `sign` header is checked before parsing).

    Returns:
        One `shipment.update` per provider event, oldest first, plus `customs.update` events;
        [] for events other than TRACKING_UPDATED.

    Raises:
        SkippableRecordError: no `event`/`data`, or an unreadable field (named).
    """
    document = load_json_object(raw)
    event = document.get("event")
    if not isinstance(event, str) or not _PUSH_EVENT.fullmatch(event):
        raise unrecognized(f"missing field 'event' (not a 17TRACK push), got {event!r}")
    data = mapping_at(document.get("data"), "data")
    if event != _UPDATED:
        return ignored(SOURCE, f"push event {event!r}", kind=event)
    number = required_text(data.get("number"), "data.number")
    default_carrier = _carrier_name(data.get("carrier"), "data.carrier")
    info = optional_mapping(data.get("track_info"), "data.track_info")
    tracking = optional_mapping(info.get("tracking"), "data.track_info.tracking")
    scans: list[Scan] = []
    providers = list_at(tracking.get("providers"), "data.track_info.tracking.providers")
    for p, entry in enumerate(providers):
        where = f"data.track_info.tracking.providers[{p}]"
        entry = mapping_at(entry, where)
        provider = optional_mapping(entry.get("provider"), f"{where}.provider")
        carrier = (
            _carrier_name(provider.get("key"), f"{where}.provider.key")
            if provider.get("key") is not None
            else default_carrier
        )
        for i, item in enumerate(list_at(entry.get("events"), f"{where}.events")):
            scans.append(
                _scan(mapping_at(item, f"{where}.events[{i}]"), f"{where}.events[{i}]",
                      number=number, carrier=carrier, received_at=received_at)
            )
    current = _current(info, number=number, carrier=default_carrier, received_at=received_at)
    tag = text_at(data.get("tag"), "data.tag")
    orders, returns = split_references((token, None) for token in identifiers_in(tag))
    case = tracking_case(number, order_ids=orders, return_ids=returns)
    return build_events(
        "17track", scans, case=case, received_at=received_at, current=current,
        listed_newest_first=True, direction=direction_of(tag),
    )


def _scan(
    event: Mapping[str, Any], where: str, *, number: str, carrier: str, received_at: datetime
) -> Scan:
    address = optional_mapping(event.get("address"), f"{where}.address")
    country = country_code(address.get("country"))
    state = text_at(address.get("state"), f"{where}.address.state")
    city = text_at(address.get("city"), f"{where}.address.city")
    place = Place(country=country, state=state, city=city)
    sub_status = text_at(event.get("sub_status"), f"{where}.sub_status")
    stage = text_at(event.get("stage"), f"{where}.stage")
    description = text_at(event.get("description"), f"{where}.description")
    location = text_at(event.get("location"), f"{where}.location")
    customs = recognize_customs(
        description, code_status=TRACK17_CUSTOMS_SUB_STATUSES.get(sub_status or "")
    )
    reason = TRACK17_REASONS.get(sub_status or "")
    return Scan(
        tracking_number=number,
        carrier=carrier,
        status=with_customs(track17_status(None, sub_status, stage), customs),
        raw_status=sub_status or stage or "",
        raw_description=description,
        time=_event_time(event, where, place=place, received_at=received_at),
        identity=(event.get("time_iso") or event.get("time_utc"), sub_status or stage,
                  description, location),
        country=country,
        location=location or join_location(city, state, country),
        customs=customs,
        reason_code=reason,
        raw_reason=sub_status if reason else None,
    )


def _event_time(
    event: Mapping[str, Any], where: str, *, place: Place, received_at: datetime
) -> ScanTime:
    time_iso, time_utc = event.get("time_iso"), event.get("time_utc")
    if time_iso is not None:
        stated = iso_scan_time(time_iso, where=f"{where}.time_iso", place=place,
                               received_at=received_at)
        if stated.source == "provider" or time_utc is None:
            return stated
        utc = iso_scan_time(time_utc, where=f"{where}.time_utc", place=None,
                            received_at=received_at)
        if utc.source == "provider":
            wall = datetime.fromisoformat(str(time_iso))
            return utc_and_wall_time(wall, utc.utc.replace(tzinfo=None), place=place)
        return stated
    if time_utc is not None:
        return iso_scan_time(time_utc, where=f"{where}.time_utc", place=None,
                             received_at=received_at)
    return received_time(received_at)


def _current(
    info: Mapping[str, Any], *, number: str, carrier: str, received_at: datetime
) -> Scan | None:
    latest = optional_mapping(info.get("latest_status"), "data.track_info.latest_status")
    status = text_at(latest.get("status"), "data.track_info.latest_status.status")
    sub_status = text_at(latest.get("sub_status"), "data.track_info.latest_status.sub_status")
    if status is None and sub_status is None:
        return None
    reason = TRACK17_REASONS.get(sub_status or "")
    return Scan(
        tracking_number=number,
        carrier=carrier,
        status=track17_status(status, sub_status),
        raw_status=sub_status or status or "",
        raw_description=text_at(
            latest.get("sub_status_descr"), "data.track_info.latest_status.sub_status_descr"
        ),
        time=received_time(received_at),
        identity=("latest_status", status, sub_status),
        reason_code=reason,
        raw_reason=sub_status if reason else None,
    )


def _carrier_name(value: Any, where: str) -> str:
    code = text_at(value, where)
    if code is None:
        return "17track"
    if not code.isdigit():
        raise SkippableRecordError(f"{where}: expected a numeric 17TRACK carrier code, {code!r}")
    return CARRIERS.get(int(code), f"17track-{code}")


CONNECTOR = Connector(
    source="17track",
    kind="carrier",
    signature_scheme="17track-sha256",
    parse=parse,
    description="17TRACK push: multi-carrier events, Chinese customs scans, returns to sender",
    http=HttpIntake(signature_headers=("sign",)),
    status_table=TRACK17_STATUSES,
)
