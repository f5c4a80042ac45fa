"""Mercado Libre post-purchase resources: claims, their returns and their messages.

Mercado Libre notifications (`{"resource", "topic", "user_id", "application_id", ...}`) are only
hints: the hub fetches the resource they name and produces the fetched body to
`raw.mercadolibre`. Accepted records:
- a claim (`GET /post-purchase/v1/claims/{id}`) or a claim search page (`{"paging", "data"}`);
- a claim's return (`GET /post-purchase/v2/claims/{id}/returns`);
- a claim's messages (`GET /post-purchase/v1/claims/{id}/messages`, a bare JSON array). The array
  names neither its claim nor its site, so the fetcher passes the path it fetched in the header
  `x-mercadolibre-resource` (required) and the claim's site in `x-mercadolibre-site-id`.
A notification hint itself is ignored.

Mapped:
    claim of type return(s): opened -> return.requested, closed -> return.closed
    other claims (mediations...): opened in stage claim -> dispute.opened, opened in a later
        stage (dispute, recontact...) -> dispute.updated, closed -> dispute.closed
    return status pending -> return.approved (the return exists, its label does not yet)
    return status label_generated -> return.label_created (+ return Shipment when tracked)
    return status shipped / delivered / not_delivered / return_to_buyer -> shipment.update
    return status cancelled / expired / closed -> return.closed
    messages from the buyer (complainant) or the mediator -> dispute.updated carrying the text
Ignored: cancel_purchase / cancel_sale / change claims (the order feed carries cancellations),
returns in transitional states (failed, pending_*), messages written by the seller.

Reasons: `reason_id` families are PDD (product different or defective: not_as_described, unless
the id is known more precisely, e.g. PDD9939 "repentant buyer" -> changed_mind), PNR (product
not received: lost_in_transit) and CS (purchase cancelled: changed_mind); `raw_reason` keeps the
id. Times keep Mercado Libre's stated offset (the API answers in -04:00 whatever the site) as
`occurred_at_local`; no zone is inferred from the site. `marketplace` is the site id (MLB...) and
`buyer_country` its country; message text gets the site's language (MLB -> pt, Spanish-speaking
sites -> es) when the site is known, else the language the hub's detector finds in it. Return
parcels travel with Mercado Envios, named `mercadoenvios` as the carrier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from connectors.base import Connector, HttpIntake
from connectors.boundary import (
    collected,
    ignored,
    load_json,
    require,
    translate_errors,
    unrecognized,
)
from connectors.marketplaces._common import (
    field_time,
    first_time,
    id_text,
    list_or_empty,
    mapping_or_empty,
    marketplace_event,
    provider_time,
    refs,
    text_or_none,
)
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent, EventType, ReasonCode, Shipment, ShipmentStatus

SOURCE: Final = "mercadolibre"
CARRIER: Final = "mercadoenvios"

SITES: dict[str, tuple[str, str]] = {
    "MLA": ("AR", "es"), "MLB": ("BR", "pt"), "MLM": ("MX", "es"), "MLC": ("CL", "es"),
    "MCO": ("CO", "es"), "MLU": ("UY", "es"), "MPE": ("PE", "es"), "MLV": ("VE", "es"),
    "MEC": ("EC", "es"),
}
_KNOWN_REASONS: dict[str, ReasonCode] = {"PDD9939": "changed_mind"}
_REASON_FAMILIES: tuple[tuple[str, ReasonCode], ...] = (
    ("PDD", "not_as_described"), ("PNR", "lost_in_transit"), ("CS", "changed_mind"),
)
_RETURN_CLAIM_TYPES = frozenset({"return", "returns"})
_IGNORED_CLAIM_TYPES = frozenset({"cancel_purchase", "cancel_sale", "change"})
_RETURN_STATUS: dict[str, EventType] = {
    "pending": "return.approved",
    "label_generated": "return.label_created",
    "shipped": "shipment.update",
    "delivered": "shipment.update",
    "not_delivered": "shipment.update",
    "return_to_buyer": "shipment.update",
    "cancelled": "return.closed",
    "expired": "return.closed",
    "closed": "return.closed",
}
_SHIPMENT_STATUS: dict[str, ShipmentStatus] = {
    "pending": "pending",
    "ready_to_ship": "info_received",
    "shipped": "in_transit",
    "delivered": "delivered",
    "not_delivered": "exception",
    "cancelled": "exception",
    "return_to_buyer": "returned_to_sender",
}
_MESSAGES_PATH = re.compile(r"/claims/(\d+)/messages/?$")
_MESSAGE_AUTHORS = frozenset({"complainant", "mediator"})


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Turn one fetched Mercado Libre post-purchase resource into canonical events.

    Args:
        raw: the resource body exactly as the Mercado Libre API returned it.
        received_at: when the hub fetched it.
        headers: for a messages array, `x-mercadolibre-resource` (the fetched path) and
            optionally `x-mercadolibre-site-id`; unused otherwise.

    Returns:
        The canonical events; `[]` for notification hints and states the hub does not use.

    Raises:
        SkippableRecordError: unreadable body, an unknown resource shape, or missing fields.
    """
    document = load_json(raw)
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    if isinstance(document, list):
        return _messages(document, lowered, received_at)
    if not isinstance(document, Mapping):
        kind = type(document).__name__
        raise unrecognized(f"expected a JSON object or array, got {kind}")
    if isinstance(document.get("resource"), str) and "topic" in document:
        return ignored(SOURCE, f"notification hint for {document['resource']}",
                       kind="notification hint")
    if "paging" in document and "data" in document:
        return collected([
            _claim(mapping_or_empty(claim, "data[]"), received_at)
            for claim in list_or_empty(document["data"], "data")
        ])
    if "claim_id" in document and ("shipments" in document or "status_money" in document):
        return _return(document, received_at)
    if "reason_id" in document or "players" in document or "stage" in document:
        return _claim(document, received_at)
    raise unrecognized("not a Mercado Libre claim, claim return or claim messages body")


def reason_code(reason_id: str | None) -> ReasonCode | None:
    """The canonical reason of a Mercado Libre claim `reason_id` (PDD..., PNR..., CS...)."""
    if not reason_id:
        return None
    code = reason_id.strip().upper()
    if code in _KNOWN_REASONS:
        return _KNOWN_REASONS[code]
    for prefix, reason in _REASON_FAMILIES:
        if code.startswith(prefix):
            return reason
    return None


def _site_fields(site: str | None) -> dict[str, Any]:
    if not site:
        return {"marketplace": None, "buyer_country": None}
    known = SITES.get(site.upper())
    return {"marketplace": site.upper(), "buyer_country": known[0] if known else None}


def _claim(claim: Mapping[str, Any], received_at: datetime) -> list[CanonicalEvent]:
    claim_id = id_text(require(claim, "id"))
    status = str(require(claim, "status")).lower()
    claim_type = str(claim.get("type") or "").lower()
    stage = str(claim.get("stage") or "").lower()
    if claim_type in _IGNORED_CLAIM_TYPES:
        return ignored(SOURCE, f"claim {claim_id} of type {claim_type}",
                       kind=f"claim type {claim_type}")
    resource = str(claim.get("resource") or claim.get("resource_type") or "").lower()
    resource_id = id_text(claim.get("resource_id"))
    order_id = resource_id if resource in {"order", "purchase"} else None
    payment_id = resource_id if resource == "payment" else None
    resolution = mapping_or_empty(claim.get("resolution"), "resolution")
    event_type: EventType
    if status == "closed":
        event_type = "return.closed" if claim_type in _RETURN_CLAIM_TYPES else "dispute.closed"
        when = first_time(
            (resolution.get("date"), "resolution.date"),
            (resolution.get("date_created"), "resolution.date_created"),
            (claim.get("last_updated"), "last_updated"),
        )
    elif claim_type in _RETURN_CLAIM_TYPES:
        event_type = "return.requested"
        when = provider_time(claim.get("date_created"), "date_created")
    elif stage in {"", "claim"}:
        event_type = "dispute.opened"
        when = provider_time(claim.get("date_created"), "date_created")
    else:
        event_type = "dispute.updated"
        when = field_time(claim, "last_updated", "date_created")
    raw_reason = text_or_none(claim.get("reason_id"))
    return [
        marketplace_event(
            SOURCE,
            event_type,
            identity=(claim_id, claim_type, stage, status),
            when=when,
            received_at=received_at,
            references=refs(
                ("order", order_id), ("payment", payment_id), ("dispute", claim_id)
            ),
            order_id=order_id,
            reason_code=reason_code(raw_reason),
            raw_reason=raw_reason,
            **_site_fields(text_or_none(claim.get("site_id"))),
        )
    ]


def _site_of_items(orders: list[Mapping[str, Any]]) -> str | None:
    for order in orders:
        item_id = order.get("item_id")
        if isinstance(item_id, str) and item_id[:3].upper() in SITES:
            return item_id[:3].upper()
    return None


def _return_shipment(shipments: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    tracked = [leg for leg in shipments if id_text(leg.get("tracking_number"))]
    for leg in tracked:
        if str(leg.get("type") or "").lower() == "return":
            return leg
    return tracked[0] if tracked else None


def _return(document: Mapping[str, Any], received_at: datetime) -> list[CanonicalEvent]:
    return_id = id_text(require(document, "id"))
    claim_id = id_text(document.get("claim_id"))
    status = str(require(document, "status")).lower()
    event_type = _RETURN_STATUS.get(status)
    legs = [
        mapping_or_empty(leg, "shipments[]")
        for leg in list_or_empty(document.get("shipments"), "shipments")
    ]
    leg = _return_shipment(legs)
    if event_type is None or (event_type == "shipment.update" and leg is None):
        return ignored(SOURCE, f"return {return_id} in status {status}",
                       kind=f"return status {status}")
    orders = [
        mapping_or_empty(order, "orders[]")
        for order in list_or_empty(document.get("orders"), "orders")
    ]
    resource = str(document.get("resource_type") or document.get("resource") or "").lower()
    order_ids = [id_text(order.get("order_id")) for order in orders]
    if resource == "order":
        order_ids.insert(0, id_text(document.get("resource_id")))
    order_id = next((found for found in order_ids if found), None)
    shipment = _shipment(leg, status) if leg is not None else None
    if event_type == "return.closed":
        when = field_time(document, "date_closed", "last_updated")
    elif event_type == "return.approved":
        when = provider_time(document.get("date_created"), "date_created")
    else:
        when = field_time(document, "last_updated", "date_created")
    tracking = shipment.tracking_number if shipment else None
    return [
        marketplace_event(
            SOURCE,
            event_type,
            identity=(return_id, status, shipment.raw_status if shipment else None, tracking),
            when=when,
            received_at=received_at,
            references=refs(
                *(("order", found) for found in order_ids),
                ("return", return_id),
                ("dispute", claim_id),
                ("tracking", tracking),
            ),
            order_id=order_id,
            shipment=shipment,
            **_site_fields(_site_of_items(orders)),
        )
    ]


def _shipment(leg: Mapping[str, Any], return_status: str) -> Shipment:
    leg_status = str(leg.get("status") or return_status).lower()
    tracking_number = id_text(leg.get("tracking_number"))
    if tracking_number is None:
        raise SkippableRecordError("return shipment without a tracking_number")
    return Shipment(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=_SHIPMENT_STATUS.get(leg_status, "pending"),
        raw_status=leg_status,
        direction="return",
    )


def _messages(
    messages: list[Any], headers: Mapping[str, str], received_at: datetime
) -> list[CanonicalEvent]:
    path = headers.get("x-mercadolibre-resource")
    matched = _MESSAGES_PATH.search(path or "")
    if matched is None:
        raise SkippableRecordError(
            "claim messages array without an x-mercadolibre-resource header naming "
            "/post-purchase/v1/claims/{claim_id}/messages"
        )
    claim_id = matched.group(1)
    site = headers.get("x-mercadolibre-site-id")
    known = SITES.get(site.upper()) if site else None
    events: list[CanonicalEvent] = []
    for entry in messages:
        message = mapping_or_empty(entry, "messages[]")
        author = str(message.get("sender_role") or "").lower()
        text = text_or_none(message.get("message"))
        if author not in _MESSAGE_AUTHORS or text is None:
            continue
        when = field_time(message, "date_created", "message_date")
        events.append(
            marketplace_event(
                SOURCE,
                "dispute.updated",
                identity=(claim_id, "message", author, when.utc if when else None, text),
                when=when,
                received_at=received_at,
                references=refs(("dispute", claim_id)),
                text=text,
                language=known[1] if known else None,
                **_site_fields(site),
            )
        )
    if not events:
        return ignored(SOURCE, f"claim {claim_id} messages without buyer or mediator text",
                       kind="claim messages from the seller only")
    return events


CONNECTOR = Connector(
    source=SOURCE,
    kind="marketplace",
    signature_scheme="mercadolibre-x-signature",
    parse=parse,
    description="Mercado Libre post-purchase claims, claim returns and claim messages",
    http=HttpIntake(signature_headers=("x-signature", "x-request-id")),
)
