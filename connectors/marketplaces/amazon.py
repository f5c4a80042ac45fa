"""Amazon Selling Partner API: ORDER_CHANGE notifications and External Fulfillment returns.

Accepted records:
- an SP-API notification as JSON, either bare or wrapped the way it reaches us: an SQS message
  (`Body`/`body` holding the notification as a JSON string, also inside a Lambda `Records`
  batch) or an EventBridge event (`detail`). Old notifications use PascalCase keys, newer ones
  camelCase; both are read (keys are compared with their first letter lower-cased).
- an External Fulfillment Returns API return item (`GET /externalFulfillment/2024-09-11/returns/
  {returnId}`) or a `listReturns` page (`{"returns": [...]}`) as polled by the hub. SP-API has
  no push notification for customer returns; this resource is what an integration receives.

Mapped:
    ORDER_CHANGE, OrderStatusChange with OrderStatus Canceled        -> order.cancelled
    ORDER_CHANGE, BuyerRequestedChange whose ChangeReason is a cancel -> order.cancelled (the
        buyer's cancellation request; Amazon expects the seller to honour it, and `raw_reason`
        keeps "Buyer Requested Cancel" so it can be told from the final status change)
    return status CREATED                                    -> return.requested
    return status CARRIER_NOTIFIED_TO_PICK_UP_FROM_CUSTOMER  -> return.label_created (+Shipment)
    return statuses from pick-up to DELIVERED                -> shipment.update (direction return)
    return status REJECTED                                   -> return.rejected
    return status PROCESSED or CANCELLED                     -> return.closed

Ignored: other ORDER_CHANGE statuses and change reasons, every other notification type, and
PARTIALLY_PROCESSED returns. ORDER_CHANGE's `EventTime` is the publish time and can be earlier
than the change itself, so `OrderChangeTrigger.TimeOfOrderChange` is the time of the fact.
`marketplace` is the marketplace id (`A1VC38T7YXB528`); a return's marketplace name
(`AMAZON_IN$`, trailing `$` included) is mapped to its id. `buyer_country` is set only for
marketplaces whose buyers' addresses are domestic (Japan, Brazil, India). A return's
`returnReason` is mapped when it is one of Amazon's return reason codes (DEFECTIVE,
APPAREL_TOO_SMALL...); free text such as "Missed" stays in `raw_reason` only, and only on
return.* events.
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
    load_json_object,
    require,
    translate_errors,
    unrecognized,
)
from connectors.marketplaces._common import (
    first_time,
    id_text,
    list_or_empty,
    mapping_or_empty,
    marketplace_event,
    refs,
    text_or_none,
)
from schemas.events import CanonicalEvent, EventType, ReasonCode, Shipment, ShipmentStatus

SOURCE: Final = "amazon"

MARKETPLACE_COUNTRIES: dict[str, str] = {
    "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA", "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR", "A28R8C7NBKEWEA": "IE", "A1RKKUPIHCS9HS": "ES",
    "A1F83G8C2ARO7P": "GB", "A13V1IB3VIYZZH": "FR", "AMEN7PMS3EDWL": "BE",
    "A1805IZSGTT6HS": "NL", "A1PA6795UKMFR9": "DE", "APJ6JRA9NG5V4": "IT",
    "A2NODRKZP88ZB9": "SE", "AE08WJ6YKNBMC": "ZA", "A1C3SOZRARQ6R3": "PL",
    "ARBP9OOSHTCHU": "EG", "A33AVAJ2PDY3EV": "TR", "A17E79C6D8DWNP": "SA",
    "A2VIGQ35RCS4UG": "AE", "A21TJRUUN4KGV": "IN", "A19VAU5U5O7RUS": "SG",
    "A39IBJ37TRP1C6": "AU", "A1VC38T7YXB528": "JP",
}
_DOMESTIC_BUYERS: frozenset[str] = frozenset({"A1VC38T7YXB528", "A2Q3Y263D00KWC", "A21TJRUUN4KGV"})
_MARKETPLACE_BY_COUNTRY = {country: mid for mid, country in MARKETPLACE_COUNTRIES.items()}
_COUNTRY_ALIASES = {"UK": "GB"}

# Amazon's return reason codes (returns reports, Seller Central); free text stays unmapped.
_RETURN_REASONS: dict[str, ReasonCode] = {
    "DEFECTIVE": "defective",
    "QUALITY_UNACCEPTABLE": "defective",
    "DAMAGED_BY_CARRIER": "damaged",
    "DAMAGED_BY_FC": "damaged",
    "CUSTOMER_DAMAGED": "damaged",
    "NOT_AS_DESCRIBED": "not_as_described",
    "SWITCHEROO": "wrong_item",
    "ORDERED_WRONG_ITEM": "changed_mind",
    "UNWANTED_ITEM": "changed_mind",
    "FOUND_BETTER_PRICE": "changed_mind",
    "APPAREL_STYLE": "changed_mind",
    "APPAREL_TOO_SMALL": "size_fit",
    "APPAREL_TOO_LARGE": "size_fit",
    "MISSING_PARTS": "missing_parts",
    "MISSED_ESTIMATED_DELIVERY": "late_delivery",
    "NEVER_ARRIVED": "lost_in_transit",
    "UNAUTHORIZED_PURCHASE": "fraud",
    "NO_REASON_GIVEN": "other",
}
_RETURN_SHIPMENT_STATUS: dict[str, ShipmentStatus] = {
    "CARRIER_OUT_FOR_PICK_UP_FROM_CUSTOMER": "info_received",
    "CUSTOMER_RESCHEDULED_PICK_UP": "info_received",
    "CUSTOMER_CANCELLED_PICK_UP": "exception",
    "PICKED_FROM_CUSTOMER": "in_transit",
    "CUSTOMER_DROPPED_OFF": "in_transit",
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "DELIVERED": "delivered",
    "REPLANNED": "exception",
}
_RETURN_LIFECYCLE: dict[str, EventType] = {
    "CREATED": "return.requested",
    "CARRIER_NOTIFIED_TO_PICK_UP_FROM_CUSTOMER": "return.label_created",
    "REJECTED": "return.rejected",
    "PROCESSED": "return.closed",
    "CANCELLED": "return.closed",
}
_RETURNS_PAGE_KEYS = frozenset({"returns", "nextToken", "pagination"})
"""A listReturns page: its returns and the token of the next page, nothing else (a Shopify
order also has a `returns` list)."""
_MARKETPLACE_NAME = re.compile(r"^AMAZON_([A-Z]{2})\W*$")


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Turn one Amazon record (notification, SQS/EventBridge envelope, return item) into events.

    Args:
        raw: the record body as read from SQS / EventBridge or polled from SP-API.
        received_at: when the hub received the record.
        headers: unused; SQS and EventBridge carry no HTTP headers.

    Returns:
        The canonical events; `[]` for notification types and states the hub does not use.

    Raises:
        SkippableRecordError: unreadable body or envelope, or missing required fields.
    """
    return collected([
        _parse_document(_lower_first(document), received_at=received_at)
        for document in _unwrap(load_json_object(raw))
    ])


def _unwrap(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "Records" in document:
        found: list[Mapping[str, Any]] = []
        for record in list_or_empty(document["Records"], "Records"):
            found.extend(_unwrap(mapping_or_empty(record, "Records[]")))
        return found
    for key in ("Body", "body"):
        if key in document:
            body = document[key]
            if isinstance(body, str):
                return _unwrap(load_json_object(body.encode("utf-8")))
            return _unwrap(mapping_or_empty(body, f"SQS message {key}"))
    if isinstance(document.get("detail"), Mapping) and "detail-type" in document:
        return _unwrap(document["detail"])
    return [document]


def _lower_first(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {
            (key[:1].lower() + key[1:] if isinstance(key, str) else key): _lower_first(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_lower_first(item) for item in node]
    return node


def _parse_document(doc: Mapping[str, Any], *, received_at: datetime) -> list[CanonicalEvent]:
    notification_type = doc.get("notificationType")
    if notification_type is not None:
        if notification_type == "ORDER_CHANGE":
            return _order_change(doc, received_at=received_at)
        return ignored(SOURCE, f"notification {notification_type}",
                       kind=str(notification_type))
    if "returns" in doc and doc.keys() <= _RETURNS_PAGE_KEYS:
        return collected([
            _return_item(mapping_or_empty(item, "returns[]"), received_at)
            for item in list_or_empty(doc["returns"], "returns")
        ])
    if "returnShippingInfo" in doc or "returnMetadata" in doc:
        return _return_item(doc, received_at)
    raise unrecognized(
        "neither an SP-API notification (NotificationType), an SQS/EventBridge envelope "
        "nor an External Fulfillment return item"
    )


def _marketplace_fields(marketplace_id: str | None) -> dict[str, Any]:
    return {
        "marketplace": marketplace_id,
        "buyer_country": (
            MARKETPLACE_COUNTRIES[marketplace_id] if marketplace_id in _DOMESTIC_BUYERS else None
        ),
    }


def _order_change(doc: Mapping[str, Any], *, received_at: datetime) -> list[CanonicalEvent]:
    change = mapping_or_empty(
        require(doc, "payload", "orderChangeNotification"), "Payload.OrderChangeNotification"
    )
    order_id = id_text(require(change, "amazonOrderId"))
    change_type = require(change, "orderChangeType")
    trigger = mapping_or_empty(change.get("orderChangeTrigger"), "OrderChangeTrigger")
    summary = mapping_or_empty(require(change, "summary"), "Summary")
    status = text_or_none(summary.get("orderStatus"))
    change_reason = text_or_none(trigger.get("changeReason"))
    if change_type == "OrderStatusChange" and status == "Canceled":
        raw_reason = change_reason
    elif change_type == "BuyerRequestedChange" and "cancel" in (change_reason or "").lower():
        raw_reason = change_reason
    else:
        return ignored(SOURCE, f"ORDER_CHANGE {change_type} to {status} ({change_reason})",
                       kind=f"ORDER_CHANGE {change_type}")
    when = first_time(
        (trigger.get("timeOfOrderChange"), "OrderChangeTrigger.TimeOfOrderChange"),
        (doc.get("eventTime"), "EventTime"),
    )
    return [
        marketplace_event(
            SOURCE,
            "order.cancelled",
            identity=(order_id, change_type, status, when.utc if when else None),
            when=when,
            received_at=received_at,
            references=refs(("order", order_id)),
            order_id=order_id,
            raw_reason=raw_reason,
            **_marketplace_fields(id_text(summary.get("marketplaceId"))),
        )
    ]


def _return_marketplace(details: Mapping[str, Any]) -> str | None:
    channel = mapping_or_empty(details.get("marketplaceChannel"), "marketplaceChannel")
    name = text_or_none(channel.get("marketplaceName"))
    if name is None:
        return None
    matched = _MARKETPLACE_NAME.match(name.strip().upper())
    if matched is None:
        return name.strip()
    country = _COUNTRY_ALIASES.get(matched.group(1), matched.group(1))
    return _MARKETPLACE_BY_COUNTRY.get(country, name.strip())


def _return_item(item: Mapping[str, Any], received_at: datetime) -> list[CanonicalEvent]:
    return_id = id_text(require(item, "id"))
    status = str(require(item, "status"))
    details = mapping_or_empty(item.get("marketplaceChannelDetails"), "marketplaceChannelDetails")
    metadata = mapping_or_empty(item.get("returnMetadata"), "returnMetadata")
    shipping = mapping_or_empty(item.get("returnShippingInfo"), "returnShippingInfo")
    reverse = mapping_or_empty(shipping.get("reverseTrackingInfo"), "reverseTrackingInfo")
    forward = mapping_or_empty(shipping.get("forwardTrackingInfo"), "forwardTrackingInfo")
    order_id = id_text(details.get("customerOrderId"))
    reverse_tracking = id_text(reverse.get("trackingId"))
    event_type = _RETURN_LIFECYCLE.get(status)
    shipment_status = _RETURN_SHIPMENT_STATUS.get(status)
    if event_type is None and (shipment_status is None or reverse_tracking is None):
        return ignored(SOURCE, f"return {return_id} in status {status}",
                       kind=f"return status {status}")
    shipment = None
    if reverse_tracking is not None and (shipment_status or event_type == "return.label_created"):
        shipment = Shipment(
            carrier=text_or_none(reverse.get("carrierName")) or "unknown",
            tracking_number=reverse_tracking,
            status=shipment_status or "info_received",
            raw_status=status,
            direction="return",
        )
    created = status == "CREATED"
    when = first_time(
        (item.get("creationDateTime" if created else "lastUpdatedDateTime"), "return time"),
        (item.get("lastUpdatedDateTime"), "lastUpdatedDateTime"),
    )
    raw_reason = text_or_none(metadata.get("returnReason")) if event_type else None
    reason_key = re.sub(r"\W+", "_", raw_reason.strip().upper()) if raw_reason else ""
    return [
        marketplace_event(
            SOURCE,
            event_type or "shipment.update",
            identity=(return_id, status, when.utc if when else None),
            when=when,
            received_at=received_at,
            references=refs(
                ("order", order_id),
                ("return", return_id),
                ("return", id_text(metadata.get("rmaId"))),
                ("tracking", reverse_tracking),
                ("tracking", id_text(forward.get("trackingId"))),
            ),
            order_id=order_id,
            reason_code=_RETURN_REASONS.get(reason_key),
            raw_reason=raw_reason,
            shipment=shipment,
            **_marketplace_fields(_return_marketplace(details)),
        )
    ]


CONNECTOR = Connector(
    source=SOURCE,
    kind="marketplace",
    signature_scheme="amazon-sqs",
    parse=parse,
    description="Amazon SP-API ORDER_CHANGE notifications (SQS/EventBridge) and EF returns",
    http=HttpIntake(signature_headers=("x-hub-relay-token",)),
)
