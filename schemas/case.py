"""The Case: one after-sales case (a return or a refund) as the case stream publishes it.

The JSON on the `cases` topic and from the query API is a public contract: names stay, fields
may be added.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.actions import ActionEntry, AgentRef, Proposal
from schemas.events import CustomsStatus, ReasonCode, ShipmentStatus
from schemas.money import Money
from schemas.timestamps import UtcDatetime

CaseType = Literal["return", "refund_only", "exchange", "repair", "reship", "compensation"]
CaseStatus = Literal[
    "requested",
    "approved",
    "rejected",
    "awaiting_return",
    "return_in_transit",
    "received",
    "refunded",
    "exchanged",
    "reshipped",
    "closed",
    "disputed",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class CaseShipment(BaseModel):
    """The return leg's latest state."""

    model_config = _FROZEN

    tracking_number: str
    status: ShipmentStatus
    carrier: str | None = None
    updated_at: UtcDatetime | None = None


class CaseCustoms(BaseModel):
    """The latest customs state on the case's shipments."""

    model_config = _FROZEN

    status: CustomsStatus
    country: str | None = None
    duties: Money | None = None


ReturnShippingStatus = Literal[
    "label_created",
    "in_transit",
    "customs",
    "out_for_delivery",
    "delivered_to_returns_center",
    "inspected",
    "lost",
    "damaged",
    "returned_to_sender",
    "failed_attempt",
    "exception",
]


class ShipmentStep(BaseModel):
    """One step of a shipment's history, in event time."""

    model_config = _FROZEN

    at: UtcDatetime
    status: str
    raw_status: str | None = None
    description: str | None = None
    country: str | None = None
    event_id: str
    late: bool = Field(False, description="arrived after a newer step; kept, not applied")


class ReturnShipment(BaseModel):
    """The return-shipping table's value: one return parcel's state and history."""

    model_config = _FROZEN

    tracking_number: str
    case_id: str
    carrier: str | None = None
    status: ReturnShippingStatus
    carrier_status: ShipmentStatus | None = None
    updated_at: UtcDatetime
    history: list[ShipmentStep] = Field(default_factory=list)


class CustomsState(BaseModel):
    """The customs table's value: one shipment's clearance in one direction."""

    model_config = _FROZEN

    tracking_number: str
    direction: Literal["outbound", "return"]
    case_id: str
    status: CustomsStatus
    country: str | None = None
    duties: Money | None = None
    duties_refundable: bool | None = Field(
        None, description="return leg only: whether the duties paid on import may be reclaimed"
    )
    updated_at: UtcDatetime
    history: list[ShipmentStep] = Field(default_factory=list)


class CaseMilestones(BaseModel):
    """When the case reached each milestone (event time, UTC); policies count from these."""

    model_config = _FROZEN

    ordered_at: UtcDatetime | None = None
    delivered_at: UtcDatetime | None = Field(None, description="outbound parcel delivered to buyer")
    return_requested_at: UtcDatetime | None = None
    responded_at: UtcDatetime | None = Field(
        None, description="first merchant answer to the request"
    )
    label_created_at: UtcDatetime | None = None
    last_return_scan_at: UtcDatetime | None = None
    return_received_at: UtcDatetime | None = None
    customs_held_at: UtcDatetime | None = Field(
        None, description="start of the current customs hold"
    )
    refunded_at: UtcDatetime | None = None
    dispute_opened_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    first_reply_at: UtcDatetime | None = Field(None, description="an agent's first reply")
    escalated_at: UtcDatetime | None = None


class Case(BaseModel):
    """The full current state of one case, after every change."""

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    case_id: str
    order_id: str | None = None
    marketplace: str | None = None
    buyer_country: str | None = None
    seller_country: str | None = None
    case_type: CaseType = "return"
    status: CaseStatus = "requested"
    reason_code: ReasonCode | None = None
    reason_text: str | None = None
    reason_language: str | None = None
    requested: Money | None = None
    order_total: Money | None = None
    refunded: list[Money] = Field(default_factory=list)
    refund_ids: list[str] = Field(default_factory=list)
    disputed: bool = False
    return_tracking_numbers: list[str] = Field(default_factory=list)
    shipment: CaseShipment | None = None
    customs: CaseCustoms | None = None
    timeline: list[str] = Field(default_factory=list)
    version: int = 0
    opened_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    milestones: CaseMilestones = Field(default_factory=lambda: CaseMilestones())
    return_ids: list[str] = Field(default_factory=list, description="marketplaces' return ids")
    dispute_ids: list[str] = Field(default_factory=list, description="claim and dispute ids")
    assignee: AgentRef | None = Field(None, description="the agent working the case")
    escalated: bool = False
    reopened: int = Field(0, description="times the buyer came back after an agent closed it")
    proposal: Proposal | None = Field(None, description="the latest proposed resolution")
    history: list[ActionEntry] = Field(
        default_factory=list, description="the agents' actions, oldest first"
    )


CASE = TypeAdapter(Case)
RETURN_SHIPMENT = TypeAdapter(ReturnShipment)
CUSTOMS_STATE = TypeAdapter(CustomsState)
