"""Customs state per shipment and direction (outbound, return), from customs milestones.

declared -> in_clearance -> held (documents requested) | duties_due -> released | duties_paid;
or refused, seized, returned. The state is the latest milestone by event time; duties are kept as
Money. For the return leg the fact that import duties were paid on the outbound leg is recorded
(`duties_refundable`): whether they are reclaimed is for the policy layer, not this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from schemas.case import CustomsState, ShipmentStep
from schemas.events import CanonicalEvent, Direction


def customs_states(
    case_id: str, events: Sequence[CanonicalEvent], return_numbers: Iterable[str]
) -> list[CustomsState]:
    """Every (shipment, direction) customs state of a case, from its events in time order."""
    returns = set(return_numbers)
    milestones: dict[tuple[str, Direction], list[CanonicalEvent]] = {}
    for event in events:
        if event.type != "customs.update" or event.customs is None:
            continue
        number = _tracking_number(event)
        if number is None:
            continue
        direction: Direction = event.customs.direction or (
            "return" if number in returns else "outbound"
        )
        milestones.setdefault((number, direction), []).append(event)
    outbound_duties = any(
        e.customs is not None and e.customs.duties is not None
        for (_, direction), found in milestones.items()
        if direction == "outbound"
        for e in found
    )
    states = []
    for (number, direction), found in sorted(milestones.items()):
        latest = found[-1]
        assert latest.customs is not None
        duties = next(
            (e.customs.duties for e in reversed(found) if e.customs and e.customs.duties), None
        )
        states.append(
            CustomsState(
                tracking_number=number,
                direction=direction,
                case_id=case_id,
                status=latest.customs.status,
                country=latest.customs.country,
                duties=duties,
                duties_refundable=(True if outbound_duties else None)
                if direction == "return"
                else None,
                updated_at=latest.occurred_at,
                history=[
                    ShipmentStep(
                        at=e.occurred_at,
                        status=e.customs.status if e.customs else "declared",
                        country=e.customs.country if e.customs else None,
                        description=e.text,
                        event_id=e.event_id,
                    )
                    for e in found
                ],
            )
        )
    return states


def _tracking_number(event: CanonicalEvent) -> str | None:
    if event.shipment is not None:
        return event.shipment.tracking_number
    numbers = event.reference_values("tracking")
    return numbers[0] if numbers else None
