from __future__ import annotations

from datetime import timedelta

from streams.customs import customs_states
from streams.shipping import return_shipments, return_status
from tests.support.events import at, customs_event, event_factory, money, shipment_event


def test_state_follows_event_time_and_a_late_older_scan_is_kept_but_not_applied() -> None:
    transit = shipment_event("TRK", "in_transit", 10)
    out = shipment_event("TRK", "out_for_delivery", 20)
    delivered = shipment_event("TRK", "delivered", 30)
    # The in-transit scan reaches the hub last.
    late_transit = transit.model_copy(
        update={"received_at": delivered.received_at + timedelta(hours=1)}
    )
    [state] = return_shipments(
        "case-x", sorted([out, delivered, late_transit], key=lambda e: e.occurred_at), ["TRK"]
    )
    assert state.status == "delivered_to_returns_center"
    assert [step.status for step in state.history] == [
        "in_transit",
        "out_for_delivery",
        "delivered_to_returns_center",
    ]
    assert [step.late for step in state.history] == [True, False, False]
    assert state.updated_at == at(30)


def test_delivered_then_refunded_is_inspected() -> None:
    events = [
        shipment_event("TRK", "delivered", 30),
        event_factory(
            type="refund.succeeded",
            order_id="1",
            occurred_at=at(40),
            money=money("10.00"),
            refund_id="r",
        ),
    ]
    [state] = return_shipments("case-x", events, ["TRK"])
    assert state.status == "inspected"


def test_lost_parcel_is_recognised_from_the_carrier_description() -> None:
    assert return_status("exception", "Shipment lost") == "lost"
    assert return_status("exception", "包裹丢失") == "lost"
    assert return_status("exception", "Sendung beschädigt") == "damaged"
    assert return_status("exception", "Address problem") == "exception"
    assert return_status("returned_to_sender", None) == "returned_to_sender"


def test_outbound_parcels_are_not_return_shipments() -> None:
    assert return_shipments("case-x", [shipment_event("OUT1", "delivered", 3)], ["TRK"]) == []


def test_customs_per_direction_with_duties_and_refundability_fact() -> None:
    events = [
        customs_event("OUT1", "duties_due", 1, duties=money("23.40"), country="DE"),
        customs_event("OUT1", "duties_paid", 2, duties=money("23.40"), country="DE"),
        customs_event("TRK", "held", 30, country="CN"),
        customs_event("TRK", "released", 35, country="CN"),
    ]
    states = {
        (s.tracking_number, s.direction): s for s in customs_states("case-x", events, ["TRK"])
    }
    outbound = states[("OUT1", "outbound")]
    assert outbound.status == "duties_paid" and outbound.duties == money("23.40")
    assert outbound.duties_refundable is None
    back = states[("TRK", "return")]
    assert back.status == "released" and back.country == "CN"
    assert [step.status for step in back.history] == ["held", "released"]
    assert back.duties_refundable is True
