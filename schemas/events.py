"""The canonical event: what every connector produces and every stream processor consumes.

The JSON shape is a public contract (see README, "Canonical event"): field names and value sets
stay; fields may be added. Schema version 1.

Every event validated here also serializes: each string must be encodable as UTF-8 (a lone
surrogate such as a JSON-escaped `"\\ud800"` is rejected) and at most `MAX_TEXT_CHARS` long.
Its money has the sign its type allows (`MONEY_SIGNS`), and it happened inside the window of
plausible facts: not before `EARLIEST_OCCURRED_AT`, not more than `FUTURE_TOLERANCE` after it
was received.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from schemas.actions import AgentAction
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
    "console",
]
SourceKind = Literal["marketplace", "carrier", "payment", "agent"]
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
    "case.assigned",
    "case.replied",
    "case.noted",
    "case.info_requested",
    "case.escalated",
    "case.resolution_proposed",
    "case.closed",
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
ReferenceKind = Literal["order", "return", "tracking", "payment", "refund", "dispute", "case"]
"""`case` names one of the hub's own cases (an agent's action on it); providers never send it."""
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
"""The provider sources (one connector each) and their kinds."""

HUB_SOURCE_KINDS: dict[str, SourceKind] = {"console": "agent"}
"""The hub's own sources: `console` is the support agents' actions (`schemas.actions`)."""

ACTION_EVENT_TYPES: dict[str, EventType] = {
    "take": "case.assigned",
    "reply": "case.replied",
    "note": "case.noted",
    "request_info": "case.info_requested",
    "escalate": "case.escalated",
    "propose": "case.resolution_proposed",
    "close": "case.closed",
}
"""The event type of each agent action kind; events of these types come from `console` only
and carry their `action`."""
_ACTION_TYPES = frozenset(ACTION_EVENT_TYPES.values())

MAX_TEXT_CHARS: Final = 16_384
"""Longest string of an event. Connectors cut free text at 4,000 characters
(`connectors.boundary.FREE_TEXT_LIMIT`); this bounds every other string, ids included."""

# Any string length bound makes pydantic-core read each string as UTF-8, which rejects lone
# surrogates at validation instead of at `dump_json`, with no Python call per field.
_FROZEN = ConfigDict(frozen=True, extra="forbid", str_max_length=MAX_TEXT_CHARS)

EARLIEST_OCCURRED_AT: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""No after-sales fact the hub handles is older: an earlier time is a broken or hostile date."""

FUTURE_TOLERANCE: Final = timedelta(days=2)
"""How far after its receipt an event may say it happened: provider clock skew and wall times
placed a day off (UTC-12 vs UTC+14) are tolerated; a later time is not a fact yet."""

MoneySign = Literal["positive", "not_negative"]
MONEY_SIGNS: Final[dict[str, MoneySign]] = {
    "refund.requested": "positive",
    "refund.succeeded": "positive",
    "refund.failed": "positive",
    "payment.captured": "positive",
}
"""The sign an event's money must have, by event type; every other type: `not_negative`.

A refund or capture of nothing is no fact; a negative amount anywhere is a sign error of the
provider or of a connector (which way money moves is said by the event type, never the sign)."""


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
    action: AgentAction | None = Field(
        None, description="the agent's action of a `case.*` event from the console"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        kind = SOURCE_KINDS.get(self.source) or HUB_SOURCE_KINDS[self.source]
        if kind != self.source_kind:
            raise ValueError(f"source {self.source} is a {kind}")
        is_action = self.type in _ACTION_TYPES
        if is_action != (self.source == "console") or is_action != (self.action is not None):
            raise ValueError("agent actions (case.* events) come from the console with an action")
        if self.action is not None and ACTION_EVENT_TYPES[self.action.kind] != self.type:
            expected = ACTION_EVENT_TYPES[self.action.kind]
            raise ValueError(f"a {self.action.kind} action is a {expected} event")
        if self.type == "shipment.update" and self.shipment is None:
            raise ValueError("a shipment.update carries a shipment")
        if self.type == "customs.update" and self.customs is None:
            raise ValueError("a customs.update carries customs")
        if self.occurred_at_local is not None and self.occurred_at_local.tzinfo is None:
            raise ValueError("occurred_at_local carries its offset")
        if self.occurred_at < EARLIEST_OCCURRED_AT:
            raise ValueError(
                f"occurred_at {self.occurred_at.isoformat()} is before"
                f" {EARLIEST_OCCURRED_AT.year}: not a plausible time of an after-sales fact"
            )
        if self.occurred_at > self.received_at + FUTURE_TOLERANCE:
            raise ValueError(
                f"occurred_at {self.occurred_at.isoformat()} is more than"
                f" {FUTURE_TOLERANCE.days} days after the event was received"
            )
        if self.money is not None:
            self._check_money_sign(self.money.amount)
        return self

    def _check_money_sign(self, amount: Decimal) -> None:
        sign = MONEY_SIGNS.get(self.type, "not_negative")
        if amount < 0 or (sign == "positive" and amount == 0):
            raise ValueError(
                f"a {self.type} amount must be {sign.replace('_', ' ')}, got {amount}"
            )

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
