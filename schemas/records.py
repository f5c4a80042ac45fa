"""Topic contracts of the case step: what it reads on `case.inbox` and publishes.

    case.inbox     key = case id or reference; header `hub.message` says what the value is:
                     event    a CanonicalEvent's JSON (key: its case id)
                     pending  a CanonicalEvent's JSON waiting for its reference (key: reference)
                     link     a `LinkMessage` (key: the reference it links)
                     erase    an `EraseMessage`: forget the key's state and what the case
                              published (key: the case id, or one of its references)
    case.changes   `CaseChangeRecord`: one per change of a case, and one per SLA notification;
                   a tombstone (no value) when the case was erased
    shipments      compacted `ShipmentRecord`, keyed by tracking number
    cases          compacted `Case` (schemas.case), keyed by case id
    case.policy    compacted CasePolicy (streams.policy.steps), keyed by case id

A change record carries everything its consumers need (the Case, its policy assessment and its
return parcel), so the feeds render from the change alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.case import Case, CustomsState, ReturnShipment

_FROZEN = ConfigDict(frozen=True, extra="forbid")

MESSAGE_HEADER = "hub.message"
InboxKind = Literal["event", "pending", "link", "erase"]
INBOX_KINDS: dict[bytes, InboxKind] = {
    b"event": "event", b"pending": "pending", b"link": "link", b"erase": "erase"
}


class LinkMessage(BaseModel):
    """`reference` belongs to `case_id` (learnt from `via_event`)."""

    model_config = _FROZEN
    kind: Literal["link"] = "link"
    reference: str
    case_id: str
    via_event: str


LINK_MESSAGE = TypeAdapter(LinkMessage)


class EraseMessage(BaseModel):
    """Forget the key's state (`hub erase`): the case `case_id` itself, or one of its references
    (only while that reference still belongs to `case_id`)."""

    model_config = _FROZEN
    kind: Literal["erase"] = "erase"
    case_id: str


ERASE_MESSAGE = TypeAdapter(EraseMessage)


class CaseChangeRecord(BaseModel):
    """One record of `case.changes`: which events changed which fields, and the case after.

    SLA notifications are change records too: `event_type` `sla.warning` / `sla.breach`,
    `event_id` the notification's deterministic id, `changed_fields` ["sla"].
    """

    model_config = _FROZEN

    case_id: str
    version: int
    event_id: str = Field(description="the last event the change applied")
    event_type: str = Field(description="the type of `event_id`")
    event_ids: list[str] = Field(
        default_factory=list,
        description="every event the change applied, in the order applied (a change may "
        "apply several events of one case that arrived together)",
    )
    changed_fields: list[str]
    case: Case
    policy: dict[str, Any] | None = Field(
        None, description="the case's `case.policy` record as of this change"
    )
    return_shipment: ReturnShipment | None = Field(
        None, description="the state of the case's latest return parcel"
    )


class ShipmentRecord(BaseModel):
    """One record of `shipments`: a return parcel's shipping and customs state."""

    model_config = _FROZEN

    tracking_number: str
    case_id: str
    return_shipping: ReturnShipment | None = None
    customs: list[CustomsState] = []


class DeadLetterHeaders(BaseModel):
    """The headers a stage adds to a dead letter on `dlq.<stage>`, as text, prefix `dlq.` removed.

    The record's key, value and its other headers are the original record's, byte for byte
    (`streams.dead_letters`); `hub dlq replay` strips these and produces it where it came from.
    """

    model_config = _FROZEN

    stage: str = Field(description='the stage that gave up: "normalize", "cases" or "feeds"')
    source: str = Field(description="the source name of the original record")
    reason: str = Field(description="one line: what was wrong")
    error: str = Field(description="the error class")
    topic: str = Field(description="the topic of the original record")
    partition: str = Field(pattern=r"^\d+$", description="its partition, decimal")
    offset: str = Field(pattern=r"^\d+$", description="its offset, decimal")
    failed_at: str = Field(description="UTC ISO 8601 `...Z` of the failure")
