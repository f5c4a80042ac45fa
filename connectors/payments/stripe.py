"""Stripe: webhook Event objects (`{"object": "event", "type": ..., "data": {"object": ...}}`).

Mapped:
- `refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated` (a Refund):
  status `pending`/`requires_action` -> refund.requested, `succeeded` -> refund.succeeded,
  `failed`/`canceled` -> refund.failed with the refund's `failure_reason` as `raw_reason`.
- `charge.refunded` (a Charge): one event per refund listed inline in `charge.refunds.data`,
  by the same status rule. The event id comes from the refund id and its status, never from
  the webhook event id, so the refund reported again by `refund.updated` is the same event.
  Since API version 2022-11-15 the charge no longer embeds its refunds; such a charge.refunded
  yields nothing and the refund.* events carry the refunds.
- `charge.dispute.created` -> dispute.opened, `charge.dispute.updated` -> dispute.updated,
  `charge.dispute.closed` -> dispute.closed with the outcome (`won`, `lost`, `warning_closed`,
  `prevented`) as `text`. Dispute reasons: fraudulent, unrecognized, debit_not_authorized ->
  fraud (Stripe asks for the same evidence as for fraud when the customer does not recognise
  the payment); product_not_received -> lost_in_transit; product_unacceptable ->
  not_as_described; everything else (duplicate, credit_not_processed, subscription_canceled,
  general...) -> other. `raw_reason` keeps Stripe's reason.
- `charge.succeeded`, `charge.captured` (only when the charge is captured: an uncaptured
  authorisation is not a capture) and `payment_intent.succeeded` -> payment.captured, with the
  charge id as identity so both reports of one capture are one event.
Every other event type is ignored.

Amounts are integer minor units read with Stripe's own exponents (`_minor_units.STRIPE`: ISK
two-decimal, MGA zero-decimal); currencies are lower-case in Stripe and upper-cased here.
`occurred_at` is the object's `created` for `*.created` events (when the refund or dispute came
to be) and the event's `created` for updates (when the change happened); Stripe times are Unix
seconds, so no local time or zone is known. References: the charge (`ch_`) and payment intent
(`pi_`) as payment, the refund (`re_`), the dispute (`dp_`/`du_`), and `metadata.order_id` /
`metadata.order_number` as order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from connectors.base import Connector
from connectors.boundary import ignored, load_json_object, translate_errors
from connectors.payments._common import (
    epoch_time,
    optional_list,
    optional_object,
    optional_text,
    payment_event,
    references,
    require_object,
    require_text,
    text_at,
)
from connectors.payments._minor_units import STRIPE
from hub.errors import SkippableRecordError
from schemas.events import CanonicalEvent, EventType, ReasonCode, ReferenceKind
from schemas.money import Money
from schemas.timestamps import SourceTime

SOURCE: Final = "stripe"

_REFUND_TYPES: dict[str, EventType] = {
    "pending": "refund.requested",
    "requires_action": "refund.requested",
    "succeeded": "refund.succeeded",
    "failed": "refund.failed",
    "canceled": "refund.failed",
}
_REFUND_REASONS: dict[str, ReasonCode] = {
    "fraudulent": "fraud",
    "duplicate": "other",
    "requested_by_customer": "other",
    "expired_uncaptured_charge": "other",
}
_DISPUTE_REASONS: dict[str, ReasonCode] = {
    "fraudulent": "fraud",
    "unrecognized": "fraud",
    "debit_not_authorized": "fraud",
    "product_not_received": "lost_in_transit",
    "product_unacceptable": "not_as_described",
}
_DISPUTE_TYPES: dict[str, EventType] = {
    "charge.dispute.created": "dispute.opened",
    "charge.dispute.updated": "dispute.updated",
    "charge.dispute.closed": "dispute.closed",
}
_REFUND_EVENTS = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)
_CAPTURE_EVENTS = frozenset({"charge.succeeded", "charge.captured", "payment_intent.succeeded"})
_ORDER_KEYS = ("order_id", "order_number")


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Normalize one Stripe webhook Event.

    Args:
        raw: the request body exactly as Stripe delivered it.
        received_at: when the hub received it (UTC).
        headers: unused; Stripe names the event type in the body.

    Returns:
        The canonical events the Event carries; [] for types the hub does not use.

    Raises:
        SkippableRecordError: the body is not a readable Stripe Event.
    """
    event = load_json_object(raw)
    event_type = require_text(event, "type")
    obj = require_object(event, "data", "object")
    if event_type in _REFUND_EVENTS:
        return [_refund_event(event, obj, event_type, received_at=received_at)]
    if event_type == "charge.refunded":
        return _charge_refunds(event, obj, received_at=received_at)
    if event_type in _DISPUTE_TYPES:
        return [_dispute_event(event, obj, event_type, received_at=received_at)]
    if event_type in _CAPTURE_EVENTS:
        return _capture_event(event, obj, event_type, received_at=received_at)
    return ignored(SOURCE, f"event type {event_type!r}")


def _refund_event(
    event: Mapping[str, Any],
    refund: Mapping[str, Any],
    event_type: str,
    *,
    received_at: datetime,
    charge: Mapping[str, Any] | None = None,
) -> CanonicalEvent:
    refund_id = require_text(refund, "id")
    status = require_text(refund, "status")
    canonical = _REFUND_TYPES.get(status)
    if canonical is None:
        raise SkippableRecordError(f"refund {refund_id} has unknown status {status!r}")
    charge = charge or {}
    refs = references(
        *_order_refs(refund, charge),
        ("payment", _id_of(refund.get("charge"), "charge") or text_at(charge, "id")),
        ("payment", _id_of(refund.get("payment_intent"), "payment_intent")
         or _id_of(charge.get("payment_intent"), "payment_intent")),
        ("refund", refund_id),
    )
    reason = text_at(refund, "reason")
    failed = canonical == "refund.failed"
    return payment_event(
        SOURCE,
        identity=("refund", refund_id, status),
        type=canonical,
        when=_fact_time(event, refund, created=event_type == "refund.created"),
        received_at=received_at,
        refs=refs,
        money=_money(refund, "amount"),
        refund_id=refund_id,
        reason_code=None if failed else _REFUND_REASONS.get(reason or ""),
        raw_reason=(text_at(refund, "failure_reason") or status) if failed else reason,
        buyer_country=_buyer_country(charge),
    )


def _charge_refunds(
    event: Mapping[str, Any], charge: Mapping[str, Any], *, received_at: datetime
) -> list[CanonicalEvent]:
    listed = optional_list(optional_object(charge, "refunds"), "data")
    if not listed:
        return ignored(SOURCE, "charge.refunded without inline refunds (see refund.* events)")
    events: list[CanonicalEvent] = []
    for position, refund in enumerate(listed):
        if not isinstance(refund, Mapping):
            raise SkippableRecordError(f"field 'refunds.data.{position}' is not an object")
        events.append(
            _refund_event(event, refund, "charge.refunded", received_at=received_at, charge=charge)
        )
    return events


def _dispute_event(
    event: Mapping[str, Any],
    dispute: Mapping[str, Any],
    event_type: str,
    *,
    received_at: datetime,
) -> CanonicalEvent:
    dispute_id = require_text(dispute, "id")
    status = require_text(dispute, "status")
    canonical = _DISPUTE_TYPES[event_type]
    reason = text_at(dispute, "reason")
    if canonical == "dispute.opened":
        identity: tuple[object, ...] = ("dispute", dispute_id, "opened")
    elif canonical == "dispute.closed":
        identity = ("dispute", dispute_id, "closed", status)
    else:
        identity = ("dispute", dispute_id, "updated", require_text(event, "id"))
    refs = references(
        *_order_refs(dispute),
        ("payment", _id_of(dispute.get("charge"), "charge")),
        ("payment", _id_of(dispute.get("payment_intent"), "payment_intent")),
        ("dispute", dispute_id),
    )
    return payment_event(
        SOURCE,
        identity=identity,
        type=canonical,
        when=_fact_time(event, dispute, created=canonical == "dispute.opened"),
        received_at=received_at,
        refs=refs,
        money=_money(dispute, "amount"),
        reason_code=_DISPUTE_REASONS.get(reason or "", "other") if reason else None,
        raw_reason=reason,
        text=status if canonical == "dispute.closed" else None,
    )


def _capture_event(
    event: Mapping[str, Any], obj: Mapping[str, Any], event_type: str, *, received_at: datetime
) -> list[CanonicalEvent]:
    object_id = require_text(obj, "id")
    if event_type == "payment_intent.succeeded":
        charge_id = _id_of(obj.get("latest_charge"), "latest_charge")
        intent_id: str | None = object_id
        amount_field = "amount_received"
    else:
        if obj.get("captured") is not True:
            return ignored(SOURCE, f"{event_type} for uncaptured charge {object_id}")
        charge_id = object_id
        intent_id = _id_of(obj.get("payment_intent"), "payment_intent")
        amount_field = "amount_captured" if obj.get("amount_captured") else "amount"
    refs = references(*_order_refs(obj), ("payment", charge_id), ("payment", intent_id))
    return [
        payment_event(
            SOURCE,
            identity=("payment", charge_id or object_id, "captured"),
            type="payment.captured",
            when=_fact_time(event, obj, created=False),
            received_at=received_at,
            refs=refs,
            money=_money(obj, amount_field),
            buyer_country=_buyer_country(obj),
        )
    ]


def _fact_time(
    event: Mapping[str, Any], obj: Mapping[str, Any], *, created: bool
) -> SourceTime:
    if created:
        return epoch_time(obj.get("created"), "data.object.created")
    return epoch_time(event.get("created"), "created")


def _money(obj: Mapping[str, Any], field: str) -> Money:
    currency = require_text(obj, "currency")
    try:
        return STRIPE.to_money(obj.get(field), currency)
    except ValueError as exc:
        raise SkippableRecordError(f"invalid {field} / currency: {exc}") from exc


def _order_refs(*objects: Mapping[str, Any]) -> list[tuple[ReferenceKind, str | None]]:
    found: list[tuple[ReferenceKind, str | None]] = []
    for obj in objects:
        metadata = optional_object(obj, "metadata")
        found += [("order", optional_text(metadata.get(key), f"metadata.{key}"))
                  for key in _ORDER_KEYS]
    return found


def _id_of(value: Any, field: str) -> str | None:
    """A Stripe id that may be expanded into its object (`"ch_..."` or `{"id": "ch_..."}`)."""
    if isinstance(value, Mapping):
        return optional_text(value.get("id"), f"{field}.id")
    return optional_text(value, field)


def _buyer_country(charge: Mapping[str, Any]) -> str | None:
    for holder in ("shipping", "billing_details"):
        address = optional_object(optional_object(charge, holder), "address")
        country = text_at(address, "country")
        if country:
            return country.upper()
    return None


CONNECTOR = Connector(
    source=SOURCE,
    kind="payment",
    signature_scheme="stripe-signature",
    parse=parse,
    description="Stripe webhook events: refunds, disputes and captures",
)

