"""Marketplaces speaking the hub-native protocol (`schemas.hub_protocol`), produced to `raw.hub`.

A record is one protocol v1 JSON object; every event type of the protocol maps one-to-one to the
canonical type of the same name. The protocol already speaks the hub's vocabulary (canonical
reason codes, decimal-string amounts, RFC 3339 times with offsets), so this connector checks it
strictly and copies it across: `marketplace_reason_code` becomes `raw_reason`, `reason` the text,
the language is reduced to its BCP 47 primary subtag (a reason without `language` gets the one
the hub's offline detector finds in it), and a `return.label_created` carries the
label as a return `Shipment` in state `info_received`. Nothing is ignored: a record that is not
a valid protocol v1 object is a skippable record error naming the first invalid field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final, get_args

from connectors.base import Connector
from connectors.boundary import load_json, translate_errors, unrecognized
from connectors.marketplaces._common import marketplace_event, primary_language, refs
from schemas.events import CanonicalEvent, Shipment
from schemas.hub_protocol import (
    HUB_PROTOCOL_ADAPTER,
    HubEvent,
    RefundBase,
    ReturnLabelCreated,
    WithReason,
)
from schemas.timestamps import parse_iso

SOURCE: Final = "hub"
PROTOCOL_EVENT_TYPES: Final = frozenset(
    literal
    for member in get_args(get_args(HubEvent)[0])
    for literal in get_args(member.model_fields["event_type"].annotation)
)
"""Every `event_type` of the protocol: a body naming none of them is not a protocol record."""


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Turn one hub-protocol v1 record into its canonical event.

    Args:
        raw: the JSON object exactly as the marketplace produced it.
        received_at: when the hub received the record.
        headers: unused; the protocol carries everything in the body.

    Returns:
        Exactly one canonical event.

    Raises:
        SkippableRecordError: not JSON, or not a valid protocol v1 object.
    """
    document = load_json(raw)
    event_type = document.get("event_type") if isinstance(document, dict) else None
    if isinstance(document, dict) and event_type not in PROTOCOL_EVENT_TYPES:
        raise unrecognized(
            f"event_type: expected a hub protocol v1 event type, got {event_type!r}"
        )
    message = HUB_PROTOCOL_ADAPTER.validate_json(raw)
    return [_to_canonical(message, received_at=received_at)]


def _to_canonical(message: HubEvent, *, received_at: datetime) -> CanonicalEvent:
    return_id = getattr(message, "return_id", None)
    refund_id = message.refund_id if isinstance(message, RefundBase) else None
    payment = message.payment_reference if isinstance(message, RefundBase) else None
    tracking = message.label.tracking_number if isinstance(message, ReturnLabelCreated) else None
    amount = getattr(message, "amount", None)
    fields: dict[str, object] = {}
    if isinstance(message, WithReason):
        fields = {
            "reason_code": message.reason_code,
            "raw_reason": message.marketplace_reason_code,
            "text": message.reason,
            "language": primary_language(message.language),
        }
    return marketplace_event(
        SOURCE,
        message.event_type,
        identity=(message.marketplace, message.event_id),
        when=parse_iso(message.occurred_at),
        received_at=received_at,
        references=refs(
            ("order", message.order_id),
            ("return", return_id),
            ("refund", refund_id),
            ("payment", payment),
            ("tracking", tracking),
        ),
        order_id=message.order_id,
        marketplace=message.marketplace,
        money=amount.to_money() if amount is not None else None,
        refund_id=refund_id,
        buyer_country=message.buyer_country,
        seller_country=message.seller_country,
        shipment=_label_shipment(message) if isinstance(message, ReturnLabelCreated) else None,
        **fields,
    )


def _label_shipment(message: ReturnLabelCreated) -> Shipment:
    return Shipment(
        carrier=message.label.carrier,
        tracking_number=message.label.tracking_number,
        status="info_received",
        raw_status="return.label_created",
        direction="return",
    )


CONNECTOR = Connector(
    source=SOURCE,
    kind="marketplace",
    signature_scheme="kafka-direct",
    parse=parse,
    description="Hub-native marketplace protocol v1 (schemas.hub_protocol), produced to Kafka",
    http=None,
)
