"""The `console` source: agents' action records on `case.actions` become canonical events.

`normalize_action` is pure, like a connector's `parse`: the same record always gives the same
event. The event names the case's order (routing is by order) and carries a `case` reference
whose value is the target case id, so the case step can honor it. Its id derives from the
client's action id: an action posted twice, or a record delivered twice, is one event.

A record that is not an `ActionRecord` is a dead letter with its reason, never a crash.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from schemas.actions import ACTION_RECORD, ActionRecord
from schemas.events import (
    ACTION_EVENT_TYPES,
    CanonicalEvent,
    RawRecordRef,
    Reference,
    make_event_id,
)
from streams.normalize import Normalized, RawKafkaRecord, dead_letter_for

CONSOLE_SOURCE = "console"


def action_event_id(action_id: str) -> str:
    """The canonical event id of a client's action id."""
    return make_event_id(CONSOLE_SOURCE, "action", action_id)


def action_event(record: ActionRecord, *, raw: RawRecordRef | None = None) -> CanonicalEvent:
    """The canonical event of one action record."""
    action = record.action
    return CanonicalEvent(
        event_id=action_event_id(action.action_id),
        source=CONSOLE_SOURCE,
        source_kind="agent",
        type=ACTION_EVENT_TYPES[action.kind],
        occurred_at=record.at,
        received_at=record.at,
        order_id=record.order_id,
        case_key=f"case:{record.case_id}",
        references=(Reference(kind="order", value=record.order_id),
                    Reference(kind="case", value=record.case_id)),
        raw=raw,
        action=action,
    )


def normalize_action(record: RawKafkaRecord, *, now: datetime) -> Normalized:
    """One `case.actions` record to its canonical event, or a dead letter."""
    try:
        parsed = ACTION_RECORD.validate_json(record.value)
        ref = RawRecordRef(topic=record.topic, partition=record.partition, offset=record.offset)
        return Normalized([action_event(parsed, raw=ref)])
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"msg": str(exc), "loc": ()}
        where = ".".join(str(part) for part in first.get("loc", ()))
        reason = f"not an action record: {first['msg']}" + (f" at {where}" if where else "")
        return Normalized([], dead_letter_for(record, reason, "ValidationError", now))
