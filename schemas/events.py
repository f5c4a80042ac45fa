"""The canonical event: what every connector produces and every stream processor consumes.

The JSON shape is a public contract (see README, "Canonical event"): field names and value sets
stay; fields may be added. Schema version 1.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from schemas.money import Money
from schemas.timestamps import UtcDatetime, format_utc

SCHEMA_VERSION: Literal[1] = 1

Source = Literal[
    "shopify",
    "amazon",
    "mercadolibre",
    "hub",
    "dhl",
    "ups",
    "easypost",
    "aftership",
    "17track",
    "stripe",
    "paypal",
    "adyen",
]
SourceKind = Literal["marketplace", "carrier", "payment"]
EventType = Literal[
    "order.placed",
    "order.cancelled",
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.closed",
    "return.label_created",
    "refund.requested",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.updated",
    "dispute.closed",
    "payment.captured",
    "shipment.update",
    "customs.update",
]
ReasonCode = Literal[
    "damaged",
    "defective",
    "wrong_item",
    "not_as_described",
    "size_fit",
    "changed_mind",
    "late_delivery",
    "lost_in_transit",
    "missing_parts",
    "fraud",
    "other",
]
ShipmentStatus = Literal[
    "pending",
    "info_received",
    "in_transit",
    "customs",
    "out_for_delivery",
    "available_for_pickup",
    "delivered",
    "failed_attempt",
    "exception",
    "returned_to_sender",
    "expired",
]
CustomsStatus = Literal[
    "declared",
    "in_clearance",
    "held",
    "duties_due",
    "released",
    "duties_paid",
    "refused",
    "seized",
    "returned",
]
ReferenceKind = Literal["order", "return", "tracking", "payment", "refund", "dispute"]
Direction = Literal["outbound", "return"]

SOURCE_KINDS: dict[str, SourceKind] = {
    "shopify": "marketplace",
    "amazon": "marketplace",
    "mercadolibre": "marketplace",
    "hub": "marketplace",
    "dhl": "carrier",
    "ups": "carrier",
    "easypost": "carrier",
    "aftership": "carrier",
    "17track": "carrier",
    "stripe": "payment",
    "paypal": "payment",
    "adyen": "payment",
}

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Reference(BaseModel):
    """A provider's identifier that names a case: `order:1001`, `tracking:1Z999...`."""

    model_config = _FROZEN

    kind: ReferenceKind
    value: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Shipment(BaseModel):
    """A carrier's view of one parcel, with its code mapped to the hub's status taxonomy."""

    model_config = _FROZEN

    carrier: str
    tracking_number: str = Field(min_length=1)
    status: ShipmentStatus
    raw_status: str
    raw_description: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 of the scan")
    location: str | None = None
    direction: Direction | None = None


class Customs(BaseModel):
    """A customs milestone of a shipment."""

    model_config = _FROZEN

    status: CustomsStatus
    country: str | None = None
    duties: Money | None = None
    direction: Direction | None = None


class RawRecordRef(BaseModel):
    """Where the raw bytes this event came from sit on Kafka."""

    model_config = _FROZEN

    topic: str
    partition: int
    offset: int


class CanonicalEvent(BaseModel):
    """One fact from one provider, in the hub's vocabulary."""

    model_config = _FROZEN

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str
    source: Source
    source_kind: SourceKind
    type: EventType
    occurred_at: UtcDatetime
    occurred_at_local: datetime | None = None
    source_timezone: str | None = None
    time_source: Literal["provider", "resolved_zone", "received"] = "provider"
    received_at: UtcDatetime
    order_id: str | None = None
    marketplace: str | None = None
    case_key: str = Field(min_length=1)
    references: tuple[Reference, ...] = ()
    money: Money | None = None
    refund_id: str | None = None
    reason_code: ReasonCode | None = None
    raw_reason: str | None = None
    text: str | None = None
    language: str | None = None
    buyer_country: str | None = None
    seller_country: str | None = None
    shipment: Shipment | None = None
    customs: Customs | None = None
    raw: RawRecordRef | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if SOURCE_KINDS[self.source] != self.source_kind:
            raise ValueError(f"source {self.source} is a {SOURCE_KINDS[self.source]}")
        if self.type == "shipment.update" and self.shipment is None:
            raise ValueError("a shipment.update carries a shipment")
        if self.type == "customs.update" and self.customs is None:
            raise ValueError("a customs.update carries customs")
        if self.occurred_at_local is not None and self.occurred_at_local.tzinfo is None:
            raise ValueError("occurred_at_local carries its offset")
        return self

    def reference_values(self, kind: ReferenceKind) -> list[str]:
        """Values of this event's references of one kind."""
        return [ref.value for ref in self.references if ref.kind == kind]


def make_event_id(source: str, *identity: object) -> str:
    """A deterministic event id from the source and the provider's own identity of the fact.

    The same provider object in the same state always gives the same id, so a redelivered
    webhook is recognised as the same event downstream.
    """
    material = "\x1f".join([source, *(_identity_part(part) for part in identity)])
    return f"{source}:{hashlib.sha256(material.encode()).hexdigest()[:32]}"


def _identity_part(part: object) -> str:
    if isinstance(part, datetime):
        return format_utc(part)
    return "" if part is None else str(part)


CANONICAL_EVENT = TypeAdapter(CanonicalEvent)
EVENT_LIST = TypeAdapter(list[CanonicalEvent])
