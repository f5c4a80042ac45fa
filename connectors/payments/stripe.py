"""Stripe: webhook Event objects (`{"object": "event", "type": ..., "data": {"object": ...}}`).

Mapped:
- `refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated` (a Refund):
  status `pending`/`requires_action` -> refund.requested, `succeeded` -> refund.succeeded,
  `failed`/`canceled` -> refund.failed with the refund's `failure_reason` as `raw_reason`.
- `charge.refunded` (a Charge): one event per refund listed inline in `charge.refunds.data`,
  by the same status rule. The event id comes from the refund id and its status, never from
  the webhook event id, so the refund reported again by `refund.updated` is the same event.
  Since API version 2022-11-15 the charge no longer embeds its refunds: the refund is then the
  increase of `amount_refunded` over `data.previous_attributes.amount_refunded`, one
  refund.succeeded of that amount at the event's `created`.

  What is provable of such a derived refund, and what is not. Provable: the charge, the amount
  the charge's refunded total grew by in this delivery, and the new total. The total only
  grows, so (charge, new total) names this increase exactly: its `refund_id` is
  `derived_refund_id(charge, new total)` ("ch_...:amount_refunded:4000"), the same for every
  redelivery. Not provable: which `re_` refund it is. One increase may be one refund or
  several created between two deliveries; Stripe counts a refund in `amount_refunded` when it
  is created, so a card refund that later fails (refund.failed) was counted here too; and two
  refunds of equal amount on one charge cannot be told apart by amount. So the derived id
  never claims a `re_` id: `possibly_same_refund` tells the case fold that a derived refund and
  a refund.* event of the same charge, currency and amount are possibly the same money, to be
  counted once. When the charge does embed its refunds, their `re_` ids are used and nothing
  is guessed. Without `previous_attributes.amount_refunded` the amount of this delivery is
  unknown and the event is ignored with that reason.
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

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, TypeGuard

from connectors.base import Connector, HttpIntake
from connectors.boundary import ignored, load_json_object, translate_errors, unrecognized
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
from schemas.errors import SkippableRecordError
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
_DERIVED_MARK = ":amount_refunded:"
_EVENT_TYPE = re.compile(r"[a-z][a-z_]*(\.[a-z_]+)+")
"""Stripe event types are lower-case dotted names (charge.refunded)."""


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
    if event.get("object") != "event" and not _EVENT_TYPE.fullmatch(str(event.get("type"))):
        kind = event.get("object")
        raise unrecognized(f"object: expected 'event' (a Stripe Event), got {kind!r}")
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
    return ignored(SOURCE, f"event type {event_type!r}", kind=event_type)


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
        return _derived_refund(event, charge, received_at=received_at)
    events: list[CanonicalEvent] = []
    for position, refund in enumerate(listed):
        if not isinstance(refund, Mapping):
            raise SkippableRecordError(f"field 'refunds.data.{position}' is not an object")
        events.append(
            _refund_event(event, refund, "charge.refunded", received_at=received_at, charge=charge)
        )
    return events


def derived_refund_id(charge_id: str, amount_refunded: int) -> str:
    """The refund id of the increase of a charge's refunded total to `amount_refunded` (minor
    units): `<charge id>:amount_refunded:<new total>` (see the module docstring)."""
    return f"{charge_id}{_DERIVED_MARK}{amount_refunded}"


def parse_derived_refund_id(refund_id: str) -> tuple[str, int] | None:
    """(charge id, new refunded total) of a derived refund id; None for a provider's `re_` id."""
    charge_id, mark, total = refund_id.rpartition(_DERIVED_MARK)
    if not mark or not charge_id.startswith(("ch_", "py_")) or not total.isdigit():
        return None
    return charge_id, int(total)


def possibly_same_refund(first: CanonicalEvent, second: CanonicalEvent) -> bool:
    """Whether two Stripe refund events may report the same money: one a refund derived from
    `charge.refunded`, the other a refund of the same charge, currency and amount.

    True does not prove they are one refund (two equal refunds of one charge look the same);
    the case fold counts such a pair once rather than twice. Two derived refunds, or two
    refunds with `re_` ids, are never "possibly the same": their ids already decide.
    """
    if first.source != SOURCE or second.source != SOURCE:
        return False
    if not first.refund_id or not second.refund_id:
        return False
    derived = [event for event in (first, second)
               if parse_derived_refund_id(event.refund_id or "") is not None]
    if len(derived) != 1:
        return False
    other = second if derived[0] is first else first
    parsed = parse_derived_refund_id(derived[0].refund_id or "")
    assert parsed is not None
    return (
        parsed[0] in other.reference_values("payment")
        and derived[0].money is not None
        and derived[0].money == other.money
    )


def _derived_refund(
    event: Mapping[str, Any], charge: Mapping[str, Any], *, received_at: datetime
) -> list[CanonicalEvent]:
    charge_id = require_text(charge, "id")
    previous = optional_object(optional_object(event, "data"), "previous_attributes")
    before, now = previous.get("amount_refunded"), charge.get("amount_refunded")
    if not _is_minor(before):
        return ignored(
            SOURCE,
            f"charge.refunded of {charge_id} without inline refunds or"
            " previous_attributes.amount_refunded: the refunded amount is unknown",
            kind="charge.refunded amount unknown",
        )
    if not _is_minor(now):
        raise SkippableRecordError("field 'data.object.amount_refunded' is not minor units")
    if now <= before:
        return ignored(
            SOURCE, f"charge.refunded of {charge_id} whose refunded total did not grow"
            f" ({before} -> {now})",
            kind="charge.refunded without increase",
        )
    currency = require_text(charge, "currency")
    try:
        money = STRIPE.to_money(now - before, currency)
    except ValueError as exc:
        raise SkippableRecordError(f"invalid amount_refunded / currency: {exc}") from exc
    refund_id = derived_refund_id(charge_id, now)
    refs = references(
        *_order_refs(charge),
        ("payment", charge_id),
        ("payment", _id_of(charge.get("payment_intent"), "payment_intent")),
    )
    return [
        payment_event(
            SOURCE,
            identity=("refund", refund_id, "succeeded"),
            type="refund.succeeded",
            when=_fact_time(event, charge, created=False),
            received_at=received_at,
            refs=refs,
            money=money,
            refund_id=refund_id,
            buyer_country=_buyer_country(charge),
        )
    ]


def _is_minor(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


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
            return ignored(SOURCE, f"{event_type} for uncaptured charge {object_id}",
                           kind=f"{event_type} uncaptured")
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
    http=HttpIntake(signature_headers=("stripe-signature",), replay="rejected"),
)

