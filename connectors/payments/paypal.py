"""PayPal: REST webhook events (envelope v1: `id` WH-..., `event_type`, `create_time`, `resource`).

Mapped:
- `PAYMENT.CAPTURE.REFUNDED` (resource: a Payments v2 refund) by the refund's `status`:
  COMPLETED -> refund.succeeded, PENDING -> refund.requested, FAILED/CANCELLED -> refund.failed.
  The captured payment is the last path segment of the refund's `rel: "up"` link (or
  `supplementary_data.related_ids.capture_id`).
- `PAYMENT.CAPTURE.REVERSED` (resource: also a v2 refund, `note_to_payer` "Payment reversed"):
  PayPal itself took the captured money back to the buyer (after a chargeback or a dispute lost
  to the buyer), so it is a refund.succeeded with `raw_reason` "PAYMENT.CAPTURE.REVERSED"; the
  dispute side arrives separately as CUSTOMER.DISPUTE.*.
- `PAYMENT.CAPTURE.COMPLETED` (resource: a v2 capture) -> payment.captured.
- `CUSTOMER.DISPUTE.CREATED` -> dispute.opened, `CUSTOMER.DISPUTE.UPDATED` -> dispute.updated,
  `CUSTOMER.DISPUTE.RESOLVED` -> dispute.closed with `dispute_outcome.outcome_code` as `text`
  (resource: a v1 customer dispute). Reasons: MERCHANDISE_OR_SERVICE_NOT_RECEIVED ->
  lost_in_transit, MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED -> not_as_described, UNAUTHORISED
  -> fraud, anything else (CREDIT_NOT_PROCESSED, DUPLICATE_TRANSACTION, INCORRECT_AMOUNT...)
  -> other. `text` of an opened or updated dispute is the latest message's `content` as
  written (buyers write in their own language; PayPal does not state it, so no `language`).
Every other event type (authorizations, declined or pending captures, v1 PAYMENT.SALE.*,
CHECKOUT.*) is ignored.

Amounts are decimal strings (`"12.34"`, JPY `"1200"`), never minor units. Times are RFC 3339:
the envelope and disputes use `Z`, refunds and captures often carry the account's offset
(`-07:00`), which is kept as `occurred_at_local`. References: the capture (and the PayPal
checkout order) as payment, the refund, the dispute, and `invoice_id` / `custom_id` (on
disputes `invoice_number` / `custom`) as order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from connectors.base import Connector, HttpIntake
from connectors.boundary import (
    ignored,
    load_json_object,
    require,
    translate_errors,
    unrecognized,
)
from connectors.payments._common import (
    free_text,
    iso_time,
    optional_list,
    optional_object,
    optional_text,
    payment_event,
    references,
    require_object,
    require_text,
    text_at,
)
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent, EventType, ReasonCode, ReferenceKind
from schemas.money import Money
from schemas.timestamps import SourceTime

SOURCE: Final = "paypal"

_REFUND_TYPES: dict[str, EventType] = {
    "COMPLETED": "refund.succeeded",
    "PENDING": "refund.requested",
    "FAILED": "refund.failed",
    "CANCELLED": "refund.failed",
}
_DISPUTE_TYPES: dict[str, EventType] = {
    "CUSTOMER.DISPUTE.CREATED": "dispute.opened",
    "CUSTOMER.DISPUTE.UPDATED": "dispute.updated",
    "CUSTOMER.DISPUTE.RESOLVED": "dispute.closed",
}
_DISPUTE_REASONS: dict[str, ReasonCode] = {
    "MERCHANDISE_OR_SERVICE_NOT_RECEIVED": "lost_in_transit",
    "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED": "not_as_described",
    "UNAUTHORISED": "fraud",
    "UNAUTHORIZED": "fraud",
}
_REVERSED = "PAYMENT.CAPTURE.REVERSED"
_EVENT_TYPE = re.compile(r"[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+")
"""PayPal event types are upper-case dotted names (PAYMENT.CAPTURE.REFUNDED)."""


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Normalize one PayPal webhook event.

    Args:
        raw: the request body exactly as PayPal delivered it.
        received_at: when the hub received it (UTC).
        headers: unused; PayPal names the event type in the body.

    Returns:
        The canonical event the webhook carries; [] for types the hub does not use.

    Raises:
        SkippableRecordError: the body is not a readable PayPal webhook event.
    """
    envelope = load_json_object(raw)
    event_type = envelope.get("event_type")
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise unrecognized(f"missing field 'event_type' (not a PayPal webhook), got {event_type!r}")
    if not isinstance(envelope.get("resource"), Mapping):
        raise unrecognized(f"PayPal webhook {event_type} without a resource object")
    if event_type in ("PAYMENT.CAPTURE.REFUNDED", _REVERSED):
        resource = require_object(envelope, "resource")
        return [_refund_event(envelope, resource, event_type, received_at=received_at)]
    if event_type == "PAYMENT.CAPTURE.COMPLETED":
        resource = require_object(envelope, "resource")
        return [_capture_event(envelope, resource, received_at=received_at)]
    if event_type in _DISPUTE_TYPES:
        resource = require_object(envelope, "resource")
        return [_dispute_event(envelope, resource, event_type, received_at=received_at)]
    return ignored(SOURCE, f"event type {event_type!r}", kind=event_type)


def _refund_event(
    envelope: Mapping[str, Any],
    refund: Mapping[str, Any],
    event_type: str,
    *,
    received_at: datetime,
) -> CanonicalEvent:
    refund_id = require_text(refund, "id")
    status = require_text(refund, "status").upper()
    canonical = _REFUND_TYPES.get(status)
    if canonical is None:
        raise SkippableRecordError(f"refund {refund_id} has unknown status {status!r}")
    related = optional_object(optional_object(refund, "supplementary_data"), "related_ids")
    refs = references(
        *_order_refs(refund, "invoice_id", "custom_id"),
        ("payment", _capture_id(refund) or text_at(related, "capture_id")),
        ("payment", text_at(related, "order_id")),
        ("refund", refund_id),
    )
    if event_type == _REVERSED:
        raw_reason: str | None = _REVERSED
    elif canonical == "refund.failed":
        raw_reason = text_at(optional_object(refund, "status_details"), "reason") or status
    else:
        raw_reason = None
    return payment_event(
        SOURCE,
        identity=("refund", refund_id, status),
        type=canonical,
        when=_resource_time(envelope, refund, settled=canonical != "refund.requested"),
        received_at=received_at,
        refs=refs,
        money=_money(refund, "amount"),
        refund_id=refund_id,
        raw_reason=raw_reason,
        text=free_text(refund, "note_to_payer"),
    )


def _capture_event(
    envelope: Mapping[str, Any], capture: Mapping[str, Any], *, received_at: datetime
) -> CanonicalEvent:
    capture_id = require_text(capture, "id")
    related = optional_object(optional_object(capture, "supplementary_data"), "related_ids")
    refs = references(
        *_order_refs(capture, "invoice_id", "custom_id"),
        ("payment", capture_id),
        ("payment", text_at(related, "order_id")),
    )
    return payment_event(
        SOURCE,
        identity=("capture", capture_id, "captured"),
        type="payment.captured",
        when=_resource_time(envelope, capture, settled=True),
        received_at=received_at,
        refs=refs,
        money=_money(capture, "amount"),
    )


def _dispute_event(
    envelope: Mapping[str, Any],
    dispute: Mapping[str, Any],
    event_type: str,
    *,
    received_at: datetime,
) -> CanonicalEvent:
    dispute_id = require_text(dispute, "dispute_id")
    canonical = _DISPUTE_TYPES[event_type]
    transactions = [
        item for item in optional_list(dispute, "disputed_transactions")
        if isinstance(item, Mapping)
    ]
    refs = references(
        *(pair for item in transactions for pair in _order_refs(item, "invoice_number", "custom")),
        *(("payment", text_at(item, "seller_transaction_id")) for item in transactions),
        ("dispute", dispute_id),
    )
    when = _resource_time(envelope, dispute, settled=canonical != "dispute.opened")
    if canonical == "dispute.opened":
        identity: tuple[object, ...] = ("dispute", dispute_id, "opened")
    elif canonical == "dispute.closed":
        identity = ("dispute", dispute_id, "closed")
    else:
        identity = ("dispute", dispute_id, "updated", when.utc, text_at(dispute, "status"))
    outcome = text_at(optional_object(dispute, "dispute_outcome"), "outcome_code")
    reason = text_at(dispute, "reason")
    return payment_event(
        SOURCE,
        identity=identity,
        type=canonical,
        when=when,
        received_at=received_at,
        refs=refs,
        money=_dispute_money(dispute, transactions),
        reason_code=_DISPUTE_REASONS.get(reason.upper(), "other") if reason else None,
        raw_reason=reason,
        text=outcome if canonical == "dispute.closed" else _latest_message(dispute),
    )


def _resource_time(
    envelope: Mapping[str, Any], resource: Mapping[str, Any], *, settled: bool
) -> SourceTime:
    """The resource's update (settled) or creation time, else the envelope's `create_time`."""
    keys = ("update_time", "create_time") if settled else ("create_time",)
    for key in keys:
        if resource.get(key) is not None:
            return iso_time(resource[key], f"resource.{key}")
    return iso_time(require(envelope, "create_time"), "create_time")


def _money(obj: Mapping[str, Any], field: str) -> Money:
    amount = require_object(obj, field)
    value = require(amount, "value")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise SkippableRecordError(f"field '{field}.value' is not a decimal amount")
    return Money(amount=value, currency=require_text(amount, "currency_code"))


def _dispute_money(
    dispute: Mapping[str, Any], transactions: list[Mapping[str, Any]]
) -> Money | None:
    if dispute.get("dispute_amount") is not None:
        return _money(dispute, "dispute_amount")
    for item in transactions:
        if item.get("gross_amount") is not None:
            return _money(item, "gross_amount")
    return None


def _capture_id(refund: Mapping[str, Any]) -> str | None:
    for link in optional_list(refund, "links"):
        if isinstance(link, Mapping) and link.get("rel") == "up":
            href = text_at(link, "href") or ""
            if "/captures/" in href:
                return href.split("/captures/", 1)[1].split("?", 1)[0].strip("/") or None
    return None


def _order_refs(
    obj: Mapping[str, Any], *keys: str
) -> list[tuple[ReferenceKind, str | None]]:
    return [("order", optional_text(obj.get(key), key)) for key in keys]


def _latest_message(dispute: Mapping[str, Any]) -> str | None:
    messages = [m for m in optional_list(dispute, "messages") if isinstance(m, Mapping)]
    return free_text(messages[-1], "content") if messages else None


CONNECTOR = Connector(
    source=SOURCE,
    kind="payment",
    signature_scheme="paypal-verify",
    parse=parse,
    description="PayPal webhook events: capture refunds and reversals, disputes, captures",
    http=HttpIntake(
        signature_headers=(
            "paypal-transmission-id",
            "paypal-transmission-time",
            "paypal-transmission-sig",
            "paypal-cert-url",
            "paypal-auth-algo",
        ),
        kept_headers=("paypal-transmission-id", "paypal-transmission-time"),
    ),
)
