"""Correlation: which case an event belongs to, out of order, without dropping anything.

Marketplace, carrier and payment events name a case differently. An event that names its order
belongs to that order's case at once, and links every other reference it carries (tracking
number, payment id, refund id, return id...) to that case. An event that names no order waits
under its own reference (`case_key`) until a link names that reference's case; the case step
(`streams.case_step.step_reference`) parks it, releases it, or expires it to the dead-letter
topic after a TTL.

`case.inbox` is keyed by case id or by reference, so a reference's link and the events waiting
on it always meet in the same partition, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.events import CanonicalEvent
from schemas.records import LinkMessage
from streams.cases import case_id_for_order


@dataclass(frozen=True, slots=True)
class Routed:
    """Where an event goes: to its case (with links), or to wait on a reference."""

    case_id: str | None
    event: CanonicalEvent
    links: list[LinkMessage] = field(default_factory=list)
    reference: str | None = None


def route(event: CanonicalEvent) -> Routed:
    """Where one canonical event goes."""
    orders = event.reference_values("order") or ([event.order_id] if event.order_id else [])
    if orders:
        case_id = case_id_for_order(orders[0])
        return Routed(case_id=case_id, event=event, links=links_for(event, case_id))
    return Routed(case_id=None, event=event, reference=event.case_key)


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
