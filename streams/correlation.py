"""Correlation: which case an event belongs to, out of order, without dropping anything.

Marketplace, carrier and payment events name a case differently. An event that names its order
belongs to that order's case at once, and links every other reference it carries (tracking
number, payment id, refund id, return id...) to that case. An event that names no order waits
under its own reference (`case_key`) until a link names that reference's case; the case step
(`streams.case_step.step_reference`) parks it, releases it, or expires it to the dead-letter
topic after a TTL.

`case.inbox` is keyed by case id or by reference, so a reference's link and the events waiting
on it always meet in the same partition, in order.

An order can carry several cases. Events naming an order go to the order's first case id; the
case step then `attribute`s each one to a case of the order, in this order of rules:

0. **A case named by the hub itself** (`case:<id>`, an agent's action on it): that case.
1. **Order context** (the order placed, its payment captured, its outbound parcel's scans and
   customs): every case of the order, since each one's windows start from it. A later case
   starts with the context its order had (`streams.case_step`).
2. **Its own claim**: an event carrying a marketplace's or payment provider's return or dispute
   id (`claims_of`) joins the case that holds that id. A claim the order has not seen joins the
   order's first case while that case holds no claim yet, and otherwise opens a new case
   (`streams.cases.case_id_for_claim`). A carrier's return reference (an RMA number on a label)
   never opens a case: it only matches.
3. **A reference one case holds**: a tracking number, refund id or carrier's return reference
   known to exactly one case of the order (not a payment id: every case of an order shares
   its payment).
4. **The matching amount**: a refund whose money equals exactly one candidate case's requested
   amount.
5. **The case open when it happened**: the latest case opened at or before the event's time
   and not closed by then; an event older than every case joins the order's first case.

Rules 4 and 5 leave an event *loose* (`is_loose`): nothing but the order ties it to its case.
Providers report out of order (a Stripe refund can overtake the marketplace's return it pays
for), so when a later claim opens a case, the loose events that happened after it opened move
to it from the earlier case (`streams.case_step.step_order`): the result does not depend on
which provider's webhook came first.

A link names one case: the case step sends it once an event with that reference has joined
its case, so events parked on the reference follow the same case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.case import Case
from schemas.events import CanonicalEvent
from schemas.records import LinkMessage
from streams.cases import case_id_for_claim, case_id_for_order

CLAIM_KINDS = frozenset({"return", "dispute"})
ORDER_CONTEXT_TYPES = frozenset({"order.placed", "payment.captured"})
REFUND_TYPES = frozenset({"refund.requested", "refund.succeeded", "refund.failed"})
_LONG_AGO = datetime.min.replace(tzinfo=UTC)
_OWN_KINDS = frozenset({"order", "case"})  # name a case directly: never linked
_SHARED_PREFIXES = ("payment:",)  # an order's payment: every case of the order shares it


@dataclass(frozen=True, slots=True)
class Routed:
    """Where an event goes: to its order's first case, or to wait on a reference."""

    case_id: str | None
    event: CanonicalEvent
    reference: str | None = None


def route(event: CanonicalEvent) -> Routed:
    """Where one canonical event goes."""
    orders = event.reference_values("order") or ([event.order_id] if event.order_id else [])
    if orders:
        return Routed(case_id=case_id_for_order(orders[0]), event=event)
    return Routed(case_id=None, event=event, reference=event.case_key)


def claims_of(event: CanonicalEvent) -> frozenset[str]:
    """The provider's own ids of the claim an event is about (`return:R-2`, `dispute:dp_1`):
    return and dispute ids from marketplaces and payment providers."""
    if event.source_kind == "carrier":
        return frozenset()
    return frozenset(str(ref) for ref in event.references if ref.kind in CLAIM_KINDS)


def is_order_context(event: CanonicalEvent) -> bool:
    """Whether an event is about the order itself rather than one of its claims."""
    if claims_of(event):
        return False
    if event.type in ORDER_CONTEXT_TYPES:
        return True
    leg = event.shipment or event.customs
    return leg is not None and leg.direction == "outbound"


def references_of(event: CanonicalEvent) -> frozenset[str]:
    """Every reference of an event but its order (`kind:value`)."""
    return frozenset(str(ref) for ref in event.references if ref.kind not in _OWN_KINDS)


@dataclass(frozen=True, slots=True)
class OrderCase:
    """What attribution needs to know of one case of an order."""

    case_id: str
    claims: frozenset[str]
    references: frozenset[str]
    case: Case | None = None
    claimed_at: datetime | None = None  # when its earliest claim event happened

    def open_at(self, instant: datetime) -> bool:
        """Opened at or before `instant` and not closed by then."""
        if self.case is None:
            return False
        closed = self.case.milestones.closed_at
        return self.opened_at <= instant and (closed is None or closed > instant)

    @property
    def opened_at(self) -> datetime:
        """When its claim was made; a case without a claim opened with its first after-sales
        event. Never a loose event's time: those follow the claims, not the other way round."""
        if self.claimed_at is not None:
            return self.claimed_at
        return (self.case.opened_at if self.case and self.case.opened_at else None) or _LONG_AGO


def depends_on_cases(event: CanonicalEvent, cases: Sequence[OrderCase]) -> bool:
    """Whether `attribute` reads the cases' current `Case` for this event."""
    return len(cases) > 1 and not is_order_context(event) and not claims_of(event)


@dataclass(frozen=True, slots=True)
class Attribution:
    """The cases an event joins; `opens` is set when the event opens a new case of the order."""

    case_ids: tuple[str, ...]
    opens: str | None = None


def attribute(
    event: CanonicalEvent, order_case_id: str, cases: Sequence[OrderCase]
) -> Attribution:
    """Which of an order's cases (`cases`, in the order they opened) an event joins.

    Only rules 4 and 5 read the cases' `Case` (`depends_on_cases`).
    """
    known = {order_case_id, *(c.case_id for c in cases)}
    named = [c for c in event.reference_values("case") if c in known]
    if named:
        return Attribution((named[0],))
    if not cases:
        return Attribution((order_case_id,))
    if is_order_context(event):
        return Attribution(tuple(c.case_id for c in cases))
    claims = claims_of(event)
    if claims:
        holder = next((c for c in cases if c.claims & claims), None)
        if holder is not None:
            return Attribution((holder.case_id,))
        first = next((c for c in cases if c.case_id == order_case_id), None)
        if first is not None and not first.claims:
            return Attribution((first.case_id,))
        opened = case_id_for_claim(order_case_id, min(claims))
        return Attribution((opened,), opens=opened)
    if len(cases) == 1:
        return Attribution((cases[0].case_id,))
    references = {r for r in references_of(event) if not r.startswith(_SHARED_PREFIXES)}
    holders = [c for c in cases if c.references & references]
    if len(holders) == 1:
        return Attribution((holders[0].case_id,))
    candidates = holders or list(cases)
    return Attribution((by_amount_or_time(event, candidates).case_id,))


def by_amount_or_time(event: CanonicalEvent, candidates: Sequence[OrderCase]) -> OrderCase:
    """Rules 4 and 5 over `candidates` (with their `Case`)."""
    if event.money is not None and event.type in REFUND_TYPES:
        matching = [c for c in candidates if c.case and c.case.requested == event.money]
        if len(matching) == 1:
            return matching[0]
    return case_open_at(event.occurred_at, candidates)


def case_open_at(instant: datetime, cases: Sequence[OrderCase]) -> OrderCase:
    """Rule 5: the latest case open at `instant`, else the latest opened before it, else the
    first case."""
    open_then = [c for c in cases if c.open_at(instant)]
    if open_then:
        return max(open_then, key=lambda c: c.opened_at)
    before = [c for c in cases if c.opened_at <= instant]
    return max(before, key=lambda c: c.opened_at) if before else cases[0]


def is_loose(event: CanonicalEvent, anchored: frozenset[str]) -> bool:
    """Whether only rules 4 and 5 tie an event to its case: no claim, no case named, not the
    order's context, and none of its own references held by a claim of the case (`anchored`:
    `anchored_references`)."""
    if claims_of(event) or event.reference_values("case") or is_order_context(event):
        return False
    own = {r for r in references_of(event) if not r.startswith(_SHARED_PREFIXES)}
    return not own & anchored


def anchored_references(events: Sequence[CanonicalEvent]) -> frozenset[str]:
    """References that a case's claim events carry (its return's label tracking number...)."""
    return frozenset().union(*(references_of(e) for e in events if claims_of(e)))


def links_for(
    event: CanonicalEvent, case_id: str, *, besides: str | None = None
) -> list[LinkMessage]:
    """Links of every non-order reference an event carries to the case it belongs to."""
    seen: set[str] = set()
    links = []
    for reference in event.references:
        text = str(reference)
        if reference.kind in _OWN_KINDS or text == besides or text in seen:
            continue
        seen.add(text)
        links.append(LinkMessage(reference=text, case_id=case_id, via_event=event.event_id))
    return links
