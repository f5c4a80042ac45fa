"""Return-shipping state: each return parcel's progress, ordered by event time, with history.

label_created -> in_transit -> (customs) -> out_for_delivery -> delivered_to_returns_center ->
inspected, or an exception (lost, damaged, returned_to_sender, failed_attempt). The state is the
latest step by event time; a step that arrives late (after a newer one) is kept in the history,
marked `late`, and does not move the state back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from schemas.case import ReturnShipment, ReturnShippingStatus, ShipmentStep
from schemas.events import CanonicalEvent, ShipmentStatus

_FROM_CARRIER: dict[ShipmentStatus, ReturnShippingStatus] = {
    "pending": "label_created",
    "info_received": "label_created",
    "in_transit": "in_transit",
    "customs": "customs",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "out_for_delivery",
    "delivered": "delivered_to_returns_center",
    "failed_attempt": "failed_attempt",
    "exception": "exception",
    "returned_to_sender": "returned_to_sender",
    "expired": "exception",
}
_LOST_WORDS = ("lost", "missing", "verloren", "丢失", "遗失")
_DAMAGE_WORDS = ("damage", "beschädigt", "破损", "损坏")


def return_status(carrier_status: ShipmentStatus, description: str | None) -> ReturnShippingStatus:
    """The return-shipping status a carrier status means for a return parcel."""
    status = _FROM_CARRIER[carrier_status]
    if status == "exception" and description:
        lowered = description.lower()
        if any(word in lowered for word in _LOST_WORDS):
            return "lost"
        if any(word in lowered for word in _DAMAGE_WORDS):
            return "damaged"
    return status


def return_shipments(
    case_id: str, events: Sequence[CanonicalEvent], return_numbers: Iterable[str]
) -> list[ReturnShipment]:
    """The state of every return parcel of a case, from its events in event-time order."""
    numbers = set(return_numbers)
    shipments: list[ReturnShipment] = []
    for number in sorted(numbers):
        steps = [_step(event) for event in events if _concerns(event, number)]
        if not steps:
            continue
        steps = _mark_late(events, number, steps)
        current = [step for step in steps if not step.late][-1]
        carrier_events = [e for e in events if e.shipment and e.shipment.tracking_number == number]
        shipments.append(
            ReturnShipment(
                tracking_number=number,
                case_id=case_id,
                carrier=next((e.shipment.carrier for e in carrier_events if e.shipment), None),
                status=_inspected_or(current.status, events, current),
                carrier_status=next(
                    (
                        e.shipment.status
                        for e in reversed(carrier_events)
                        if e.shipment and e.type == "shipment.update"
                    ),
                    None,
                ),
                updated_at=current.at,
                history=steps,
            )
        )
    return shipments


def _concerns(event: CanonicalEvent, number: str) -> bool:
    if event.type == "return.label_created":
        return number in event.reference_values("tracking") or (
            event.shipment is not None and event.shipment.tracking_number == number
        )
    return (
        event.type == "shipment.update"
        and event.shipment is not None
        and event.shipment.tracking_number == number
    )


def _step(event: CanonicalEvent) -> ShipmentStep:
    shipment = event.shipment
    if event.type == "return.label_created" or shipment is None:
        return ShipmentStep(
            at=event.occurred_at,
            status="label_created",
            event_id=event.event_id,
            raw_status=shipment.raw_status if shipment else None,
        )
    return ShipmentStep(
        at=event.occurred_at,
        status=return_status(shipment.status, shipment.raw_description),
        raw_status=shipment.raw_status,
        description=shipment.raw_description,
        country=shipment.country,
        event_id=event.event_id,
    )


def _mark_late(
    events: Sequence[CanonicalEvent], number: str, steps: list[ShipmentStep]
) -> list[ShipmentStep]:
    """A step is late when a newer step (event time) of the parcel was received before it."""
    received = {e.event_id: e.received_at for e in events if _concerns(e, number)}
    marked = []
    for index, step in enumerate(steps):
        newer_received_first = any(
            received[later.event_id] < received[step.event_id] for later in steps[index + 1 :]
        )
        marked.append(step.model_copy(update={"late": newer_received_first}))
    if all(step.late for step in marked):
        marked[-1] = marked[-1].model_copy(update={"late": False})
    return marked


def _inspected_or(
    status: str, events: Sequence[CanonicalEvent], current: ShipmentStep
) -> ReturnShippingStatus:
    """Delivered to the returns centre, then closed or refunded by the merchant: inspected."""
    if status != "delivered_to_returns_center":
        return cast(ReturnShippingStatus, status)
    settled = any(
        e.type in ("return.closed", "refund.succeeded") and e.occurred_at >= current.at
        for e in events
    )
    return "inspected" if settled else "delivered_to_returns_center"
