"""Time helpers: everything inside the hub is timezone-aware UTC, the source's wall time is kept.

Providers send offsets (`-04:00`), `Z`, the RFC 3339 "unknown offset" `-00:00`, epoch seconds,
and local wall times with no offset at all (UPS, some DHL products). `SourceTime` keeps what the
provider said next to the UTC instant the hub works with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, WithJsonSchema


def _require_aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """ISO 8601 in UTC ending in `Z`, with microseconds only when present."""
    utc = value.astimezone(UTC)
    text = utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_require_aware_utc),
    # No serializer of ours: pydantic's own writes a UTC datetime exactly as `format_utc` does
    # (`...Z`, microseconds only when present), without a Python call per timestamp. That holds
    # because validation stored the value in UTC; a value put in by `model_copy(update=...)`
    # skips validation and must already be UTC. The exported serialization schema stays what it
    # was when a `str` serializer produced it.
    WithJsonSchema({"type": "string"}, mode="serialization"),
]
"""A timezone-aware instant, normalized to UTC and serialized as `...Z`."""


def zone(name: str) -> ZoneInfo:
    """Look up an IANA zone.

    Raises:
        ValueError: the name is not an IANA zone known to tzdata.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


@dataclass(frozen=True, slots=True)
class SourceTime:
    """An instant as the provider stated it.

    `utc` is the instant; `local` is the provider's own wall time with its offset when the
    provider said one (None for `Z` and `-00:00`, which state no local time); `zone` is the IANA
    zone when known or resolved.
    """

    utc: datetime
    local: datetime | None
    zone: str | None


def parse_iso(text: str, *, zone_name: str | None = None) -> SourceTime:
    """Parse an ISO 8601 / RFC 3339 timestamp as providers write it.

    An explicit offset is kept as the local wall time. `Z` and `-00:00` give a UTC instant with
    no local time. A value without offset is a local wall time and needs `zone_name`.

    Raises:
        ValueError: unparseable text, or a naive value with no zone to place it in.
    """
    raw = text.strip()
    unknown_offset = raw.endswith("-00:00")
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    if parsed.tzinfo is None:
        if zone_name is None:
            raise ValueError(f"timestamp {text!r} has no offset and no zone is known")
        return localize(parsed, zone_name)
    utc = parsed.astimezone(UTC)
    says_local = not (raw.endswith("Z") or unknown_offset)
    return SourceTime(utc=utc, local=parsed if says_local else None, zone=zone_name)


def localize(wall_time: datetime, zone_name: str) -> SourceTime:
    """Place a naive local wall time in an IANA zone (first occurrence on a DST fold)."""
    if wall_time.tzinfo is not None:
        raise ValueError("localize takes a naive wall time")
    local = wall_time.replace(tzinfo=zone(zone_name), fold=0)
    return SourceTime(utc=local.astimezone(UTC), local=local, zone=zone_name)


def from_epoch_seconds(seconds: int | float | str) -> datetime:
    """A UTC instant from Unix seconds (Stripe `created`, Amazon `validTill`)."""
    if isinstance(seconds, bool):
        raise ValueError("a boolean is not a timestamp")
    return datetime.fromtimestamp(int(seconds), tz=UTC)
