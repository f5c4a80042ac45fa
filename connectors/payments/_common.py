"""Helpers shared by the payment connectors: typed field access, references, event assembly.

Payment payloads name a case by several ids at once (charge, payment intent, capture, PSP
reference, refund, dispute, the merchant's order reference). `references` collects them in the
order a connector lists them, `case_key_of` picks the strongest, and `payment_event` builds the
canonical event with the id derived from the provider's own identity of the fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.boundary import capped_text, require
from connectors.references import case_key_of as case_key_of
from connectors.references import references as references
from schemas.errors import SkippableRecordError
from schemas.events import (
    SOURCE_KINDS,
    CanonicalEvent,
    EventType,
    ReasonCode,
    Reference,
    ReferenceKind,
    Source,
    make_event_id,
)
from schemas.money import Money
from schemas.timestamps import SourceTime, from_epoch_seconds, parse_iso

_LAST_EPOCH_SECOND = 253402300799  # 9999-12-31T23:59:59Z


def require_object(mapping: Mapping[str, Any], *path: str | int) -> Mapping[str, Any]:
    """The JSON object at `path`; missing, null or not an object is a precise record error."""
    node = require(mapping, *path)
    if not isinstance(node, Mapping):
        raise SkippableRecordError(f"field {_dotted(path)!r} is not an object")
    return node


def require_text(mapping: Mapping[str, Any], *path: str | int) -> str:
    """The non-empty string (or integer id) at `path`."""
    value = optional_text(require(mapping, *path), _dotted(path))
    if value is None:
        raise SkippableRecordError(f"field {_dotted(path)!r} is empty")
    return value


def optional_object(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The JSON object under `key`, or an empty mapping when it is absent or null."""
    node = mapping.get(key)
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        raise SkippableRecordError(f"field {key!r} is not an object")
    return node


def optional_list(mapping: Mapping[str, Any], key: str) -> list[Any]:
    """The JSON array under `key`, or an empty list when it is absent or null."""
    node = mapping.get(key)
    if node is None:
        return []
    if not isinstance(node, list):
        raise SkippableRecordError(f"field {key!r} is not a list")
    return node


def optional_text(value: Any, field: str) -> str | None:
    """A provider id or text as a stripped string; None when absent or blank.

    Integer ids are accepted and written in decimal; other types are a record error.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SkippableRecordError(f"field {field!r} is not a string")
    text = str(value).strip()
    return text or None


def text_at(mapping: Mapping[str, Any], key: str) -> str | None:
    """`optional_text` of `mapping[key]`."""
    return optional_text(mapping.get(key), key)


def free_text(mapping: Mapping[str, Any], key: str) -> str | None:
    """Free text (a message, a note) exactly as written; None when absent or blank."""
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SkippableRecordError(f"field {key!r} is not a string")
    return value if value.strip() else None


def epoch_time(value: Any, field: str) -> SourceTime:
    """A Unix-seconds timestamp (Stripe `created`) as a UTC instant with no local time."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SkippableRecordError(f"field {field!r} is not Unix seconds")
    if not 0 <= value <= _LAST_EPOCH_SECOND:
        raise SkippableRecordError(f"field {field!r} is out of range: {value}")
    return SourceTime(utc=from_epoch_seconds(value), local=None, zone=None)


def iso_time(value: Any, field: str) -> SourceTime:
    """An RFC 3339 timestamp with offset or `Z` (PayPal, Adyen)."""
    text = optional_text(value, field)
    if text is None:
        raise SkippableRecordError(f"field {field!r} is empty")
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise SkippableRecordError(f"field {field!r} is not a timestamp: {exc}") from exc


def first_of(refs: tuple[Reference, ...], kind: ReferenceKind) -> str | None:
    """The first reference value of one kind."""
    return next((ref.value for ref in refs if ref.kind == kind), None)


def payment_event(
    source: Source,
    *,
    identity: tuple[object, ...],
    type: EventType,
    when: SourceTime | None,
    received_at: datetime,
    refs: tuple[Reference, ...],
    money: Money | None = None,
    refund_id: str | None = None,
    reason_code: ReasonCode | None = None,
    raw_reason: str | None = None,
    text: str | None = None,
    buyer_country: str | None = None,
) -> CanonicalEvent:
    """A canonical payment event; `identity` is the provider's own identity of the fact.

    `when` is the provider's time of the fact; without one the event is placed at
    `received_at` with `time_source="received"`. Free text (`text`, `raw_reason`) is capped
    (`connectors.boundary.capped_text`).
    """
    return CanonicalEvent(
        event_id=make_event_id(source, *identity),
        source=source,
        source_kind=SOURCE_KINDS[source],
        type=type,
        occurred_at=when.utc if when else received_at,
        occurred_at_local=when.local if when else None,
        source_timezone=when.zone if when else None,
        time_source="provider" if when else "received",
        received_at=received_at,
        order_id=first_of(refs, "order"),
        case_key=case_key_of(refs),
        references=refs,
        money=money,
        refund_id=refund_id,
        reason_code=reason_code,
        raw_reason=None if raw_reason is None else capped_text(raw_reason),
        text=None if text is None else capped_text(text),
        buyer_country=buyer_country,
    )


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)
