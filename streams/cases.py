"""The case builder's pure core: the events of one case, folded into its current state.

A case keeps every canonical event applied to it (its ledger). The Case is recomputed by folding
the ledger in event-time order, so the result does not depend on arrival order: a late, older
event takes its place in history and cannot move the status backwards. Applying an event is
idempotent by `event_id`: a redelivered or duplicated event changes nothing.

An order can carry several cases (two returns weeks apart, a return and later a dispute): its
first case has the order's id (`case_id_for_order`), every later one the id of the claim that
opened it (`case_id_for_claim`); `streams.correlation.attribute` says which case an event joins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from connectors.payments.stripe import possibly_same_refund
from schemas.actions import ActionEntry, AgentRef, Proposal
from schemas.case import (
    Case,
    CaseCustoms,
    CaseMilestones,
    CaseShipment,
    CaseStatus,
    CaseType,
    CustomsState,
    ReturnShipment,
)
from schemas.events import CanonicalEvent, ReasonCode
from schemas.money import Money
from streams.customs import customs_states
from streams.shipping import return_shipments

# How far along a case is; a proposal of lower rank never replaces a higher one.
STATUS_RANK: dict[CaseStatus, int] = {
    "requested": 0,
    "approved": 1,
    "rejected": 1,
    "awaiting_return": 2,
    "return_in_transit": 3,
    "received": 4,
    "refunded": 5,
    "exchanged": 5,
    "reshipped": 5,
    "closed": 6,
    "disputed": 0,  # never stored as the underlying status; shown while a dispute is open
}
# Events that make an order an after-sales case; an order with none has no case to publish.
OPENING_TYPES = frozenset(
    {
        "order.cancelled",
        "return.requested",
        "return.approved",
        "return.rejected",
        "return.label_created",
        "refund.requested",
        "refund.succeeded",
        "dispute.opened",
    }
)

ReasonClassifier = Callable[[str, str | None], ReasonCode | None]


CASE_FAMILY_SEPARATOR = "~"
"""`<order's first case id>~<claim hash>`: the partitioner places every case of an order by the
part before it (`streams.topics.partition_of`), so an order's cases share one partition."""


def case_id_for_order(order_id: str) -> str:
    """The deterministic id of an order's first after-sales case."""
    return "case-" + hashlib.sha256(f"order:{order_id}".encode()).hexdigest()[:24]


def case_id_for_claim(order_case_id: str, claim: str) -> str:
    """The id of a later case of an order, opened by a claim of its own (`return:R-2`)."""
    digest = hashlib.sha256(f"{order_case_id}|{claim}".encode()).hexdigest()[:16]
    return f"{order_case_id}{CASE_FAMILY_SEPARATOR}{digest}"


def order_case_of(case_id: str) -> str:
    """The id of the first case of the order `case_id` belongs to (itself, for a first case)."""
    return case_id.partition(CASE_FAMILY_SEPARATOR)[0]


class CaseLedger(BaseModel):
    """Every event applied to a case, in event-time order: the sequential fold one event (or
    group) at a time, that the case step's result must equal (`apply_events`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    version: int = 0
    events: tuple[CanonicalEvent, ...] = ()
    applied: tuple[str, ...] = Field((), description="event ids in the order they were applied")
    published: bool = Field(False, description="a Case has been emitted for this ledger")

@dataclass(frozen=True, slots=True)
class CaseChange:
    """What applying some events changed; `case` is None while the order has no after-sales
    yet. `events` are the ones this change applied, in the order they were applied."""

    ledger: CaseLedger
    case: Case | None
    shipments: list[ReturnShipment] = field(default_factory=list)
    customs: list[CustomsState] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)
    events: tuple[CanonicalEvent, ...] = ()


def event_order(event: CanonicalEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_id)


def apply_event(
    ledger: CaseLedger | None,
    event: CanonicalEvent,
    *,
    case_id: str,
    previous: Case | None = None,
    classify_reason: ReasonClassifier | None = None,
) -> CaseChange | None:
    """Add one event to a case. None when the event was already applied (a duplicate)."""
    return apply_events(
        ledger, (event,), case_id=case_id, previous=previous, classify_reason=classify_reason
    )


def apply_events(
    ledger: CaseLedger | None,
    events: Sequence[CanonicalEvent],
    *,
    case_id: str,
    previous: Case | None = None,
    classify_reason: ReasonClassifier | None = None,
) -> CaseChange | None:
    """Add events to a case as one change (one new Case, however many events). Events already
    applied are skipped; None when nothing is new. `previous` is the case before the change
    (for `changed_fields`); the Case does not depend on how events are grouped into changes."""
    current = ledger or CaseLedger(case_id=case_id)
    known = set(current.applied)
    fresh: list[CanonicalEvent] = []
    for event in events:
        if event.event_id not in known:
            known.add(event.event_id)
            fresh.append(event)
    if not fresh:
        return None
    version = current.version + len(fresh)
    updated = CaseLedger(
        case_id=case_id,
        version=version,
        events=tuple(sorted((*current.events, *fresh), key=event_order)),
        applied=(*current.applied, *(event.event_id for event in fresh)),
        published=current.published,
    )
    case, shipments, customs = _fold(updated, classify_reason)
    if case is not None and not updated.published:
        updated = updated.model_copy(update={"published": True})
    return CaseChange(
        ledger=updated,
        case=case,
        shipments=shipments,
        customs=customs,
        changed_fields=changed_fields(previous, case),
        events=tuple(fresh),
    )


def fold_case(
    ledger: CaseLedger, *, classify_reason: ReasonClassifier | None = None
) -> Case | None:
    """The Case of a ledger, or None when nothing after-sales has happened on the order yet."""
    return _fold(ledger, classify_reason)[0]


def _fold(
    ledger: CaseLedger, classify_reason: ReasonClassifier | None
) -> tuple[Case | None, list[ReturnShipment], list[CustomsState]]:
    return fold_events(ledger.case_id, ledger.version, ledger.events, classify_reason)


def fold_events(
    case_id: str,
    version: int,
    events: Sequence[CanonicalEvent],
    classify_reason: ReasonClassifier | None = None,
) -> tuple[Case | None, list[ReturnShipment], list[CustomsState]]:
    """The Case of `events` (sorted by `event_order`) with the return shipments and customs
    states it was built from; None while nothing after-sales has happened on the order."""
    return_numbers = _return_tracking_numbers(events)
    shipments = return_shipments(case_id, events, return_numbers)
    customs = customs_states(case_id, events, return_numbers)
    if not any(event.type in OPENING_TYPES for event in events):
        return None, shipments, customs
    state = _Fold()
    for event in events:
        state.apply(event)
    reason_code = state.reason_code
    if reason_code in (None, "other") and state.reason_text and classify_reason is not None:
        reason_code = classify_reason(state.reason_text, state.reason_language) or reason_code
    status: CaseStatus = "disputed" if state.open_disputes else state.status
    case = Case(
        case_id=case_id,
        order_id=state.order_id,
        marketplace=state.marketplace,
        buyer_country=state.buyer_country,
        seller_country=state.seller_country,
        case_type=state.case_type or "return",
        status=status,
        reason_code=reason_code,
        reason_text=state.reason_text,
        reason_language=state.reason_language,
        requested=state.requested,
        order_total=state.order_total,
        refunded=state.refunded_totals(),
        refund_ids=sorted(state.refund_ids()),
        disputed=bool(state.open_disputes),
        return_tracking_numbers=sorted(return_numbers),
        shipment=_latest_shipment(shipments),
        customs=_latest_customs(customs),
        timeline=[event.event_id for event in events],
        version=version,
        opened_at=state.opened_at,
        updated_at=events[-1].occurred_at,
        milestones=CaseMilestones(**state.milestones),
        return_ids=sorted(state.return_ids),
        dispute_ids=sorted(state.dispute_ids),
        assignee=state.assignee,
        escalated=state.escalated,
        reopened=state.reopened,
        proposal=state.proposal,
        history=state.history,
    )
    return case, shipments, customs


class _Fold:
    """Mutable accumulator of one fold; lives only inside `fold_case`."""

    def __init__(self) -> None:
        self.order_id: str | None = None
        self.marketplace: str | None = None
        self.buyer_country: str | None = None
        self.seller_country: str | None = None
        self.case_type: CaseType | None = None
        self.status: CaseStatus = "requested"
        self.reason_code: ReasonCode | None = None
        self.reason_text: str | None = None
        self.reason_language: str | None = None
        self.requested: Money | None = None
        self.order_total: Money | None = None
        self.opened_at: datetime | None = None
        self.open_disputes: set[str] = set()
        # refund id -> (source kind, amount); a later failure of the same id removes it
        # refund id -> the event that reported it; a later failure of the same id removes it
        self.refunds: dict[str, CanonicalEvent] = {}
        self.milestones: dict[str, datetime | None] = {}
        self.return_numbers: set[str] = set()
        self.return_ids: set[str] = set()
        self.dispute_ids: set[str] = set()
        self.assignee: AgentRef | None = None
        self.escalated = False
        self.reopened = 0
        self.proposal: Proposal | None = None
        self.history: list[ActionEntry] = []
        # The status an agent's close replaced: the buyer coming back restores it.
        self.before_close: CaseStatus | None = None

    def first(self, milestone: str, when: datetime) -> None:
        if self.milestones.get(milestone) is None:
            self.milestones[milestone] = when

    def latest(self, milestone: str, when: datetime) -> None:
        self.milestones[milestone] = when

    def apply(self, event: CanonicalEvent) -> None:
        self.order_id = self.order_id or event.order_id or _first(event.reference_values("order"))
        if event.source_kind == "marketplace" and event.marketplace:
            self.marketplace = self.marketplace or event.marketplace
        self.buyer_country = self.buyer_country or event.buyer_country
        self.seller_country = self.seller_country or event.seller_country
        if event.type in OPENING_TYPES and self.opened_at is None:
            self.opened_at = event.occurred_at
        self.return_ids.update(event.reference_values("return"))
        self.dispute_ids.update(event.reference_values("dispute"))
        if event.action is not None:
            self.history.append(ActionEntry(at=event.occurred_at, action=event.action))
        elif event.type in OPENING_TYPES and self.before_close is not None:
            # The buyer (or the marketplace for them) came back after an agent closed the case.
            self.status, self.before_close = self.before_close, None
            self.reopened += 1
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event)

    def propose(self, status: CaseStatus) -> None:
        if STATUS_RANK[status] >= STATUS_RANK[self.status]:
            self.status = status

    def take_reason(self, event: CanonicalEvent) -> None:
        specific = event.reason_code not in (None, "other")
        if specific or self.reason_code is None:
            self.reason_code = event.reason_code or self.reason_code
        if event.text and (self.reason_text is None or specific):
            self.reason_text = event.text
            self.reason_language = event.language

    def refund_ids(self) -> set[str]:
        return set(self.refunds)

    def refunded_totals(self) -> list[Money]:
        """The money refunded, per currency: refunds count once each, and two reports are the
        same money only when the evidence says so (`same_money`)."""
        counted: list[CanonicalEvent] = []
        paired: set[int] = set()
        for event in sorted(self.refunds.values(), key=event_order):
            twin = next((i for i, other in enumerate(counted)
                         if i not in paired and same_money(event, other)), None)
            if twin is None:
                counted.append(event)
            else:
                paired.add(twin)  # one money movement reported twice: count it once
        totals: dict[str, Money] = {}
        for event in counted:
            amount = event.money
            assert amount is not None  # only refunds with an amount are kept
            totals[amount.currency] = (
                totals[amount.currency] + amount if amount.currency in totals else amount
            )
        return [totals[currency] for currency in sorted(totals)]


def _order_placed(state: _Fold, event: CanonicalEvent) -> None:
    state.order_total = state.order_total or event.money
    state.first("ordered_at", event.occurred_at)


def _order_cancelled(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "refund_only"
    state.take_reason(event)
    state.requested = state.requested or event.money


def _return_requested(state: _Fold, event: CanonicalEvent) -> None:
    if state.case_type in (None, "refund_only"):
        state.case_type = "return"
    state.take_reason(event)
    state.requested = event.money or state.requested
    state.propose("requested")
    state.first("return_requested_at", event.occurred_at)


def _return_approved(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "return"
    state.propose("approved")
    state.first("responded_at", event.occurred_at)


def _return_rejected(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "return"
    if state.status in ("requested", "approved"):
        state.status = "rejected"
    state.first("responded_at", event.occurred_at)


def _label_created(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "return"
    state.propose("awaiting_return")
    state.first("label_created_at", event.occurred_at)
    state.first("responded_at", event.occurred_at)
    state.return_numbers.update(event.reference_values("tracking"))
    if event.shipment is not None:
        state.return_numbers.add(event.shipment.tracking_number)


def _return_closed(state: _Fold, event: CanonicalEvent) -> None:
    state.propose("closed")
    state.first("closed_at", event.occurred_at)


def _refund_requested(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "refund_only"
    state.requested = state.requested or event.money
    state.take_reason(event)


def _refund_succeeded(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "refund_only"
    if event.money is not None:
        refund_id = event.refund_id or event.event_id
        state.refunds[refund_id] = event
    state.propose("refunded")
    state.first("refunded_at", event.occurred_at)


def _refund_failed(state: _Fold, event: CanonicalEvent) -> None:
    if event.refund_id:
        state.refunds.pop(event.refund_id, None)


def _dispute_opened(state: _Fold, event: CanonicalEvent) -> None:
    state.case_type = state.case_type or "refund_only"
    state.open_disputes.add(_dispute_key(event))
    state.first("dispute_opened_at", event.occurred_at)
    if state.reason_code is None:
        state.take_reason(event)


def _dispute_closed(state: _Fold, event: CanonicalEvent) -> None:
    state.open_disputes.discard(_dispute_key(event))


def _shipment_update(state: _Fold, event: CanonicalEvent) -> None:
    shipment = event.shipment
    if shipment is None:
        return
    is_return = shipment.direction == "return" or shipment.tracking_number in state.return_numbers
    if not is_return:
        if shipment.status == "delivered":
            state.first("delivered_at", event.occurred_at)
        return
    state.latest("last_return_scan_at", event.occurred_at)
    if shipment.status == "delivered":
        state.first("return_received_at", event.occurred_at)
    if shipment.status in ("in_transit", "customs", "out_for_delivery", "available_for_pickup"):
        state.propose("return_in_transit")
    elif shipment.status == "delivered":
        state.propose("received")


def _customs_update(state: _Fold, event: CanonicalEvent) -> None:
    if event.customs is None:
        return
    if event.customs.status in ("held", "duties_due"):
        state.first("customs_held_at", event.occurred_at)
    elif event.customs.status in ("released", "duties_paid", "refused", "seized", "returned"):
        state.milestones["customs_held_at"] = None


def _case_assigned(state: _Fold, event: CanonicalEvent) -> None:
    assert event.action is not None  # the event's validator guarantees it
    state.assignee = event.action.assignee


def _case_replied(state: _Fold, event: CanonicalEvent) -> None:
    state.first("first_reply_at", event.occurred_at)
    state.first("responded_at", event.occurred_at)


def _case_info_requested(state: _Fold, event: CanonicalEvent) -> None:
    state.first("responded_at", event.occurred_at)


def _case_escalated(state: _Fold, event: CanonicalEvent) -> None:
    state.escalated = True
    state.first("escalated_at", event.occurred_at)


def _case_resolution_proposed(state: _Fold, event: CanonicalEvent) -> None:
    assert event.action is not None
    state.proposal = event.action.proposal


def _case_closed(state: _Fold, event: CanonicalEvent) -> None:
    if state.status != "closed":
        state.before_close = state.status
        state.status = "closed"
    state.latest("closed_at", event.occurred_at)


SAME_MONEY_WINDOW = timedelta(days=3)
"""A marketplace's refund and a payment provider's refund of the same amount this close in
time are taken as one money movement reported twice."""


def same_money(first: CanonicalEvent, second: CanonicalEvent) -> bool:
    """Whether two refunds (under different ids) report the same money movement.

    Only on evidence: the same amount and currency, and either a Stripe refund derived from
    `charge.refunded` matching a refund of that charge (`possibly_same_refund`), or a
    marketplace's and a payment provider's report sharing a payment reference or lying within
    `SAME_MONEY_WINDOW` of each other. Two refunds of one provider under different ids are two
    refunds; refunds of different amounts are different money (a partial refund on the
    marketplace and a later one at the payment provider both reached the buyer).
    """
    if first.money is None or second.money is None or first.money != second.money:
        return False
    if possibly_same_refund(first, second):
        return True
    if first.source_kind == second.source_kind:
        return False
    shared = set(first.reference_values("payment")) & set(second.reference_values("payment"))
    return bool(shared) or abs(first.occurred_at - second.occurred_at) <= SAME_MONEY_WINDOW


def _dispute_key(event: CanonicalEvent) -> str:
    return _first(event.reference_values("dispute")) or event.case_key


_HANDLERS: dict[str, Callable[[_Fold, CanonicalEvent], None]] = {
    "order.placed": _order_placed,
    "order.cancelled": _order_cancelled,
    "return.requested": _return_requested,
    "return.approved": _return_approved,
    "return.rejected": _return_rejected,
    "return.label_created": _label_created,
    "return.closed": _return_closed,
    "refund.requested": _refund_requested,
    "refund.succeeded": _refund_succeeded,
    "refund.failed": _refund_failed,
    "dispute.opened": _dispute_opened,
    "dispute.closed": _dispute_closed,
    "shipment.update": _shipment_update,
    "customs.update": _customs_update,
    "case.assigned": _case_assigned,
    "case.replied": _case_replied,
    "case.info_requested": _case_info_requested,
    "case.escalated": _case_escalated,
    "case.resolution_proposed": _case_resolution_proposed,
    "case.closed": _case_closed,
}


def _return_tracking_numbers(events: Iterable[CanonicalEvent]) -> set[str]:
    """Tracking numbers of the case's return leg: announced by return-label events."""
    numbers: set[str] = set()
    for event in events:
        if event.type == "return.label_created":
            numbers.update(event.reference_values("tracking"))
            if event.shipment is not None:
                numbers.add(event.shipment.tracking_number)
        elif event.shipment is not None and event.shipment.direction == "return":
            numbers.add(event.shipment.tracking_number)
    return numbers


def _latest_shipment(shipments: list[ReturnShipment]) -> CaseShipment | None:
    if not shipments:
        return None
    latest = max(shipments, key=lambda s: (s.updated_at, s.tracking_number))
    return CaseShipment(
        tracking_number=latest.tracking_number,
        status=latest.carrier_status or "info_received",
        carrier=latest.carrier,
        updated_at=latest.updated_at,
    )


def _latest_customs(states: list[CustomsState]) -> CaseCustoms | None:
    if not states:
        return None
    latest = max(states, key=lambda s: (s.updated_at, s.tracking_number, s.direction))
    return CaseCustoms(status=latest.status, country=latest.country, duties=latest.duties)


def changed_fields(previous: Case | None, current: Case | None) -> list[str]:
    if current is None:
        return []
    if previous is None:
        return ["opened"]
    ignored = {"timeline", "version", "updated_at"}
    before, after = previous.model_dump(), current.model_dump()
    return sorted(key for key in after if key not in ignored and before.get(key) != after[key])


def _first(values: list[str]) -> str | None:
    return values[0] if values else None
