"""Correlation: which case an event belongs to, out of order, without dropping anything.

Marketplace, carrier and payment events name a case differently. An event that names its order
belongs to that order's case at once, and links every other reference it carries (tracking
number, payment id, refund id, return id...) to that case. An event that names no order is
sent to the resolver under its own reference; if that reference is linked, it goes to the case;
if not, it is parked until a link appears, and expires to the dead-letter topic after a TTL.

The resolver's input topic (`case.references`) is keyed by reference, so a reference's link and
the events waiting on it always meet in the same partition, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.events import CanonicalEvent
from schemas.timestamps import UtcDatetime
from streams.cases import case_id_for_order

log = logging.getLogger("streams.correlation")

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class LinkMessage(BaseModel):
    """`reference` belongs to `case_id` (learnt from `via_event`)."""

    model_config = _FROZEN
    kind: Literal["link"] = "link"
    reference: str
    case_id: str
    via_event: str


class PendingMessage(BaseModel):
    """An event that waits for its `reference` to be linked to a case."""

    model_config = _FROZEN
    kind: Literal["pending"] = "pending"
    reference: str
    event: CanonicalEvent


class TickMessage(BaseModel):
    """Time passes on one partition: expire what waited too long."""

    model_config = _FROZEN
    kind: Literal["tick"] = "tick"
    now: UtcDatetime


ReferenceMessage = Annotated[
    LinkMessage | PendingMessage | TickMessage, Field(discriminator="kind")
]
REFERENCE_MESSAGE: TypeAdapter[LinkMessage | PendingMessage | TickMessage] = TypeAdapter(
    ReferenceMessage
)


class ParkedEvent(BaseModel):
    model_config = _FROZEN
    parked_at: UtcDatetime
    event: CanonicalEvent


class ReferenceState(BaseModel):
    """The resolver table's value for one reference.

    Besides the events still waiting (`parked`), it keeps two short-lived outboxes: events it
    released to a case (`released`, with the time of release) and events it expired with the
    tick that expired them. A worker that dies after writing this state but before its sends
    reached the broker replays the same input; the outboxes let it send the same records again
    instead of losing them. Outboxes are emptied by later ticks.
    """

    model_config = _FROZEN
    case_id: str | None = None
    parked: tuple[ParkedEvent, ...] = ()
    released: tuple[ParkedEvent, ...] = ()
    released_via: str | None = Field(None, description="the link message that released them")
    expired: tuple[ParkedEvent, ...] = ()
    expired_by_tick: UtcDatetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.parked or self.released or self.expired)


REFERENCE_STATE = TypeAdapter(ReferenceState)


@dataclass(frozen=True, slots=True)
class Routed:
    """Where the router sends an event: to its case (with links), or to wait on a reference."""

    case_id: str | None
    event: CanonicalEvent
    links: list[LinkMessage] = field(default_factory=list)
    pending: PendingMessage | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the resolver does with one message for one reference."""

    state: ReferenceState | None
    to_cases: list[tuple[str, CanonicalEvent]] = field(default_factory=list)
    links: list[LinkMessage] = field(default_factory=list)
    expired: list[ParkedEvent] = field(default_factory=list)


def route(event: CanonicalEvent) -> Routed:
    """The router's decision for one canonical event."""
    orders = event.reference_values("order") or ([event.order_id] if event.order_id else [])
    if orders:
        case_id = case_id_for_order(orders[0])
        return Routed(case_id=case_id, event=event, links=links_for(event, case_id))
    return Routed(
        case_id=None, event=event, pending=PendingMessage(reference=event.case_key, event=event)
    )


def links_for(
    event: CanonicalEvent, case_id: str, *, besides: str | None = None
) -> list[LinkMessage]:
    """Links of every non-order reference an event carries to the case it belongs to."""
    seen: set[str] = set()
    links = []
    for reference in event.references:
        text = str(reference)
        if reference.kind == "order" or text == besides or text in seen:
            continue
        seen.add(text)
        links.append(LinkMessage(reference=text, case_id=case_id, via_event=event.event_id))
    return links


def resolve(
    state: ReferenceState | None,
    message: LinkMessage | PendingMessage,
    *,
    now: datetime,
) -> Resolution:
    """Apply one link or pending event to a reference's state."""
    current = state or ReferenceState()
    if isinstance(message, LinkMessage):
        if current.case_id is not None and current.case_id != message.case_id:
            log.warning(
                "reference %s already belongs to %s; ignoring link to %s from %s",
                message.reference,
                current.case_id,
                message.case_id,
                message.via_event,
            )
            return Resolution(state=None)
        newly = tuple(ParkedEvent(parked_at=now, event=p.event) for p in current.parked)
        # The same link message again is a replay after a crash: re-send what it released, as
        # its first sends may be lost. Other events repeating a known link re-send nothing.
        replayed = current.released if current.released_via == message.via_event else ()
        outgoing = [p.event for p in (*replayed, *newly)]
        updated = ReferenceState(
            case_id=message.case_id,
            released=newly or current.released,
            released_via=message.via_event if newly else current.released_via,
            expired=current.expired,
            expired_by_tick=current.expired_by_tick,
        )
        return Resolution(
            state=None if updated == current else updated,
            to_cases=[(message.case_id, event) for event in outgoing],
            links=[
                link
                for event in outgoing
                for link in links_for(event, message.case_id, besides=message.reference)
            ],
        )
    if current.case_id is not None:
        return Resolution(
            state=None,
            to_cases=[(current.case_id, message.event)],
            links=links_for(message.event, current.case_id, besides=message.reference),
        )
    if any(parked.event.event_id == message.event.event_id for parked in current.parked):
        return Resolution(state=None)
    parked = ParkedEvent(parked_at=now, event=message.event)
    return Resolution(state=current.model_copy(update={"parked": (*current.parked, parked)}))


def expire(
    state: ReferenceState, *, tick: datetime, ttl: timedelta, keep_outbox: timedelta
) -> Resolution:
    """Expire events that waited longer than `ttl` as of `tick`; empty old outboxes.

    Replaying the same tick re-sends the same expired events (and nothing else).
    """
    if state.expired_by_tick == tick:
        return Resolution(state=None, expired=list(state.expired))
    expired = tuple(p for p in state.parked if tick - p.parked_at >= ttl)
    kept = tuple(p for p in state.parked if tick - p.parked_at < ttl)
    released = tuple(p for p in state.released if tick - p.parked_at < keep_outbox)
    updated = ReferenceState(
        case_id=state.case_id,
        parked=kept,
        released=released,
        released_via=state.released_via if released else None,
        expired=expired,
        expired_by_tick=tick if expired else None,
    )
    return Resolution(state=None if updated == state else updated, expired=list(expired))


def expiry_reason(parked: ParkedEvent, reference: str, ttl: timedelta) -> str:
    return (
        f"no case found for {reference} within {ttl.total_seconds():.0f} s "
        f"(parked since {parked.parked_at.isoformat()}): no event linked this reference to an order"
    )


def unresolved_references(states: Sequence[tuple[str, ReferenceState]]) -> int:
    """How many events wait in total (for metrics)."""
    return sum(len(state.parked) for _, state in states)
