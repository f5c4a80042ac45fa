"""AfterShip Tracking webhooks: `{event, event_id, is_tracking_first_tag, msg, ts}`.

`msg` is the tracking object (also accepted: the `{"meta", "data": {"tracking"}}` envelope of
`GET /trackings/...`, for records a poller produced). Only `event` "tracking_update" carries
checkpoints; other events (edd_revise, tracking_pending_time...) are ignored.

Each `checkpoints[]` entry becomes a `shipment.update` (plus `customs.update` for customs
milestones), oldest first. `tag`/`subtag` map through the shared taxonomy (Exception_010/011 are
returns to sender; InTransit_005/006 and Exception_004 are customs milestones, as are checkpoint
messages such as "International shipment release - Import"); Exception_012/013 set `reason_code`
damaged / lost_in_transit. `checkpoint_time` carries each checkpoint's own local offset, so one
payload mixes offsets (-05:00, +08:00, +09:00); a checkpoint time without offset is placed in its
country/state/city zone when certain. `country_iso3` (or `country_region` in newer API versions)
is converted to alpha-2.

The tracking's own `tag`/`subtag` is emitted last, at the tracking's `updated_at`, when it
differs from the latest checkpoint's: AfterShip or the merchant can mark a tracking
Exception_013 "Shipment lost" although its last checkpoint says Delivered, and that verdict must
reach the case. `order_id` (and `order_number`) on the tracking name the merchant's order: the
case key is then `order:<order_id>`, with the tracking number as a reference too (an RMA-shaped
number is a `return` reference, `connectors.carriers._returns`). A tracking the merchant marked
as a return only in words (`title` "Retoure #2207", `note`, `shipment_type`) gives every event
`direction="return"`. The tracking's `language` field is the customer's, not the checkpoint
messages', so no language is set.
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
    build_events,
    country_code,
    iso_scan_time,
    join_location,
    list_at,
    mapping_at,
    received_time,
    required_text,
    text_at,
    tracking_case,
)
from connectors.carriers._customs import recognize_customs
from connectors.carriers._returns import direction_of, split_references
from connectors.carriers._status import (
    AFTERSHIP_CUSTOMS_SUBTAGS,
    AFTERSHIP_REASONS,
    AFTERSHIP_TAGS,
    aftership_status,
    with_customs,
)
from connectors.carriers._zones import Place
from schemas.events import CanonicalEvent

SOURCE = "aftership"
_TRACKING_EVENTS = frozenset({"tracking_update"})
_WEBHOOK_EVENT = re.compile(r"[a-z][a-z_]*")
"""AfterShip names its webhook events in snake case (tracking_update, edd_revise...)."""


@translate_errors(SOURCE)
def parse(
    raw: bytes, *, received_at: datetime, headers: Mapping[str, str] | None = None
) -> list[CanonicalEvent]:
    """Normalize an AfterShip tracking webhook into shipment and customs events.

    Args:
        raw: the webhook body as received.
        received_at: when the hub received it.
        headers: not needed (`aftership-hmac-sha256` is checked before parsing).

    Returns:
        One `shipment.update` per checkpoint, oldest first, plus `customs.update` events and the
        tracking's current status when it differs from the last checkpoint; [] for other events.

    Raises:
        SkippableRecordError: no tracking object, or an unreadable field (named).
    """
    document = load_json_object(raw)
    event, msg = document.get("event"), document.get("msg")
    if isinstance(event, str) and _WEBHOOK_EVENT.fullmatch(event) and "msg" in document:
        if event not in _TRACKING_EVENTS:
            return ignored(SOURCE, f"webhook event {event!r}", kind=event)
        return _tracking_events(mapping_at(msg, "msg"), "msg", received_at)
    data = document.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("tracking"), Mapping):
        return _tracking_events(data["tracking"], "data.tracking", received_at)
    raise unrecognized(
        "missing field 'event' (not an AfterShip tracking webhook {event, msg} nor a"
        " {data: {tracking}} response)"
    )


def _tracking_events(
    tracking: Mapping[str, Any], where: str, received_at: datetime
) -> list[CanonicalEvent]:
    number = required_text(tracking.get("tracking_number"), f"{where}.tracking_number")
    slug = (text_at(tracking.get("slug"), f"{where}.slug") or "aftership").lower()
    scans = [
        _checkpoint_scan(mapping_at(checkpoint, f"{where}.checkpoints[{i}]"),
                         f"{where}.checkpoints[{i}]", number=number, slug=slug,
                         received_at=received_at)
        for i, checkpoint in enumerate(list_at(tracking.get("checkpoints"), f"{where}.checkpoints"))
    ]
    orders, returns = split_references(
        (text_at(tracking.get(field), f"{where}.{field}"), None)
        for field in ("order_id", "order_number")
    )
    case = tracking_case(number, order_ids=orders, return_ids=returns)
    direction = direction_of(*(
        text_at(tracking.get(field), f"{where}.{field}")
        for field in ("shipment_type", "title", "note")
    ))
    return build_events(
        "aftership", scans, case=case, received_at=received_at,
        current=_current(tracking, where, number=number, slug=slug, received_at=received_at),
        direction=direction,
    )


def _checkpoint_scan(
    checkpoint: Mapping[str, Any], where: str, *, number: str, slug: str, received_at: datetime
) -> Scan:
    tag = text_at(checkpoint.get("tag"), f"{where}.tag")
    subtag = text_at(checkpoint.get("subtag"), f"{where}.subtag")
    message = text_at(checkpoint.get("message"), f"{where}.message")
    country = country_code(checkpoint.get("country_region")) or country_code(
        checkpoint.get("country_iso3")
    )
    state = text_at(checkpoint.get("state"), f"{where}.state")
    city = text_at(checkpoint.get("city"), f"{where}.city")
    location = text_at(checkpoint.get("location"), f"{where}.location")
    stamp = checkpoint.get("checkpoint_time")
    time = (
        received_time(received_at)
        if stamp is None
        else iso_scan_time(stamp, where=f"{where}.checkpoint_time",
                           place=Place(country=country, state=state, city=city),
                           received_at=received_at)
    )
    customs = recognize_customs(message, code_status=AFTERSHIP_CUSTOMS_SUBTAGS.get(subtag or ""))
    reason = AFTERSHIP_REASONS.get(subtag or "")
    return Scan(
        tracking_number=number,
        carrier=(text_at(checkpoint.get("slug"), f"{where}.slug") or slug).lower(),
        status=with_customs(aftership_status(tag, subtag), customs),
        raw_status=subtag or tag or "",
        raw_description=message,
        time=time,
        identity=(stamp, subtag or tag, message, location or city),
        country=country,
        location=location or join_location(city, state, country),
        customs=customs,
        reason_code=reason,
        raw_reason=subtag if reason else None,
    )


def _current(
    tracking: Mapping[str, Any], where: str, *, number: str, slug: str, received_at: datetime
) -> Scan | None:
    tag = text_at(tracking.get("tag"), f"{where}.tag")
    subtag = text_at(tracking.get("subtag"), f"{where}.subtag")
    if tag is None and subtag is None:
        return None
    updated = tracking.get("updated_at")
    reason = AFTERSHIP_REASONS.get(subtag or "")
    return Scan(
        tracking_number=number,
        carrier=slug,
        status=aftership_status(tag, subtag),
        raw_status=subtag or tag or "",
        raw_description=text_at(tracking.get("subtag_message"), f"{where}.subtag_message"),
        time=(
            received_time(received_at)
            if updated is None
            else iso_scan_time(updated, where=f"{where}.updated_at", place=None,
                               received_at=received_at)
        ),
        identity=("tracking", tag, subtag),
        reason_code=reason,
        raw_reason=subtag if reason else None,
    )


CONNECTOR = Connector(
    source="aftership",
    kind="carrier",
    signature_scheme="aftership-hmac-sha256",
    parse=parse,
    description="AfterShip tracking webhooks: checkpoints, tag/subtag verdicts, order references",
    http=HttpIntake(
        signature_headers=(
            "aftership-hmac-sha256", "as-signature-hmac-sha256", "am-webhook-signature"),
    ),
    status_table=AFTERSHIP_TAGS,
)
