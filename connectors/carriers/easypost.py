"""EasyPost trackers: `tracker.created` / `tracker.updated` Event webhooks and bare Tracker objects.

Body: an Event `{"object": "Event", "description": "tracker.updated", "result": <Tracker>}` or a
Tracker `{"object": "Tracker", ...}` (what `POST/GET /trackers` return). Other Event
descriptions (batch.*, shipment.invoice.*, refund.*, scan_form.*, payment.*...) are ignored.

Each `tracking_details[]` entry becomes a `shipment.update` (plus a `customs.update` when its
message is a customs milestone). `status` (pre_transit, in_transit, out_for_delivery, delivered,
available_for_pickup, return_to_sender, failure, cancelled, error, unknown) maps through the
shared taxonomy; `status_detail` "return" also means returned to sender and "lost"/"damaged"
set `reason_code`. `tracking_location.country` is the scan country. The Tracker's own `status`
is emitted last, timed at its `updated_at`, only when it differs from the latest detail's (a
tracker flipped to return_to_sender or failure without a matching scan). `is_return` gives the
shipment direction. Times are ISO 8601 in UTC ("Z") and are taken as such. EasyPost states no
language for carrier messages, so none is set. The Event `id` is not part of the event ids:
detail ids are built from the tracker's carrier, tracking code and each detail's own fields so
that a tracker.updated redelivering the whole history gives the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import Connector, HttpIntake
from connectors.boundary import ignored, load_json_object, translate_errors, unrecognized
from connectors.carriers._common import (
    Scan,
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
)
from connectors.carriers._customs import recognize_customs
from connectors.carriers._status import (
    EASYPOST_DETAIL_REASONS,
    EASYPOST_STATUSES,
    easypost_status,
    with_customs,
)
from connectors.carriers._zones import Place
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent, Direction

SOURCE = "easypost"
_TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


@translate_errors(SOURCE)
def parse(
    raw: bytes, *, received_at: datetime, headers: Mapping[str, str] | None = None
) -> list[CanonicalEvent]:
    """Normalize an EasyPost tracker Event or Tracker into shipment and customs events.

    Args:
        raw: the webhook body (or API response) as received.
        received_at: when the hub received it.
        headers: not needed (`X-Hmac-Signature` is checked before parsing).

    Returns:
        One `shipment.update` per tracking detail, oldest first, plus `customs.update` events
        and the tracker's current status when it differs; [] for non-tracker Events.

    Raises:
        SkippableRecordError: neither an Event nor a Tracker, or an unreadable field (named).
    """
    document = load_json_object(raw)
    kind = document.get("object")
    if kind == "Event":
        description = text_at(document.get("description"), "description")
        if description not in _TRACKER_EVENTS:
            return ignored(SOURCE, f"Event {description!r}", kind=str(description))
        tracker = mapping_at(document.get("result"), "result")
        if tracker.get("object") not in (None, "Tracker"):
            raise SkippableRecordError(f"result: expected a Tracker, got {tracker.get('object')!r}")
        return _tracker_events(tracker, "result", received_at)
    if kind == "Tracker":
        return _tracker_events(document, "", received_at)
    raise unrecognized(f"object: expected 'Event' or 'Tracker', got {kind!r}")


def _tracker_events(
    tracker: Mapping[str, Any], prefix: str, received_at: datetime
) -> list[CanonicalEvent]:
    def at(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    number = required_text(tracker.get("tracking_code"), at("tracking_code"))
    carrier = (text_at(tracker.get("carrier"), at("carrier")) or "easypost").lower()
    direction = _direction(tracker.get("is_return"))
    scans = [
        _detail_scan(mapping_at(detail, at(f"tracking_details[{i}]")),
                     at(f"tracking_details[{i}]"), number=number, carrier=carrier,
                     direction=direction, received_at=received_at)
        for i, detail in enumerate(list_at(tracker.get("tracking_details"), at("tracking_details")))
    ]
    status = text_at(tracker.get("status"), at("status"))
    current = None
    if status is not None:
        detail_code = text_at(tracker.get("status_detail"), at("status_detail"))
        updated = tracker.get("updated_at")
        current = Scan(
            tracking_number=number,
            carrier=carrier,
            status=easypost_status(status, detail_code),
            raw_status=status,
            raw_description=None,
            time=(
                received_time(received_at)
                if updated is None
                else iso_scan_time(updated, where=at("updated_at"), place=None,
                                   received_at=received_at)
            ),
            identity=("tracker", status, detail_code),
            reason_code=EASYPOST_DETAIL_REASONS.get((detail_code or "").lower()),
            raw_reason=detail_code if (detail_code or "").lower() in EASYPOST_DETAIL_REASONS
            else None,
            direction=direction,
        )
    return build_events(
        "easypost", scans, case=tracking_case(number), received_at=received_at, current=current
    )


def _detail_scan(
    detail: Mapping[str, Any],
    where: str,
    *,
    number: str,
    carrier: str,
    direction: Direction | None,
    received_at: datetime,
) -> Scan:
    location = optional_mapping(detail.get("tracking_location"), f"{where}.tracking_location")
    country = country_code(location.get("country"))
    state = text_at(location.get("state"), f"{where}.tracking_location.state")
    city = text_at(location.get("city"), f"{where}.tracking_location.city")
    status = text_at(detail.get("status"), f"{where}.status")
    status_detail = text_at(detail.get("status_detail"), f"{where}.status_detail")
    message = text_at(detail.get("message"), f"{where}.message")
    description = text_at(detail.get("description"), f"{where}.description")
    stamp = detail.get("datetime")
    time = (
        received_time(received_at)
        if stamp is None
        else iso_scan_time(stamp, where=f"{where}.datetime",
                           place=Place(country=country, state=state, city=city),
                           received_at=received_at)
    )
    customs = recognize_customs(message, description)
    reason = EASYPOST_DETAIL_REASONS.get((status_detail or "").lower())
    return Scan(
        tracking_number=number,
        carrier=carrier,
        status=with_customs(easypost_status(status, status_detail), customs),
        raw_status=status or "",
        raw_description=message or description,
        time=time,
        identity=(stamp, status, status_detail, message, city),
        country=country,
        location=join_location(city, state, country),
        customs=customs,
        reason_code=reason,
        raw_reason=status_detail if reason else None,
        direction=direction,
    )


def _direction(is_return: Any) -> Direction | None:
    if is_return is True:
        return "return"
    if is_return is False:
        return "outbound"
    return None


CONNECTOR = Connector(
    source="easypost",
    kind="carrier",
    signature_scheme="easypost-hmac-sha256",
    parse=parse,
    description="EasyPost trackers: tracking details, returns to sender, customs scans",
    http=HttpIntake(
        signature_headers=("x-hmac-signature", "x-hmac-signature-v2", "x-timestamp", "x-path"),
    ),
    status_table=EASYPOST_STATUSES,
)
