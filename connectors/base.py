"""The adapter contract every connector fills in: a descriptor and a pure `parse` function."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from schemas.events import CanonicalEvent, Source, SourceKind

SignatureScheme = Literal[
    "shopify-hmac-sha256",
    "stripe-signature",
    "adyen-hmac-item",
    "paypal-verify",
    "aftership-hmac-sha256",
    "easypost-hmac-sha256",
    "17track-sha256",
    "dhl-api-key",
    "ups-credential",
    "amazon-sqs",
    "mercadolibre-x-signature",
    "kafka-direct",
]


class Parse(Protocol):
    """Raw provider bytes in, canonical events out; pure and deterministic."""

    def __call__(
        self,
        raw: bytes,
        *,
        received_at: datetime,
        headers: Mapping[str, str] | None = None,
    ) -> list[CanonicalEvent]: ...


@dataclass(frozen=True, slots=True)
class Connector:
    """A declared connector: who the source is and how its bytes become canonical events."""

    source: Source
    kind: SourceKind
    signature_scheme: SignatureScheme
    parse: Parse
    description: str
    schema_version: int = 1

    @property
    def raw_topic(self) -> str:
        """The Kafka topic its raw payloads arrive on (`raw.<source>`)."""
        return f"raw.{self.source}"
