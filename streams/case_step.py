"""The case step, pure: one key's state and its inbox messages in, the new state and outputs out.

The case step owns three kinds of keys, co-partitioned (every case of an order sits in its
order's partition, `streams.topics.partition_of`):

    case id     `CaseState`: the events applied (raw JSON, append-only), the current Case and
                its policy clock. `step_case` applies a group of events: one new state, one
                `cases`, `case.changes` and `case.policy` record however many events, and a
                link for each reference new to the case.
    order       `OrderCases` (stored under `<first case id>#cases`, only once an order has a
                second case): the order's cases in the order they opened. `step_order` takes
                the events of an order's first case id, attributes each to one of the order's
                cases (`streams.correlation.attribute`) and steps each case once.
    reference   `ReferenceState`: the case the reference belongs to, or the events parked until
                a link names it. `step_reference` takes a link or a pending event.

`erase_case` forgets a case (`hub erase`): its state and, as tombstones, everything it published
on the compacted topics; its references are erased by messages of their own.

`tick` runs time forward for one key: the SLA clock of a case (`streams.policy.steps.on_tick`),
the expiry of a reference's parked events. `due_at` says when a state next needs a tick, so the
worker keeps an index of deadlines instead of scanning every key.

Nothing here imports faust or Kafka; time comes in as `now`. The worker
(`streams.case_worker`) commits a step's state, outputs and input offsets in one Kafka
transaction, so a step never has to recognise its own replay: a redelivered event is a
duplicate only when it really is one (by `event_id`), and then it changes nothing.

Per event the work is constant in bytes moved: a state keeps the raw JSON of its events and
appends the new ones without re-serializing the old; the Case is re-folded from the parsed
events (needed because a late event takes its place in event-time order).
"""

from __future__ import annotations

import bisect
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from schemas.case import CASE, Case, CustomsState, ReturnShipment
from schemas.events import CANONICAL_EVENT, CanonicalEvent
from schemas.records import (
    CaseChangeRecord,
    EraseMessage,
    InboxKind,
    LinkMessage,
    ShipmentRecord,
)
from schemas.timestamps import UtcDatetime
from streams.cases import (
    CASE_FAMILY_SEPARATOR,
    ReasonClassifier,
    changed_fields,
    event_order,
    fold_events,
)
from streams.correlation import (
    OrderCase,
    anchored_references,
    attribute,
    by_amount_or_time,
    claims_of,
    depends_on_cases,
    is_loose,
    is_order_context,
    links_for,
    references_of,
)
from streams.policy.loading import Policy
from streams.policy.steps import (
    CASE_POLICY,
    CasePolicy,
    PolicyState,
    PolicyStep,
    on_snapshot,
    on_tick,
)

log = logging.getLogger("streams.case_step")

Role = Literal["inbox", "cases", "changes", "policy", "shipments", "dead_letter"]
SHIPPING_TYPES = frozenset(
    {"shipment.update", "customs.update", "return.label_created", "return.closed",
     "refund.succeeded"}
)
SLA_EVENT_TYPES = {"warning": "sla.warning", "breach": "sla.breach"}
MOVED_EVENT_TYPE = "case.events_moved"
"""The change of a case whose loose events moved to a later case of its order (`event_id`:
the last one moved)."""
_CASE_TAG = b"C"
_REFERENCE_TAG = b"R"
_ORDER_TAG = b"O"
ORDER_CASES_SUFFIX = "#cases"
_FROZEN = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class StepSettings:
    """What a step needs besides its state and input: the rules and the time windows."""

    policy: Policy
    classify_reason: ReasonClassifier | None = None
    settle: timedelta = timedelta(seconds=60)
    parked_ttl: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Output:
    """One record a step sends: to `role`'s topic, keyed by `key`; a None `value` is a
    tombstone (an erasure)."""

    role: Role
    key: bytes
    value: bytes | None
    kind: InboxKind | None = None
    reason: str = ""
    error: str = ""


class _CaseHeader(BaseModel):
    model_config = _FROZEN
    case_id: str
    version: int
    applied: tuple[str, ...]
    policy: PolicyState | None = None


class _ReferenceHeader(BaseModel):
    model_config = _FROZEN
    case_id: str | None = None
    parked_ids: tuple[str, ...] = ()
    parked_at: tuple[UtcDatetime, ...] = ()


_CASE_HEADER = TypeAdapter(_CaseHeader)
_REFERENCE_HEADER = TypeAdapter(_ReferenceHeader)


class CaseState:
    """A case's stored state: applied events (raw, in applied order), the Case and its policy.

    Events are parsed only when a step needs them (a cold case being changed).
    """

    __slots__ = ("case_id", "version", "applied", "raw_events", "policy", "_events")

    def __init__(
        self,
        case_id: str,
        *,
        version: int = 0,
        applied: tuple[str, ...] = (),
        raw_events: tuple[bytes, ...] = (),
        policy: PolicyState | None = None,
        events: list[CanonicalEvent] | None = None,
    ) -> None:
        self.case_id = case_id
        self.version = version
        self.applied = applied
        self.raw_events = raw_events
        self.policy = policy
        self._events = events

    @property
    def case(self) -> Case | None:
        return self.policy.case if self.policy is not None else None

    def events(self) -> list[CanonicalEvent]:
        """The applied events in event-time order (parsed once per state object)."""
        if self._events is None:
            self._events = sorted(
                (CANONICAL_EVENT.validate_json(raw) for raw in self.raw_events), key=event_order
            )
        return self._events

    def encode(self) -> bytes:
        header = _CASE_HEADER.dump_json(
            _CaseHeader(case_id=self.case_id, version=self.version, applied=self.applied,
                        policy=self.policy)
        )
        return b"\n".join((_CASE_TAG + _instant(self._wakes_at()), header, *self.raw_events))

    def due_at(self, settings: StepSettings) -> datetime | None:
        """When a tick can next fire an SLA notification (None: nothing left to fire)."""
        return self._wakes_at()

    def _wakes_at(self) -> datetime | None:
        policy = self.policy
        if policy is None or policy.next_at is None:
            return None
        if policy.quiet_until is not None and policy.quiet_until > policy.next_at:
            return policy.quiet_until
        return policy.next_at


class ReferenceState:
    """A reference's stored state: the case it belongs to, or the events parked on it."""

    __slots__ = ("case_id", "parked_ids", "parked_at", "parked_raw")

    def __init__(
        self,
        case_id: str | None = None,
        *,
        parked_ids: tuple[str, ...] = (),
        parked_at: tuple[datetime, ...] = (),
        parked_raw: tuple[bytes, ...] = (),
    ) -> None:
        self.case_id = case_id
        self.parked_ids = parked_ids
        self.parked_at = parked_at
        self.parked_raw = parked_raw

    def encode(self) -> bytes:
        header = _REFERENCE_HEADER.dump_json(
            _ReferenceHeader(case_id=self.case_id, parked_ids=self.parked_ids,
                             parked_at=self.parked_at)
        )
        oldest = min(self.parked_at) if self.parked_at else None
        return b"\n".join((_REFERENCE_TAG + _instant(oldest), header, *self.parked_raw))

    def due_at(self, settings: StepSettings) -> datetime | None:
        """When the oldest parked event expires (None: nothing parked)."""
        return min(self.parked_at) + settings.parked_ttl if self.parked_at else None


class OrderCases:
    """The cases of an order with more than one, in the order they opened (the first is the
    order's first case id)."""

    __slots__ = ("case_ids",)

    def __init__(self, case_ids: tuple[str, ...]) -> None:
        self.case_ids = case_ids

    def encode(self) -> bytes:
        return b"\n".join((_ORDER_TAG + b"-", json.dumps(list(self.case_ids)).encode()))

    def due_at(self, settings: StepSettings) -> datetime | None:
        return None


def order_cases_key(order_case_id: str) -> str:
    """Where the case step keeps the list of an order's cases."""
    return order_case_id + ORDER_CASES_SUFFIX


def is_later_case(case_id: str) -> bool:
    """Whether a case id is a later case of its order (not the order's first case)."""
    return CASE_FAMILY_SEPARATOR in case_id


State = CaseState | ReferenceState | OrderCases


def decode_state(value: bytes) -> State:
    """A stored state: `<tag><instant>` / header JSON / one raw event per line.

    Raises:
        ValueError: the value is no state this release can read.
    """
    first, _, rest = value.partition(b"\n")
    head, _, rest = rest.partition(b"\n")
    lines = tuple(rest.split(b"\n")) if rest else ()
    tag = first[:1]
    if tag == _CASE_TAG:
        header = _CASE_HEADER.validate_json(head)
        return CaseState(header.case_id, version=header.version, applied=header.applied,
                         raw_events=lines, policy=header.policy)
    if tag == _REFERENCE_TAG:
        ref = _REFERENCE_HEADER.validate_json(head)
        return ReferenceState(ref.case_id, parked_ids=ref.parked_ids, parked_at=ref.parked_at,
                              parked_raw=lines)
    if tag == _ORDER_TAG:
        case_ids = json.loads(head)
        if not isinstance(case_ids, list) or not all(isinstance(c, str) for c in case_ids):
            raise ValueError("an order's cases are a list of case ids")
        return OrderCases(tuple(case_ids))
    raise ValueError(f"unknown state tag {tag!r}")


def peek_due(value: bytes, settings: StepSettings) -> datetime | None:
    """When a stored state next needs a tick, from its first line alone (no JSON parsed).

    Raises:
        ValueError: the value is no state this release can read.
    """
    first = value[: value.find(b"\n")] if b"\n" in value else value
    tag, text = first[:1], first[1:].decode()
    instant = None if text == "-" else datetime.fromisoformat(text)
    if tag == _REFERENCE_TAG:
        return instant + settings.parked_ttl if instant is not None else None
    if tag == _CASE_TAG:
        return instant
    if tag == _ORDER_TAG:
        return None
    raise ValueError(f"unknown state tag {tag!r}")


def _instant(value: datetime | None) -> bytes:
    return value.isoformat().encode() if value is not None else b"-"


@dataclass(frozen=True, slots=True)
class StepResult:
    """A step's new state (None: unchanged) and the records it sends; `erased`: the key's state
    is deleted instead (a tombstone on the changelog)."""

    state: State | None
    outputs: list[Output] = field(default_factory=list)
    erased: bool = False


def step_case(
    state: CaseState | None,
    case_id: str,
    events: Sequence[tuple[bytes, CanonicalEvent]],
    *,
    now: datetime,
    settings: StepSettings,
) -> StepResult:
    """Apply a case's events (raw JSON with its parsed event) as one change.

    Events already applied are skipped; nothing new, nothing sent. Each event still moves the
    policy clock on its own snapshot, so SLA notifications are what one-at-a-time application
    would fire, while the case is stored and published once.
    """
    current = state or CaseState(case_id)
    known = set(current.applied)
    fresh = []
    for raw, event in events:
        if event.event_id not in known:
            known.add(event.event_id)
            fresh.append((raw, event))
    if not fresh:
        return StepResult(None)
    before = current.case
    ordered = list(current.events())
    links = _new_links(case_id, ordered, [event for _, event in fresh])
    policy_state = current.policy
    version = current.version
    notifications: list[Output] = []
    published: CasePolicy | None = None
    case: Case | None = None
    returns: list[ReturnShipment] = []
    customs: list[CustomsState] = []
    last = len(fresh) - 1
    for position, (_, event) in enumerate(fresh):
        bisect.insort(ordered, event, key=event_order)
        version += 1
        case, returns, customs = fold_events(case_id, version, ordered, settings.classify_reason)
        if case is None:
            continue
        step = on_snapshot(policy_state, case, settings.policy, now=now, settle=settings.settle,
                           publish=position == last)
        policy_state = step.store or policy_state
        published = step.publish or published
        notifications += _notifications(step, step.publish)
    updated = CaseState(
        case_id, version=version, applied=(*current.applied, *(e.event_id for _, e in fresh)),
        raw_events=(*current.raw_events, *(raw for raw, _ in fresh)), policy=policy_state,
        events=ordered,
    )
    outputs = links
    if case is not None:
        newest = fresh[-1][1]
        outputs += _change_outputs(
            case, before, published, returns, notifications, event_id=newest.event_id,
            event_type=newest.type, event_ids=[e.event_id for _, e in fresh])
        if any(event.type in SHIPPING_TYPES for _, event in fresh):
            outputs += [
                Output("shipments", s.tracking_number.encode(), s.model_dump_json().encode())
                for s in _shipment_records(case_id, returns, customs)
            ]
    return StepResult(updated, outputs)


def _new_links(
    case_id: str, known: Sequence[CanonicalEvent], fresh: Sequence[CanonicalEvent]
) -> list[Output]:
    """Links of the references that `fresh` events bring to a case, once each."""
    linked = {reference for event in known for reference in references_of(event)}
    outputs = []
    for event in fresh:
        for link in links_for(event, case_id):
            if link.reference not in linked:
                linked.add(link.reference)
                outputs.append(Output("inbox", link.reference.encode(),
                                      link.model_dump_json().encode(), kind="link"))
    return outputs


@dataclass(frozen=True, slots=True)
class OrderStepResult:
    """The new states of an order's keys (its cases, its list of cases) and what they send."""

    states: dict[str, State]
    outputs: list[Output]


def step_order(
    load: Callable[[str], State | None],
    order_case_id: str,
    events: Sequence[tuple[bytes, CanonicalEvent]],
    *,
    now: datetime,
    settings: StepSettings,
) -> OrderStepResult:
    """Attribute the events of an order (sent to its first case id) to the order's cases and
    step each case once (`step_case`), as one-at-a-time attribution would: events are grouped
    per case until an attribution reads the cases' state, which applies the groups first.

    A case opened by a new claim starts with the order's context (`is_order_context` events of
    the order's first case), so its windows count from the order's delivery.
    """
    listed = load(order_cases_key(order_case_id))
    case_ids = list(listed.case_ids) if isinstance(listed, OrderCases) else [order_case_id]
    states: dict[str, CaseState | None] = {}
    for case_id in case_ids:
        state = load(case_id)
        states[case_id] = state if isinstance(state, CaseState) else None
    waiting: dict[str, list[tuple[bytes, CanonicalEvent]]] = {}
    changed: dict[str, State] = {}
    outputs: list[Output] = []

    def apply_waiting() -> None:
        for case_id, group in waiting.items():
            result = step_case(states[case_id], case_id, group, now=now, settings=settings)
            if isinstance(result.state, CaseState):
                states[case_id] = changed[case_id] = result.state
            outputs.extend(result.outputs)
        waiting.clear()

    def order_cases(with_case: bool) -> list[OrderCase]:
        return [
            _order_case(case_id, states[case_id], waiting.get(case_id, ()), with_case)
            for case_id in case_ids
            if states[case_id] is not None or waiting.get(case_id)
        ]

    def holder_of(event_id: str) -> str | None:
        """The case that already has this event (a redelivery, or an event moved there)."""
        for case_id in case_ids:
            state = states[case_id]
            if (state is not None and event_id in state.applied) or any(
                    e.event_id == event_id for _, e in waiting.get(case_id, ())):
                return case_id
        return None

    opened: list[str] = []
    for raw, event in events:
        if len(case_ids) == 1 and not claims_of(event) and not event.reference_values("case"):
            # The usual order, one case: nothing to choose (duplicates are the case's to skip).
            waiting.setdefault(order_case_id, []).append((raw, event))
            continue
        holder = None if is_order_context(event) else holder_of(event.event_id)
        if holder is not None:
            waiting.setdefault(holder, []).append((raw, event))
            continue
        cases = order_cases(with_case=False)
        if depends_on_cases(event, cases):
            apply_waiting()
            cases = order_cases(with_case=True)
        attribution = attribute(event, order_case_id, cases)
        for case_id in attribution.case_ids:
            if case_id not in states:
                case_ids.append(case_id)
                states[case_id] = None
                changed[order_cases_key(order_case_id)] = OrderCases(tuple(case_ids))
            if states[case_id] is None and not waiting.get(case_id) and case_id != order_case_id:
                waiting[case_id] = _order_context(
                    states.get(order_case_id), waiting.get(order_case_id, ()))
            waiting.setdefault(case_id, []).append((raw, event))
        if attribution.opens is not None:
            opened.append(attribution.opens)
    apply_waiting()
    for case_id in opened:
        for earlier, moved in _loose_after_opening(case_id, case_ids, states):
            result = _without(states[earlier], earlier, moved, now=now, settings=settings)
            if isinstance(result.state, CaseState):
                states[earlier] = changed[earlier] = result.state
            outputs.extend(result.outputs)
            waiting[case_id] = [*waiting.get(case_id, []), *moved]
        apply_waiting()
    return OrderStepResult(changed, outputs)


def _loose_after_opening(
    opened: str, case_ids: Sequence[str], states: dict[str, CaseState | None]
) -> list[tuple[str, list[tuple[bytes, CanonicalEvent]]]]:
    """The loose events (`is_loose`) of the order's other cases that rules 4 and 5 now give to
    the case `opened`: they reached the order before the claim that opened it."""
    if states.get(opened) is None:
        return []
    cases = [_order_case(c, states[c], (), with_case=True) for c in case_ids
             if states[c] is not None]
    moves = []
    for case_id in case_ids:
        state = states[case_id]
        if case_id == opened or state is None:
            continue
        anchored = anchored_references(state.events())
        by_id = dict(zip(state.applied, state.raw_events, strict=True))
        moved = [
            (by_id[event.event_id], event) for event in state.events()
            if is_loose(event, anchored) and by_amount_or_time(event, cases).case_id == opened
        ]
        if moved:
            moves.append((case_id, moved))
    return moves


def _without(
    state: CaseState | None, case_id: str, moved: Sequence[tuple[bytes, CanonicalEvent]],
    *, now: datetime, settings: StepSettings,
) -> StepResult:
    """A case without events that turned out to be another case's: one change, a new version."""
    if state is None:
        return StepResult(None)
    gone = {event.event_id for _, event in moved}
    kept = [(i, raw) for i, raw in zip(state.applied, state.raw_events, strict=True)
            if i not in gone]
    ordered = [event for event in state.events() if event.event_id not in gone]
    version = state.version + 1
    before = state.case
    case, returns, _ = fold_events(case_id, version, ordered, settings.classify_reason)
    policy_state = state.policy
    notifications: list[Output] = []
    published: CasePolicy | None = None
    if case is not None:
        step = on_snapshot(policy_state, case, settings.policy, now=now, settle=settings.settle,
                           publish=True)
        policy_state = step.store or policy_state
        published = step.publish
        notifications = _notifications(step, step.publish)
    updated = CaseState(case_id, version=version, applied=tuple(i for i, _ in kept),
                        raw_events=tuple(raw for _, raw in kept), policy=policy_state,
                        events=ordered)
    if case is None:  # nothing after-sales is left on it: withdrawn like an erased case
        key = case_id.encode()
        return StepResult(updated, [Output("cases", key, None), Output("policy", key, None)])
    return StepResult(updated, _change_outputs(
        case, before, published, returns, notifications, event_id=moved[-1][1].event_id,
        event_type=MOVED_EVENT_TYPE, event_ids=[]))


def _change_outputs(
    case: Case, before: Case | None, published: CasePolicy | None,
    returns: Sequence[ReturnShipment], notifications: list[Output], *,
    event_id: str, event_type: str, event_ids: list[str],
) -> list[Output]:
    """What one change of a case publishes: the case, its change record, the SLA
    notifications it fired and its policy."""
    key = case.case_id.encode()
    record = CaseChangeRecord(
        case_id=case.case_id, version=case.version, event_id=event_id, event_type=event_type,
        event_ids=event_ids, changed_fields=changed_fields(before, case), case=case,
        policy=CASE_POLICY.dump_python(published, mode="json") if published else None,
        return_shipment=max(returns, key=lambda s: (s.updated_at, s.tracking_number),
                            default=None),
    )
    outputs = [Output("cases", key, CASE.dump_json(case)),
               Output("changes", key, record.model_dump_json().encode()), *notifications]
    if published is not None:
        outputs.append(Output("policy", key, CASE_POLICY.dump_json(published)))
    return outputs


def _order_case(
    case_id: str, state: CaseState | None, waiting: Sequence[tuple[bytes, CanonicalEvent]],
    with_case: bool,
) -> OrderCase:
    events = [*(state.events() if state is not None else ()), *(e for _, e in waiting)]
    claimed = [e.occurred_at for e in events if claims_of(e)]
    return OrderCase(
        case_id,
        claims=frozenset().union(*(claims_of(e) for e in events)),
        references=frozenset().union(*(references_of(e) for e in events)),
        case=state.case if with_case and state is not None else None,
        claimed_at=min(claimed, default=None),
    )


def _order_context(
    first: CaseState | None, waiting: Sequence[tuple[bytes, CanonicalEvent]]
) -> list[tuple[bytes, CanonicalEvent]]:
    """The order-context events of an order's first case, applied or waiting."""
    applied = [] if first is None else [
        (raw, CANONICAL_EVENT.validate_json(raw)) for raw in first.raw_events
    ]
    return [(raw, event) for raw, event in (*applied, *waiting) if is_order_context(event)]


def forget_case(state: State | None, *, case_id: str) -> StepResult:
    """Drop an erased case from its order's list of cases."""
    if not isinstance(state, OrderCases) or case_id not in state.case_ids:
        return StepResult(None)
    return StepResult(OrderCases(tuple(c for c in state.case_ids if c != case_id)))


def step_reference(
    state: ReferenceState | None,
    reference: str,
    kind: InboxKind,
    raw: bytes,
    *,
    now: datetime,
) -> StepResult:
    """Take a link (`raw` is a LinkMessage) or a pending event (`raw` is its JSON).

    A linked reference forwards its events to their case at once; an unlinked one parks them
    until a link arrives (released in arrival order) or they expire (`tick`).

    Raises:
        pydantic.ValidationError: `raw` is not what `kind` says.
    """
    current = state or ReferenceState()
    if kind == "link":
        link = LinkMessage.model_validate_json(raw)
        if current.case_id is not None:
            if current.case_id != link.case_id:
                # Usual for a reference an order's cases share (its payment): the first keeps it.
                log.debug("reference %s already belongs to %s; ignoring link to %s from %s",
                          reference, current.case_id, link.case_id, link.via_event)
            return StepResult(None)
        outputs = [out for parked in current.parked_raw for out in _forward(parked, link.case_id)]
        return StepResult(ReferenceState(link.case_id), outputs)
    if current.case_id is not None:
        return StepResult(None, _forward(raw, current.case_id))
    event = CANONICAL_EVENT.validate_json(raw)
    if event.event_id in current.parked_ids:
        return StepResult(None)
    return StepResult(ReferenceState(
        None, parked_ids=(*current.parked_ids, event.event_id),
        parked_at=(*current.parked_at, now), parked_raw=(*current.parked_raw, raw),
    ))


@dataclass(frozen=True, slots=True)
class ErasureTargets:
    """What a case left on the compacted topics besides its own key: the references linked to
    it and the tracking numbers of its `shipments` records."""

    references: tuple[str, ...]
    tracking_numbers: tuple[str, ...]


def erasure_targets(state: CaseState) -> ErasureTargets:
    """The references and the published tracking numbers of a case, from its applied events."""
    events = state.events()
    references = {str(ref) for event in events for ref in event.references if ref.kind != "order"}
    _, returns, customs = fold_events(state.case_id, state.version, events, None)
    numbers = {s.tracking_number for s in returns} | {c.tracking_number for c in customs}
    return ErasureTargets(tuple(sorted(references)), tuple(sorted(numbers)))


def erase_case(state: State | None, key: str, *, case_id: str) -> StepResult:
    """Forget `key`, the case `case_id` or one of its references (an `erase` inbox message).

    The case's own key: its state is deleted and tombstones go to `cases`, `case.policy`, the
    `shipments` of its parcels and `case.changes` (the feeds stage tombstones the case on every
    `feed.<region>` when it reads that one, after the case's earlier changes); each reference of
    the case gets an `erase` message of its own (keyed by the reference, so it reaches the
    reference's partition). Tombstones are sent even for a case this step does not know, so an
    erasure repeated after a lost state still clears the outputs.

    A reference is deleted only while it belongs to `case_id`: a reference that another case
    took, or that holds parked events of no case yet, is left alone.
    """
    if key != case_id:
        owned = isinstance(state, ReferenceState) and state.case_id == case_id
        return StepResult(None, erased=owned)
    encoded = case_id.encode()
    outputs = [Output("cases", encoded, None), Output("policy", encoded, None),
               Output("changes", encoded, None)]
    if not isinstance(state, CaseState):
        return StepResult(None, outputs)
    targets = erasure_targets(state)
    outputs += [Output("shipments", number.encode(), None) for number in targets.tracking_numbers]
    message = EraseMessage(case_id=case_id).model_dump_json().encode()
    outputs += [Output("inbox", reference.encode(), message, kind="erase")
                for reference in targets.references]
    return StepResult(None, outputs, erased=True)


def tick(state: State, key: str, at: datetime, *, settings: StepSettings) -> StepResult:
    """Run time forward to `at` for one key: fire due SLA notifications, expire parked events."""
    if isinstance(state, ReferenceState):
        return _expire(state, key, at, settings.parked_ttl)
    if not isinstance(state, CaseState) or state.policy is None:
        return StepResult(None)
    step = on_tick(state.policy, at, settings.policy)
    if step.store is None:
        return StepResult(None)
    updated = CaseState(state.case_id, version=state.version, applied=state.applied,
                        raw_events=state.raw_events, policy=step.store, events=state._events)
    outputs = _notifications(step, step.publish)
    if step.publish is not None:
        outputs.append(Output("policy", key.encode(), CASE_POLICY.dump_json(step.publish)))
    return StepResult(updated, outputs)


def expiry_reason(reference: str, parked_at: datetime, ttl: timedelta) -> str:
    return (
        f"no case found for {reference} within {ttl.total_seconds():.0f} s "
        f"(parked since {parked_at.isoformat()}): no event linked this reference to an order"
    )


def _expire(state: ReferenceState, reference: str, at: datetime, ttl: timedelta) -> StepResult:
    expired = [i for i, parked_at in enumerate(state.parked_at) if at - parked_at >= ttl]
    if not expired:
        return StepResult(None)
    kept = [i for i in range(len(state.parked_at)) if i not in expired]
    outputs = [
        Output("dead_letter", reference.encode(), state.parked_raw[i], kind="pending",
               reason=expiry_reason(reference, state.parked_at[i], ttl),
               error="ParkedEventExpired")
        for i in expired
    ]
    return StepResult(ReferenceState(
        state.case_id,
        parked_ids=tuple(state.parked_ids[i] for i in kept),
        parked_at=tuple(state.parked_at[i] for i in kept),
        parked_raw=tuple(state.parked_raw[i] for i in kept),
    ), outputs)


def _forward(raw: bytes, case_id: str) -> list[Output]:
    """An event on its way to its case (which links the event's other references)."""
    return [Output("inbox", case_id.encode(), raw, kind="event")]


def _notifications(step: PolicyStep, policy: CasePolicy | None) -> list[Output]:
    if not step.notifications:
        return []
    assert step.store is not None  # a step that fires always has a state to store
    case = step.store.case
    policy_json = CASE_POLICY.dump_python(policy, mode="json") if policy is not None else None
    return [
        Output("changes", case.case_id.encode(), CaseChangeRecord(
            case_id=case.case_id, version=case.version, event_id=notification.id,
            event_type=SLA_EVENT_TYPES[notification.kind], changed_fields=["sla"], case=case,
            policy=policy_json,
        ).model_dump_json().encode())
        for notification in step.notifications
    ]


def _shipment_records(
    case_id: str, returns: Sequence[ReturnShipment], customs: Sequence[CustomsState]
) -> list[ShipmentRecord]:
    numbers = sorted({s.tracking_number for s in returns} | {c.tracking_number for c in customs})
    return [
        ShipmentRecord(
            tracking_number=number, case_id=case_id,
            return_shipping=next((s for s in returns if s.tracking_number == number), None),
            customs=[c for c in customs if c.tracking_number == number],
        )
        for number in numbers
    ]
