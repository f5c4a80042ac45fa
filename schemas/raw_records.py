"""How a raw payload sits on a `raw.<source>` topic: the provider's bytes plus hub headers.

The record value is the body exactly as received. Kafka headers say where it came from:

    hub.source         the source name, informative only: the topic decides the connector
    hub.received_at    UTC ISO 8601 `...Z` when the hub received it
    hub.signature      "verified" | "unsigned" (produced straight to Kafka by a trusted client)
    http.<name>        provider HTTP headers a connector needs, names lower-cased

A record produced by any Kafka client with no headers at all is valid: the source comes from the
topic and the broker's timestamp stands in for `received_at`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from schemas.timestamps import format_utc

log = logging.getLogger("schemas.raw_records")

SOURCE_HEADER = "hub.source"
RECEIVED_AT_HEADER = "hub.received_at"
SIGNATURE_HEADER = "hub.signature"
HTTP_HEADER_PREFIX = "http."

SignatureStatus = Literal["verified", "unsigned"]


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A raw payload with what the hub knows about its arrival."""

    source: str
    body: bytes
    received_at: datetime
    signature: SignatureStatus = "unsigned"
    http_headers: Mapping[str, str] = field(default_factory=dict)


def encode_headers(record: RawRecord) -> list[tuple[str, bytes]]:
    """Kafka headers for a raw record."""
    headers = [
        (SOURCE_HEADER, record.source.encode()),
        (RECEIVED_AT_HEADER, format_utc(record.received_at).encode()),
        (SIGNATURE_HEADER, record.signature.encode()),
    ]
    headers += [
        (HTTP_HEADER_PREFIX + name.lower(), value.encode())
        for name, value in sorted(record.http_headers.items())
    ]
    return headers


def decode_record(
    *,
    source: str,
    body: bytes,
    headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None,
    broker_timestamp_ms: int | None,
) -> RawRecord:
    """Rebuild a RawRecord from a Kafka record; tolerant of missing or foreign headers."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    found: dict[str, str] = {}
    http_headers: dict[str, str] = {}
    for name, value in pairs:
        text = value.decode("utf-8", errors="replace") if value is not None else ""
        if name.startswith(HTTP_HEADER_PREFIX):
            http_headers[name.removeprefix(HTTP_HEADER_PREFIX)] = text
        else:
            found[name] = text
    claimed = found.get(SOURCE_HEADER)
    if claimed and claimed != source:
        # The topic decides which connector parses a record; a header cannot redirect it.
        log.warning("record on the %s topic claims source %r: ignored", source, claimed[:40])
    return RawRecord(
        source=source,
        body=body,
        received_at=_received_at(found.get(RECEIVED_AT_HEADER), broker_timestamp_ms),
        signature="verified" if found.get(SIGNATURE_HEADER) == "verified" else "unsigned",
        http_headers=http_headers,
    )


def _received_at(header: str | None, broker_timestamp_ms: int | None) -> datetime:
    if header:
        try:
            parsed = datetime.fromisoformat(header.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except ValueError:
            pass
    if broker_timestamp_ms is not None and broker_timestamp_ms >= 0:
        return datetime.fromtimestamp(broker_timestamp_ms / 1000, tz=UTC)
    return datetime.fromtimestamp(0, tz=UTC)
