from __future__ import annotations

from datetime import timedelta

from streams.cases import case_id_for_order
from streams.correlation import (
    REFERENCE_MESSAGE,
    LinkMessage,
    PendingMessage,
    ReferenceState,
    TickMessage,
    expire,
    resolve,
    route,
)
from tests.support.events import at, event_factory, shipment_event

CASE = case_id_for_order("1001")


def test_event_naming_its_order_goes_to_the_case_and_links_its_other_references() -> None:
    event = event_factory(
        type="return.label_created",
        order_id="1001",
        references=["order:1001", "return:r1", "tracking:TRK1"],
    )
    routed = route(event)
    assert routed.case_id == CASE
    assert [(link.reference, link.case_id) for link in routed.links] == [
        ("return:r1", CASE),
        ("tracking:TRK1", CASE),
    ]
    assert routed.pending is None


def test_event_without_order_waits_on_its_case_key() -> None:
    scan = shipment_event("TRK1", "in_transit", 3)
    routed = route(scan)
    assert routed.case_id is None
    assert routed.pending is not None and routed.pending.reference == "tracking:TRK1"


def test_parked_event_is_released_when_the_link_arrives_and_chains_its_references() -> None:
    refund = event_factory(
        source="stripe", type="refund.succeeded", references=["payment:pi_1", "refund:re_1"]
    )
    parked = resolve(None, PendingMessage(reference="payment:pi_1", event=refund), now=at(0))
    assert parked.to_cases == [] and parked.state is not None and len(parked.state.parked) == 1
    link = LinkMessage(reference="payment:pi_1", case_id=CASE, via_event="e1")
    released = resolve(parked.state, link, now=at(1))
    assert released.to_cases == [(CASE, refund)]
    assert released.state is not None and released.state.case_id == CASE
    assert released.state.parked == ()
    assert [(link.reference, link.case_id) for link in released.links] == [("refund:re_1", CASE)]
    # The same link message again (a replay after a crash): the release is sent again.
    again = resolve(released.state, link, now=at(2))
    assert again.to_cases == [(CASE, refund)] and again.state is None
    # The same link learnt from another event: nothing to send again.
    other = link.model_copy(update={"via_event": "e2"})
    assert resolve(released.state, other, now=at(2)).to_cases == []
    # A later tick empties the outbox once it is old enough.
    emptied = expire(
        released.state, tick=at(3), ttl=timedelta(hours=9), keep_outbox=timedelta(hours=1)
    )
    assert emptied.state is not None and emptied.state.empty


def test_linked_reference_forwards_at_once_and_duplicates_do_not_pile_up() -> None:
    scan = shipment_event("TRK1", "delivered", 9)
    linked = ReferenceState(case_id=CASE)
    assert resolve(
        linked, PendingMessage(reference="tracking:TRK1", event=scan), now=at(9)
    ).to_cases == [(CASE, scan)]
    once = resolve(None, PendingMessage(reference="tracking:TRK1", event=scan), now=at(9)).state
    twice = resolve(once, PendingMessage(reference="tracking:TRK1", event=scan), now=at(9))
    assert twice.state is None  # already parked: nothing to change


def test_first_link_wins() -> None:
    state = ReferenceState(case_id=CASE)
    other = case_id_for_order("2002")
    ignored = resolve(
        state, LinkMessage(reference="tracking:T", case_id=other, via_event="x"), now=at(0)
    )
    assert ignored.state is None and ignored.to_cases == []


def test_expiry_takes_out_only_what_waited_past_the_ttl() -> None:
    old = shipment_event("TRK1", "in_transit", 0)
    new = shipment_event("TRK1", "delivered", 1)
    state = resolve(None, PendingMessage(reference="tracking:TRK1", event=old), now=at(0)).state
    state = resolve(state, PendingMessage(reference="tracking:TRK1", event=new), now=at(5)).state
    assert state is not None
    result = expire(state, tick=at(6), ttl=timedelta(hours=3), keep_outbox=timedelta(hours=1))
    assert [p.event for p in result.expired] == [old]
    assert result.state is not None and [p.event for p in result.state.parked] == [new]
    # Replaying the same tick sends the same dead letters again and changes nothing.
    replayed = expire(
        result.state, tick=at(6), ttl=timedelta(hours=3), keep_outbox=timedelta(hours=1)
    )
    assert [p.event for p in replayed.expired] == [old] and replayed.state is None
    # The next tick forgets them.
    later = expire(result.state, tick=at(7), ttl=timedelta(hours=3), keep_outbox=timedelta(hours=1))
    assert later.expired == [] and later.state is not None and later.state.expired == ()


def test_messages_round_trip_through_json() -> None:
    for message in (
        LinkMessage(reference="tracking:T", case_id=CASE, via_event="e"),
        PendingMessage(reference="tracking:T", event=shipment_event("T", "pending", 1)),
        TickMessage(now=at(3)),
    ):
        assert REFERENCE_MESSAGE.validate_json(REFERENCE_MESSAGE.dump_json(message)) == message
