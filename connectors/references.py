"""References that name a case, and the one an event correlates on (its `case_key`)."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.errors import SkippableRecordError
from schemas.events import Reference, ReferenceKind

# The strongest reference first: an order names the case directly; the rest need a link.
CASE_KEY_PRIORITY: tuple[ReferenceKind, ...] = (
    "order", "return", "payment", "dispute", "tracking", "refund",
)


def references(*pairs: tuple[ReferenceKind, str | None]) -> tuple[Reference, ...]:
    """References from `(kind, value)` pairs in the given order, without blanks or repeats."""
    seen: set[tuple[str, str]] = set()
    found: list[Reference] = []
    for kind, value in pairs:
        if value is None or (kind, value) in seen:
            continue
        seen.add((kind, value))
        found.append(Reference(kind=kind, value=value))
    return tuple(found)


def case_key_of(refs: Sequence[Reference]) -> str:
    """`kind:value` of the strongest reference (order > return > payment > dispute > tracking).

    Raises:
        SkippableRecordError: the payload names nothing a case could be found by.
    """
    for kind in CASE_KEY_PRIORITY:
        for ref in refs:
            if ref.kind == kind:
                return str(ref)
    raise SkippableRecordError("no order, return, payment, dispute or tracking id names the case")
