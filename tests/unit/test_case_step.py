"""The case step on one key, without a broker: events in, one change out; references parked,
released and expired; the SLA clock from the state's own deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.case import CASE
from schemas.events import CANONICAL_EVENT, CanonicalEvent
from schemas.records import CaseChangeRecord, LinkMessage
from streams.case_step import (
    CaseState,
    Output,
    ReferenceState,
    StepSettings,
    decode_state,
    peek_due,
    step_case,
    step_reference,
    tick,
)
from streams.cases import case_id_for_order
from streams.policy import load_policy
from tests.support.events import at, event_factory, shipment_event
from tests.unit.test_case_fold import CASE_ID, build, scenario

SETTINGS = StepSettings(policy=load_policy(), settle=timedelta(0), parked_ttl=timedelta(hours=3))


def raw(event: CanonicalEvent) -> tuple[bytes, CanonicalEvent]:
    return CANONICAL_EVENT.dump_json(event), event


def run_groups(events: list[CanonicalEvent], sizes: list[int]):  # type: ignore[no-untyped-def]
    """Apply `events` in consecutive groups through stored (encoded) state; every output."""
    state: CaseState | None = None
    outputs: list[Output] = []
    position = 0
    for size in [*sizes, len(events)]:
        group = events[position : position + size]
        position += size
        if not group:
            break
        result = step_case(state, CASE_ID, [raw(e) for e in group], now=at(1000),
                           settings=SETTINGS)
        assert result.state is not None
        decoded = decode_state(result.state.encode())
        assert isinstance(decoded, CaseState)
        state = decoded
        outputs += result.outputs
    return state, outputs


def changes(outputs: list[Output]) -> list[CaseChangeRecord]:
    return [CaseChangeRecord.model_validate_json(o.value) for o in outputs if o.role == "changes"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5), max_size=10), st.randoms())
def test_grouping_changes_neither_the_case_nor_the_sla_notifications(sizes, rnd) -> None:  # type: ignore[no-untyped-def]
    events = scenario()
    rnd.shuffle(events)
    _, sequential = build(events)
    one_by_one, single_outputs = run_groups(events, [1] * len(events))
    grouped, grouped_outputs = run_groups(events, sizes)
    assert grouped is not None and grouped.case == sequential == one_by_one.case
    assert grouped.version == len(events)

    def notified(outputs: list[Output]) -> list[str]:
        return sorted(c.event_id for c in changes(outputs) if c.event_type.startswith("sla."))

    assert notified(grouped_outputs) == notified(single_outputs)


def test_a_group_of_events_makes_one_change_with_its_policy_and_parcel() -> None:
    events = scenario()
    result = step_case(None, CASE_ID, [raw(e) for e in events], now=at(1000), settings=SETTINGS)
    roles = [o.role for o in result.outputs]
    assert roles.count("cases") == 1 and roles.count("policy") == 1
    [change] = [c for c in changes(result.outputs) if not c.event_type.startswith("sla.")]
    assert change.event_ids == [e.event_id for e in events]
    assert change.version == len(events) == change.case.version
    assert change.changed_fields == ["opened"]
    assert change.policy is not None and change.policy["case_version"] == len(events)
    assert change.return_shipment is not None
    assert change.return_shipment.tracking_number in change.case.return_tracking_numbers
    [case_out] = [o for o in result.outputs if o.role == "cases"]
    assert CASE.validate_json(case_out.value) == change.case
    shipments = [o for o in result.outputs if o.role == "shipments"]
    assert shipments and all(o.key.decode() in change.case.return_tracking_numbers
                             for o in shipments)


def test_events_seen_before_change_nothing() -> None:
    events = scenario()
    first = step_case(None, CASE_ID, [raw(e) for e in events[:3]], now=at(1000),
                      settings=SETTINGS)
    assert isinstance(first.state, CaseState)
    again = step_case(first.state, CASE_ID, [raw(events[1]), raw(events[0])], now=at(1001),
                      settings=SETTINGS)
    assert again.state is None and again.outputs == []
    mixed = step_case(first.state, CASE_ID, [raw(events[2]), raw(events[3]), raw(events[3])],
                      now=at(1001), settings=SETTINGS)
    assert isinstance(mixed.state, CaseState) and mixed.state.version == 4
    [change] = changes(mixed.outputs)
    assert change.event_ids == [events[3].event_id]


def test_an_order_without_after_sales_is_stored_but_not_published() -> None:
    placed = event_factory(type="order.placed", order_id="1001", occurred_at=at(0))
    result = step_case(None, CASE_ID, [raw(placed)], now=at(1), settings=SETTINGS)
    assert isinstance(result.state, CaseState) and result.state.case is None
    assert result.outputs == []


def test_stored_state_keeps_the_raw_events_and_says_its_deadline_on_the_first_line() -> None:
    events = scenario()[:2]  # ordered, then a return request: the response deadline is open
    result = step_case(None, CASE_ID, [raw(e) for e in events], now=at(30), settings=SETTINGS)
    assert isinstance(result.state, CaseState)
    stored = result.state.encode()
    assert stored.split(b"\n")[2:] == [CANONICAL_EVENT.dump_json(e) for e in events]
    decoded = decode_state(stored)
    assert isinstance(decoded, CaseState)
    assert decoded.case == result.state.case and decoded.applied == result.state.applied
    assert decoded.events() == sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    due = result.state.due_at(SETTINGS)
    assert due is not None and peek_due(stored, SETTINGS) == due


def test_a_tick_fires_each_due_notification_once() -> None:
    events = scenario()[:2]
    state = step_case(None, CASE_ID, [raw(e) for e in events], now=at(24),
                      settings=SETTINGS).state
    assert isinstance(state, CaseState)
    due = state.due_at(SETTINGS)
    assert due is not None
    assert tick(state, CASE_ID, due - timedelta(seconds=1), settings=SETTINGS).state is None
    fired = tick(state, CASE_ID, due, settings=SETTINGS)
    assert isinstance(fired.state, CaseState)
    sla = [c for c in changes(fired.outputs) if c.event_type.startswith("sla.")]
    assert len(sla) == 1 and sla[0].case == state.case and sla[0].policy is not None
    again = tick(decode_state(fired.state.encode()), CASE_ID, due + timedelta(seconds=1),
                 settings=SETTINGS)
    assert again.state is None and again.outputs == []
    later = fired.state.due_at(SETTINGS)
    assert later is None or later > due


REFERENCE = "payment:pi_1"


def refund() -> CanonicalEvent:
    return event_factory(source="stripe", type="refund.succeeded",
                         references=[REFERENCE, "refund:re_1"])


def link(case_id: str = CASE_ID, via: str = "e1") -> bytes:
    return LinkMessage(reference=REFERENCE, case_id=case_id, via_event=via).model_dump_json(
    ).encode()


def test_an_event_waits_for_its_link_then_goes_to_its_case() -> None:
    event_raw, _ = raw(refund())
    parked = step_reference(None, REFERENCE, "pending", event_raw, now=at(0))
    assert isinstance(parked.state, ReferenceState) and parked.outputs == []
    assert parked.state.parked_raw == (event_raw,)
    stored = decode_state(parked.state.encode())
    released = step_reference(stored, REFERENCE, "link", link(), now=at(1))  # type: ignore[arg-type]
    assert isinstance(released.state, ReferenceState)
    assert released.state.case_id == CASE_ID and released.state.parked_raw == ()
    assert [(o.role, o.kind, o.key.decode()) for o in released.outputs] == [
        ("inbox", "event", CASE_ID)]
    assert released.outputs[0].value == event_raw


def test_a_linked_reference_forwards_at_once_and_parks_nothing_twice() -> None:
    event_raw, _ = raw(refund())
    linked = step_reference(ReferenceState(CASE_ID), REFERENCE, "pending", event_raw, now=at(0))
    assert linked.state is None and linked.outputs[0].key == CASE_ID.encode()
    once = step_reference(None, REFERENCE, "pending", event_raw, now=at(0)).state
    assert step_reference(once, REFERENCE, "pending", event_raw, now=at(1)).state is None  # type: ignore[arg-type]


def test_the_first_link_wins() -> None:
    other = case_id_for_order("2002")
    ignored = step_reference(ReferenceState(CASE_ID), REFERENCE, "link", link(other), now=at(0))
    assert ignored.state is None and ignored.outputs == []


def test_expiry_dead_letters_only_what_waited_past_the_ttl() -> None:
    old, new = shipment_event("TRK1", "in_transit", 0), shipment_event("TRK1", "delivered", 1)
    state = step_reference(None, "tracking:TRK1", "pending", raw(old)[0], now=at(0)).state
    state = step_reference(state, "tracking:TRK1", "pending", raw(new)[0], now=at(2)).state  # type: ignore[arg-type]
    assert isinstance(state, ReferenceState)
    assert state.due_at(SETTINGS) == at(3) == peek_due(state.encode(), SETTINGS)
    result = tick(state, "tracking:TRK1", at(4), settings=SETTINGS)
    [letter] = result.outputs
    assert (letter.role, letter.kind, letter.value) == ("dead_letter", "pending", raw(old)[0])
    assert "tracking:TRK1" in letter.reason and letter.error == "ParkedEventExpired"
    assert isinstance(result.state, ReferenceState)
    assert result.state.parked_raw == (raw(new)[0],) and result.state.due_at(SETTINGS) == at(5)


@pytest.mark.parametrize("value", [b"", b"X-\n{}", b"C-\nnot json"])
def test_an_unreadable_state_is_an_error_not_a_guess(value: bytes) -> None:
    with pytest.raises(ValueError):
        decode_state(value)
