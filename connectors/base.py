"""The adapter contract every connector fills in: a descriptor and a pure `parse` function.

The descriptor (`Connector`) is everything the rest of the hub knows about a provider: its
source name and kind, how its webhooks are authenticated and what the intake must keep of
them (`HttpIntake`), its status table, where its recorded payloads are. The raw topic, the
intake's route, the OpenAPI document, the test fixtures and the contract suite all read it
from `connectors.registry`; `docs/connectors.md` walks through adding one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal, Protocol

from schemas.events import CanonicalEvent, ShipmentStatus, Source, SourceKind

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


ReplayPolicy = Literal["duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class HttpIntake:
    """How a provider's webhooks reach the intake (`POST /webhooks/<source>`)."""

    signature_headers: tuple[str, ...]
    """The request headers that authenticate a delivery (lower-case; documented, the
    scheme's verifier in `hub.webhooks.signatures` reads them)."""
    kept_headers: tuple[str, ...] = ()
    """Provider headers `parse` needs, copied to the raw record as `http.<name>`."""
    retry_window: timedelta = timedelta(0)
    """How long the provider resends a delivery with its original signed time: the intake's
    freshness window is at least this (Shopify: 4 hours and a margin)."""
    replay: ReplayPolicy = "duplicate"
    """A delivery seen before: `duplicate` (a retry, answered 200 and not written again) or
    `rejected` (409: the provider signs every attempt afresh, so a repeat is a replay)."""
    accepted_body: str | None = None
    """The exact body the provider requires with a 200 (Adyen: `[accepted]`); None: JSON."""


_NO_STATUSES: Mapping[str, ShipmentStatus] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Connector:
    """A declared connector: who the source is and how its bytes become canonical events."""

    source: Source
    kind: SourceKind
    signature_scheme: SignatureScheme
    parse: Parse
    description: str
    http: HttpIntake | None
    """How its webhooks arrive; None when it has no HTTP intake (`kafka-direct`)."""
    schema_version: int = 1
    status_table: Mapping[str, ShipmentStatus] = field(
        default_factory=lambda: _NO_STATUSES, hash=False, compare=False
    )
    """A carrier's own status codes -> the hub's shipment statuses (what `parse` applies)."""
    fixtures: str = ""
    """Its folder under `tests/fixtures/` when not named after the source."""

    @property
    def fixtures_folder(self) -> str:
        """The folder of its recorded payloads under `tests/fixtures/`."""
        return self.fixtures or self.source

    @property
    def raw_topic(self) -> str:
        """The Kafka topic its raw payloads arrive on (`raw.<source>`)."""
        return f"raw.{self.source}"
