"""Foreign errors become the hub's skippable record error here, once, for every connector.

A connector's `parse` is wrapped with `translate_errors(source)`: whatever a malformed payload
makes Python or pydantic raise inside it (KeyError, TypeError, JSONDecodeError,
ValidationError...) leaves as `SkippableRecordError` with a one-line reason naming the field.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import InvalidOperation
from typing import Any

from pydantic import ValidationError

from connectors.base import Parse
from hub.errors import SkippableRecordError
from schemas.events import CanonicalEvent

log = logging.getLogger("connectors")

_FOREIGN_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    InvalidOperation,
    UnicodeDecodeError,
    ValidationError,
    OverflowError,
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
        raise SkippableRecordError(f"expected a JSON object, got {type(document).__name__}")
    return document


def load_json(raw: bytes) -> Any:
    """Decode any JSON document with exact decimals (see `load_json_object`)."""
    from decimal import Decimal

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


def ignored(source: str, what: str) -> list[CanonicalEvent]:
    """Log that a payload carries nothing the hub uses and return no events."""
    log.info("%s: ignored %s (not an after-sales event the hub uses)", source, what)
    return []
