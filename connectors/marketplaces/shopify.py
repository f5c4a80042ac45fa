"""Shopify Admin webhooks (REST-shaped JSON bodies, topic in the `x-shopify-topic` header).

Mapped topics:
    orders/create                          -> order.placed
    orders/cancelled                       -> order.cancelled (cancel_reason mapped)
    refunds/create                         -> refund.succeeded / refund.requested / refund.failed
    returns/request                        -> return.requested (return_reason mapped)
    returns/approve                        -> return.approved
    returns/decline                        -> return.rejected (decline reason and note)
    returns/close, returns/cancel          -> return.closed
    reverse_deliveries/attach_deliverable  -> return.label_created with a return Shipment

Every other topic is ignored. Choices:
- Money is the buyer's presentment currency (`*_set.presentment_money`): refund transactions are
  in that currency, so an order and its refunds compare like for like. Without `*_set` fields
  the shop-currency `total_price` + `currency` is used.
- A refund is one fact: its amount is the sum of its `kind=refund` transactions with
  `status=success` (several gateways may share one refund). With none successful, pending ones
  make a refund.requested, failed ones a refund.failed; a refund that moves no money (restock or
  note only) is ignored.
- Ids may be REST integers or GraphQL gids (`gid://shopify/Order/450789469`); both become the
  numeric string. `marketplace` is always "shopify" (the shop domain names a tenant, not a
  marketplace).
- Returns payloads carry no timestamp: `x-shopify-triggered-at` is the provider's time of the
  fact; without it the event is stamped `received_at` with `time_source="received"`.
- Without `x-shopify-topic` the topic is inferred only from unambiguous bodies (a refund, a
  reverse delivery, a return whose status names one topic); otherwise the record is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from connectors.marketplaces._common import (
    field_time,
    id_text,
    list_or_empty,
    mapping_or_empty,
    marketplace_event,
    provider_time,
    refs,
    text_or_none,
)
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent, EventType, ReasonCode, Shipment
from schemas.money import Money
from schemas.timestamps import SourceTime

SOURCE: Final = "shopify"
MARKETPLACE: Final = "shopify"

_RETURN_REASONS: dict[str, ReasonCode] = {
    "size_too_small": "size_fit",
    "size_too_large": "size_fit",
    "defective": "defective",
    "not_as_described": "not_as_described",
    "wrong_item": "wrong_item",
    "unwanted": "changed_mind",
    "style": "changed_mind",
    "color": "changed_mind",
    "other": "other",
    "unknown": "other",
}
_CANCEL_REASONS: dict[str, ReasonCode] = {
    "customer": "changed_mind",
    "fraud": "fraud",
    "inventory": "other",
    "declined": "other",
    "staff": "other",
    "other": "other",
}
_RETURN_TOPIC_BY_STATUS = {
    "requested": "returns/request",
    "declined": "returns/decline",
    "closed": "returns/close",
    "canceled": "returns/cancel",
}

_Handler = Callable[[Mapping[str, Any], "_Context"], list[CanonicalEvent]]


@dataclass(frozen=True, slots=True)
class _Context:
    """What every topic handler needs besides the body."""

    received_at: datetime
    triggered_at: SourceTime | None


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Turn one Shopify webhook delivery into canonical events.

    Args:
        raw: the webhook body exactly as Shopify posted it.
        received_at: when the hub received the delivery.
        headers: the delivery's HTTP headers (lower-case names); `x-shopify-topic` names the
            topic and `x-shopify-triggered-at` dates facts whose body has no timestamp.

    Returns:
        The canonical events of the delivery; `[]` for topics the hub does not use.

    Raises:
        SkippableRecordError: unreadable body, missing or inconsistent fields, or no topic
            header on a body whose topic cannot be told.
    """
    body = load_json_object(raw)
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    topic = lowered.get("x-shopify-topic") or _infer_topic(body)
    handler = _HANDLERS.get(topic.strip().lower())
    if handler is None:
        return ignored(SOURCE, f"topic {topic}", kind=topic.strip().lower())
    context = _Context(
        received_at=received_at,
        triggered_at=provider_time(lowered.get("x-shopify-triggered-at"), "x-shopify-triggered-at"),
    )
    return handler(body, context)


def _infer_topic(body: Mapping[str, Any]) -> str:
    if "shipping_deliverable" in body and "return" in body:
        return "reverse_deliveries/attach_deliverable"
    if "transactions" in body and "refund_line_items" in body:
        return "refunds/create"
    gid = body.get("admin_graphql_api_id")
    status = body.get("status")
    if isinstance(gid, str) and gid.startswith("gid://shopify/Return/") and isinstance(status, str):
        topic = _RETURN_TOPIC_BY_STATUS.get(status.lower())
        if topic is not None:
            return topic
    raise unrecognized(
        "missing x-shopify-topic header and the body does not tell its topic "
        "(an order or an open return fits several topics)"
    )


def shopify_id(value: object, *, resource: str) -> str:
    """The numeric id behind a REST id (`450789469`) or a GraphQL gid of the given resource.

    Raises:
        SkippableRecordError: not an id, or a gid of another resource.
    """
    text = id_text(value)
    if text is not None and text.startswith("gid://shopify/"):
        kind, _, tail = text.removeprefix("gid://shopify/").partition("/")
        if kind != resource:
            raise SkippableRecordError(f"{text} is not a gid://shopify/{resource}/ id")
        text = tail.split("?", 1)[0]
    if text is None or not text.isdigit():
        raise SkippableRecordError(f"not a Shopify {resource} id: {value!r}")
    return text


def _object_id(node: Mapping[str, Any], resource: str, what: str) -> str:
    value = node.get("id")
    if value is None:
        value = node.get("admin_graphql_api_id")
    if value is None:
        raise SkippableRecordError(f"missing field '{what}.id'")
    return shopify_id(value, resource=resource)


def _order_of(body: Mapping[str, Any]) -> str | None:
    order = body.get("order")
    if order is not None:
        return _object_id(mapping_or_empty(order, "order"), "Order", "order")
    if body.get("order_id") is not None:
        return shopify_id(body["order_id"], resource="Order")
    return None


def _money(node: Mapping[str, Any], field: str, currency_field: str) -> Money:
    presentment = mapping_or_empty(
        mapping_or_empty(node.get(f"{field}_set"), f"{field}_set").get("presentment_money"),
        f"{field}_set.presentment_money",
    )
    if presentment:
        return Money(
            amount=require(presentment, "amount"), currency=require(presentment, "currency_code")
        )
    return Money(amount=require(node, field), currency=require(node, currency_field))


def _buyer_country(order: Mapping[str, Any]) -> str | None:
    for address in ("shipping_address", "billing_address"):
        code = mapping_or_empty(order.get(address), address).get("country_code")
        if isinstance(code, str) and code.strip():
            return code.strip().upper()
    return None


def _order_placed(body: Mapping[str, Any], context: _Context) -> list[CanonicalEvent]:
    order_id = _object_id(body, "Order", "order")
    return [
        marketplace_event(
            SOURCE,
            "order.placed",
            identity=(order_id,),
            when=field_time(body, "processed_at", "created_at"),
            received_at=context.received_at,
            references=refs(("order", order_id)),
            order_id=order_id,
            marketplace=MARKETPLACE,
            money=_money(body, "total_price", "currency"),
            buyer_country=_buyer_country(body),
        )
    ]


def _order_cancelled(body: Mapping[str, Any], context: _Context) -> list[CanonicalEvent]:
    order_id = _object_id(body, "Order", "order")
    cancelled_at = provider_time(require(body, "cancelled_at"), "cancelled_at")
    raw_reason = text_or_none(body.get("cancel_reason"))
    return [
        marketplace_event(
            SOURCE,
            "order.cancelled",
            identity=(order_id, cancelled_at.utc if cancelled_at else None),
            when=cancelled_at,
            received_at=context.received_at,
            references=refs(("order", order_id)),
            order_id=order_id,
            marketplace=MARKETPLACE,
            money=_money(body, "total_price", "currency"),
            reason_code=_CANCEL_REASONS.get(raw_reason.lower()) if raw_reason else None,
            raw_reason=raw_reason,
            buyer_country=_buyer_country(body),
        )
    ]


def _refund(body: Mapping[str, Any], context: _Context) -> list[CanonicalEvent]:
    refund_id = _object_id(body, "Refund", "refund")
    order_id = shopify_id(require(body, "order_id"), resource="Order")
    linked_return = body.get("return")
    return_id = (
        _object_id(mapping_or_empty(linked_return, "return"), "Return", "return")
        if linked_return
        else None
    )
    moves = [
        mapping_or_empty(transaction, "transactions[]")
        for transaction in list_or_empty(body.get("transactions"), "transactions")
    ]
    refunds = [move for move in moves if str(move.get("kind", "")).lower() == "refund"]
    outcome = _refund_outcome(refunds)
    if outcome is None:
        return ignored(SOURCE, f"refund {refund_id} without a refund transaction",
                       kind="refund without a refund transaction")
    event_type, statuses = outcome
    counted = [move for move in refunds if str(move.get("status", "")).lower() in statuses]
    return [
        marketplace_event(
            SOURCE,
            event_type,
            identity=(refund_id,),
            when=field_time(body, "processed_at", "created_at"),
            received_at=context.received_at,
            references=refs(("order", order_id), ("return", return_id), ("refund", refund_id)),
            order_id=order_id,
            marketplace=MARKETPLACE,
            money=_sum_transactions(counted, _fallback_currency(body)),
            refund_id=refund_id,
            text=text_or_none(body.get("note")),
        )
    ]


def _refund_outcome(refunds: list[Mapping[str, Any]]) -> tuple[EventType, frozenset[str]] | None:
    statuses = {str(move.get("status", "")).lower() for move in refunds}
    if "success" in statuses:
        return "refund.succeeded", frozenset({"success"})
    if "pending" in statuses:
        return "refund.requested", frozenset({"pending"})
    if statuses & {"failure", "error"}:
        return "refund.failed", frozenset({"failure", "error"})
    return None


def _fallback_currency(refund: Mapping[str, Any]) -> str | None:
    for item in list_or_empty(refund.get("refund_line_items"), "refund_line_items"):
        subtotal = mapping_or_empty(
            mapping_or_empty(item, "refund_line_items[]").get("subtotal_set"), "subtotal_set"
        )
        code = mapping_or_empty(subtotal.get("presentment_money"), "presentment_money").get(
            "currency_code"
        )
        if isinstance(code, str):
            return code
    return None


def _sum_transactions(moves: list[Mapping[str, Any]], fallback_currency: str | None) -> Money:
    currencies = {move.get("currency") or fallback_currency for move in moves}
    if len(currencies) != 1 or None in currencies:
        raise SkippableRecordError(
            f"refund transactions name no single currency (found {sorted(map(str, currencies))})"
        )
    currency = str(currencies.pop())
    total = Money(amount=Decimal(0), currency=currency)
    for move in moves:
        total = total + Money(amount=require(move, "amount"), currency=currency)
    return total


def _return_reason(body: Mapping[str, Any]) -> tuple[ReasonCode | None, str | None, str | None]:
    lines = [
        mapping_or_empty(line, "return_line_items[]")
        for line in list_or_empty(body.get("return_line_items"), "return_line_items")
    ]
    raw = next((line["return_reason"] for line in lines if line.get("return_reason")), None)
    raw_reason = text_or_none(raw)
    notes = [text_or_none(line.get("customer_note")) for line in lines]
    if not any(notes):
        notes = [text_or_none(line.get("return_reason_note")) for line in lines]
    text = "\n".join(note for note in notes if note) or None
    code = _RETURN_REASONS.get(raw_reason.lower()) if raw_reason else None
    return code, raw_reason, text


def _return_event(event_type: EventType, state: str) -> _Handler:
    def handle(body: Mapping[str, Any], context: _Context) -> list[CanonicalEvent]:
        return_id = _object_id(body, "Return", "return")
        order_id = _order_of(body)
        fields: dict[str, Any] = {}
        if event_type == "return.requested":
            code, raw_reason, text = _return_reason(body)
            fields = {"reason_code": code, "raw_reason": raw_reason, "text": text}
        elif event_type == "return.rejected":
            decline = mapping_or_empty(body.get("decline"), "decline")
            fields = {
                "raw_reason": text_or_none(decline.get("reason")),
                "text": text_or_none(decline.get("note")),
            }
        return [
            marketplace_event(
                SOURCE,
                event_type,
                identity=(return_id, state),
                when=context.triggered_at,
                received_at=context.received_at,
                references=refs(("order", order_id), ("return", return_id)),
                order_id=order_id,
                marketplace=MARKETPLACE,
                **fields,
            )
        ]

    return handle


def _label_created(body: Mapping[str, Any], context: _Context) -> list[CanonicalEvent]:
    delivery_id = _object_id(body, "ReverseDelivery", "reverse_delivery")
    linked_return = mapping_or_empty(require(body, "return"), "return")
    return_id = _object_id(linked_return, "Return", "return")
    order_id = _order_of(linked_return) or _order_of(body)
    deliverable = mapping_or_empty(require(body, "shipping_deliverable"), "shipping_deliverable")
    tracking = mapping_or_empty(deliverable.get("tracking"), "shipping_deliverable.tracking")
    label = mapping_or_empty(deliverable.get("label"), "shipping_deliverable.label")
    tracking_number = id_text(tracking.get("tracking_number"))
    carrier = text_or_none(tracking.get("carrier_name"))
    shipment = None
    if tracking_number is not None:
        shipment = Shipment(
            carrier=carrier or "unknown",
            tracking_number=tracking_number,
            status="info_received",
            raw_status="label_created",
            direction="return",
        )
    when = provider_time(label.get("created_at"), "shipping_deliverable.label.created_at")
    return [
        marketplace_event(
            SOURCE,
            "return.label_created",
            identity=(delivery_id, tracking_number),
            when=when or context.triggered_at,
            received_at=context.received_at,
            references=refs(
                ("order", order_id), ("return", return_id), ("tracking", tracking_number)
            ),
            order_id=order_id,
            marketplace=MARKETPLACE,
            shipment=shipment,
        )
    ]


_HANDLERS: dict[str, _Handler] = {
    "orders/create": _order_placed,
    "orders/cancelled": _order_cancelled,
    "refunds/create": _refund,
    "returns/request": _return_event("return.requested", "requested"),
    "returns/approve": _return_event("return.approved", "open"),
    "returns/decline": _return_event("return.rejected", "declined"),
    "returns/close": _return_event("return.closed", "closed"),
    "returns/cancel": _return_event("return.closed", "canceled"),
    "reverse_deliveries/attach_deliverable": _label_created,
}

CONNECTOR = Connector(
    source=SOURCE,
    kind="marketplace",
    signature_scheme="shopify-hmac-sha256",
    parse=parse,
    description="Shopify Admin webhooks: orders, refunds, returns and return labels",
    http=HttpIntake(
        signature_headers=("x-shopify-hmac-sha256",),
        kept_headers=(
            "x-shopify-topic",
            "x-shopify-shop-domain",
            "x-shopify-webhook-id",
            "x-shopify-event-id",
            "x-shopify-api-version",
            "x-shopify-triggered-at",
        ),
        # Shopify retries a delivery for 4 hours with its original X-Shopify-Triggered-At.
        retry_window=timedelta(hours=4, minutes=30),
    ),
)
