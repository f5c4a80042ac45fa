"""`event_factory(**overrides)`: canonical events for tests of the stream logic."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.events import SOURCE_KINDS, CanonicalEvent, Customs, Reference, Shipment, make_event_id
from schemas.money import Money

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_counter = itertools.count()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ref(text: str) -> Reference:
    kind, _, value = text.partition(":")
    return Reference(kind=kind, value=value)  # type: ignore[arg-type]


def money(amount: str, currency: str = "EUR") -> Money:
    return Money(amount=amount, currency=currency)


def event_factory(**overrides: Any) -> CanonicalEvent:
    """A valid canonical event; every field can be overridden (references as "kind:value")."""
    source = overrides.pop("source", "hub")
    references = [ref(r) if isinstance(r, str) else r for r in overrides.pop("references", [])]
    order_id = overrides.get("order_id")
    if order_id and not any(r.kind == "order" for r in references):
        references.insert(0, ref(f"order:{order_id}"))
    occurred_at = overrides.pop("occurred_at", at(0))
    fields: dict[str, Any] = {
        "event_id": make_event_id(source, "test", next(_counter)),
        "source": source,
        "source_kind": SOURCE_KINDS[source],
        "type": "return.requested",
        "occurred_at": occurred_at,
        "received_at": overrides.pop("received_at", occurred_at + timedelta(seconds=5)),
        "case_key": str(references[0]) if references else "order:unset",
        "references": tuple(references),
    }
    fields.update(overrides)
    return CanonicalEvent(**fields)


def shipment_event(tracking: str, status: str, hours: float, **overrides: Any) -> CanonicalEvent:
    return event_factory(
        source=overrides.pop("source", "easypost"),
        type="shipment.update",
        references=[f"tracking:{tracking}"],
        occurred_at=at(hours),
        shipment=Shipment(
            carrier="USPS",
            tracking_number=tracking,
            status=status,  # type: ignore[arg-type]
            raw_status=status,
            raw_description=overrides.pop("description", None),
        ),
        **overrides,
    )


def customs_event(tracking: str, status: str, hours: float, **overrides: Any) -> CanonicalEvent:
    return event_factory(
        source=overrides.pop("source", "dhl"),
        type="customs.update",
        references=[f"tracking:{tracking}"],
        occurred_at=at(hours),
        customs=Customs(
            status=status,
            country=overrides.pop("country", "DE"),  # type: ignore[arg-type]
            duties=overrides.pop("duties", None),
        ),
        **overrides,
    )
