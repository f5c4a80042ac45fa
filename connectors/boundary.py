"""Foreign errors become the hub's skippable record error here, once, for every connector.

A connector's `parse` is wrapped with `translate_errors(source)`: whatever a malformed payload
makes Python or pydantic raise inside it (KeyError, TypeError, JSONDecodeError,
ValidationError, RecursionError from JSON nested too deeply, decimal overflow...) leaves as
`SkippableRecordError` with a one-line reason naming the field.

Hostile input is bounded here too, before any parsing: a body larger than
`MAX_PAYLOAD_BYTES` is rejected unread, and connectors pass free text (a buyer's message, a
scan description) through `capped_text`, so no single field costs more than `FREE_TEXT_LIMIT`
characters of pattern matching, masking or translation downstream.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, DecimalException, Overflow
from typing import Any, Final

from pydantic import ValidationError

from connectors.base import Parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent

log = logging.getLogger("connectors")

MAX_PAYLOAD_BYTES: Final = 1_048_576
"""Largest raw body a connector reads (1 MiB, the webhook intake's default body limit too).

The largest recorded provider payload is a DHL tracking response of 33 KB; a body beyond this
is dead-lettered with its size, without being decoded."""

FREE_TEXT_LIMIT: Final = 4_000
"""Characters of one free-text field (message, note, scan description) kept in an event.

Longer text is cut here and marked with `TRUNCATION_MARK`; the whole text stays in the raw
record on `raw.<source>`, which the event points to."""

TRUNCATION_MARK: Final = " [truncated: {omitted} more characters in the raw record]"

_FOREIGN_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    DecimalException,  # InvalidOperation, Overflow, DivisionByZero...
    UnicodeDecodeError,
    ValidationError,
    OverflowError,
    RecursionError,  # JSON (or a walk over it) nested deeper than the interpreter's stack
)


def describe_foreign_error(exc: BaseException) -> str:
    """One line saying what was wrong, naming the field where the error knows it."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"invalid {where}: {first.get('msg')}{more}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {exc.start}"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    if isinstance(exc, IndexError):
        return f"missing list element: {exc}"
    if isinstance(exc, TypeError | AttributeError):
        return f"wrong type: {exc}"
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, Overflow | OverflowError):
        return f"number out of range: {exc}"
    return f"invalid value: {exc}"


def translate_errors(source: str) -> Callable[[Parse], Parse]:
    """Decorate a connector's parse so that no foreign exception escapes it."""

    def decorate(parse: Parse) -> Parse:
        @functools.wraps(parse)
        def guarded(
            raw: bytes,
            *,
            received_at: datetime,
            headers: Mapping[str, str] | None = None,
        ) -> list[CanonicalEvent]:
            if len(raw) > MAX_PAYLOAD_BYTES:
                raise SkippableRecordError(
                    f"payload of {len(raw)} bytes is larger than the {MAX_PAYLOAD_BYTES}"
                    " bytes a connector reads",
                    source=source,
                )
            try:
                return parse(raw, received_at=received_at, headers=headers)
            except SkippableRecordError as exc:
                if exc.source is None:
                    raise SkippableRecordError(exc.reason, source=source) from exc
                raise
            except _FOREIGN_ERRORS as exc:
                raise SkippableRecordError(describe_foreign_error(exc), source=source) from exc

        return guarded

    return decorate


def load_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a JSON object body; anything else (array, scalar, bad bytes) is rejected.

    JSON numbers with a fraction are kept as `Decimal` so amounts never pass through float.

    Raises:
        SkippableRecordError: not UTF-8, not JSON, or not an object.
    """
    document = load_json(raw)
    if not isinstance(document, dict):
        raise unrecognized(f"expected a JSON object, got {type(document).__name__}")
    return document


def load_json(raw: bytes) -> Any:
    """Decode any JSON document with exact decimals (see `load_json_object`)."""
    return json.loads(raw.decode("utf-8"), parse_float=Decimal)


def require(mapping: Mapping[str, Any], *path: str | int) -> Any:
    """Walk `path` into nested JSON; a missing or null step is a precise record error.

    Raises:
        SkippableRecordError: naming the dotted path that is missing or null.
    """
    node: Any = mapping
    for depth, step in enumerate(path):
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
        if node is None:
            dotted = ".".join(str(part) for part in path[: depth + 1])
            raise SkippableRecordError(f"missing field {dotted!r}")
    return node


def capped_text(text: str) -> str:
    """`text`, or its first `FREE_TEXT_LIMIT` characters marked as cut (see the constant)."""
    if len(text) <= FREE_TEXT_LIMIT:
        return text
    omitted = len(text) - FREE_TEXT_LIMIT
    return text[:FREE_TEXT_LIMIT] + TRUNCATION_MARK.format(omitted=omitted)


class Ignored(list[CanonicalEvent]):
    """No events, on purpose: the payload is the source's own, of a kind the hub does not use.

    An empty list, so a caller that only wants events treats it like any other result, that
    also says why: `kind` names the kind of payload (an event type, a topic, a status; the
    ingest stage counts ignored payloads per source and kind) and `reason` is the one line
    logged and shown by `hub normalize`. A payload that is not the source's own at all is no
    `Ignored` but an `unrecognized` record error: it is dead-lettered, not counted away.
    """

    __slots__ = ("kind", "reason", "source")

    def __init__(self, source: str, kind: str, reason: str) -> None:
        super().__init__()
        self.source = source
        self.kind = kind
        self.reason = reason

    def __repr__(self) -> str:
        return f"Ignored({self.source!r}, {self.kind!r}, {self.reason!r})"


def ignored(source: str, what: str, *, kind: str) -> Ignored:
    """Log that a payload carries nothing the hub uses; no events, with the reason why.

    Args:
        what: the one-line reason ("event type 'customer.created'").
        kind: the kind of payload it counts under (the event type, topic or status).
    """
    log.info("%s: ignored %s (not an after-sales event the hub uses)", source, what)
    return Ignored(source, kind, what)


def collected(parts: list[list[CanonicalEvent]]) -> list[CanonicalEvent]:
    """The events of several parts of one payload (items, shipments, claims); when none of
    them gave events and one was `Ignored`, that one, so the reason is not lost."""
    events = [event for part in parts for event in part]
    if events:
        return events
    return next((part for part in parts if isinstance(part, Ignored)), events)


def unrecognized(what: str) -> SkippableRecordError:
    """The record error for a body that is not this source's payload at all (another
    provider's body on this topic, an unrelated document): dead-lettered with the reason
    "unrecognized payload: <what>"."""
    return SkippableRecordError(f"unrecognized payload: {what}")
