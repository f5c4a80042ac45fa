"""The Case: one after-sales case (a return or a refund) as the case stream publishes it.

The JSON on the `cases` topic and from the query API is a public contract: names stay, fields
may be added.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.events import CustomsStatus, ReasonCode, ShipmentStatus
from schemas.money import Money
from schemas.timestamps import UtcDatetime

CaseType = Literal["return", "refund_only", "exchange", "repair", "reship", "compensation"]
CaseStatus = Literal[
    "requested", "approved", "rejected", "awaiting_return", "return_in_transit", "received",
    "refunded", "exchanged", "reshipped", "closed", "disputed",
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
    refunded: list[Money] = Field(default_factory=list)
    refund_ids: list[str] = Field(default_factory=list)
    shipment: CaseShipment | None = None
    customs: CaseCustoms | None = None
    timeline: list[str] = Field(default_factory=list)
    version: int = 0
    opened_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


CASE = TypeAdapter(Case)
