"""Helpers shared by the marketplace connectors: references, case keys, times, event assembly.

Every marketplace connector builds its events through `marketplace_event`, so the rules of the
connector contract live in one place: the case key is the strongest reference (order > return >
payment > dispute > tracking > refund), a missing provider time falls back to `received_at` with
`time_source="received"`, and the local wall time with its offset is kept when the provider
stated one.

Language. Free text (a buyer's reason, a return note, a message) keeps the language the provider
declares for it, reduced to its BCP 47 primary subtag. Text without a declared language is given
the language the hub's offline detector finds in it (`translations.language.detect_language`,
lingua restricted to the served languages), or none when the detector is unsure (short or mixed
text). The detector reads the masked text (`translations.privacy.masked`), so its memo holds no
personal data the masking removes, and both are memoized: a redelivered or repeated text costs
a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from connectors.boundary import capped_text
from connectors.references import case_key_of, references
from schemas.errors import SkippableRecordError
from schemas.events import (
    CanonicalEvent,
    EventType,
    Reference,
    Source,
    make_event_id,
)
from schemas.timestamps import SourceTime, parse_iso
from translations.language import detect_language
from translations.privacy import masked

# Shared with the other connector kinds; the short names are this package's vocabulary.
refs = references
case_key = case_key_of


def id_text(value: object) -> str | None:
    """A provider identifier as a string (`450789469` and `"450789469"` alike); None when absent.

    Raises:
        SkippableRecordError: the value is a boolean, a float, a list or an object.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SkippableRecordError(f"identifier {value!r} is not a string or an integer")
    text = str(value).strip()
    return text or None


def text_or_none(value: object) -> str | None:
    """Free text as received, or None when absent or blank.

    Raises:
        SkippableRecordError: the value is not a string.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise SkippableRecordError(f"expected text, got {type(value).__name__}")
    return value if value.strip() else None


def mapping_or_empty(value: object, what: str) -> Mapping[str, Any]:
    """A JSON object, `{}` for null.

    Raises:
        SkippableRecordError: the value is present but not an object.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SkippableRecordError(f"{what} is not an object")
    return value


def list_or_empty(value: object, what: str) -> list[Any]:
    """A JSON array, `[]` for null.

    Raises:
        SkippableRecordError: the value is present but not an array.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise SkippableRecordError(f"{what} is not an array")
    return value


def provider_time(value: object, what: str) -> SourceTime | None:
    """Parse an RFC 3339 timestamp the provider sent; None when the field is absent or null.

    Raises:
        SkippableRecordError: the value is not a string or has no offset.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SkippableRecordError(f"{what} is not a timestamp string")
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise SkippableRecordError(f"{what} {value!r} is not an RFC 3339 timestamp") from exc


def first_time(*candidates: tuple[object, str]) -> SourceTime | None:
    """The first present timestamp among `(value, field name)` candidates."""
    for value, what in candidates:
        parsed = provider_time(value, what)
        if parsed is not None:
            return parsed
    return None


def field_time(node: Mapping[str, Any], *fields: str) -> SourceTime | None:
    """The first present timestamp among `node`'s `fields`, in the order given."""
    return first_time(*((node.get(field), field) for field in fields))


def primary_language(tag: str | None) -> str | None:
    """The primary subtag of a BCP 47 language tag (`pt-BR` -> `pt`)."""
    if not tag:
        return None
    return tag.split("-", 1)[0].lower()


def text_language(text: str | None, declared: str | None = None) -> str | None:
    """The BCP 47 primary subtag of free text: the declared one when there is one, else the one
    the offline detector finds (None when unsure or when there is no text)."""
    if declared:
        return primary_language(declared)
    if not text or not text.strip():
        return None
    return detect_language(masked(text[:DETECTED_CHARS]))


DETECTED_CHARS = 1_000
"""Characters of a text the detector reads: a reason or a note shows its language long before
that, and the cost of a detection grows with the text."""

_FREE_TEXT_FIELDS = ("text", "raw_reason")


def marketplace_event(
    source: Source,
    event_type: EventType,
    *,
    identity: Iterable[object],
    when: SourceTime | None,
    received_at: datetime,
    references: tuple[Reference, ...],
    **fields: Any,
) -> CanonicalEvent:
    """Assemble a marketplace event: id, case key and the time fields from `when`.

    `identity` is the provider's own identity of the fact (object id, state...); `when` is the
    provider's time of the fact, or None when the provider gives none. Free text (`text`,
    `raw_reason`) is capped (`connectors.boundary.capped_text`); the text's `language` is the
    declared one, else the detected one (`text_language`), and none without text.
    """
    for free in _FREE_TEXT_FIELDS:
        if fields.get(free) is not None:
            fields[free] = capped_text(fields[free])
    fields["language"] = text_language(fields.get("text"), fields.get("language"))
    if when is None:
        timing: dict[str, Any] = {"occurred_at": received_at, "time_source": "received"}
    else:
        timing = {
            "occurred_at": when.utc,
            "occurred_at_local": when.local,
            "source_timezone": when.zone,
        }
    return CanonicalEvent(
        event_id=make_event_id(source, event_type, *identity),
        source=source,
        source_kind="marketplace",
        type=event_type,
        received_at=received_at,
        case_key=case_key(references),
        references=references,
        **timing,
        **fields,
    )
