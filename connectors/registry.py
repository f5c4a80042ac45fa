"""Every connector of the hub, listed explicitly (no import-time discovery)."""

from __future__ import annotations

from connectors.base import Connector
from connectors.carriers import CARRIER_CONNECTORS
from connectors.marketplaces import MARKETPLACE_CONNECTORS
from connectors.payments import PAYMENT_CONNECTORS
from schemas.errors import ConfigurationError

CONNECTORS: tuple[Connector, ...] = (
    *MARKETPLACE_CONNECTORS,
    *CARRIER_CONNECTORS,
    *PAYMENT_CONNECTORS,
)
_BY_SOURCE: dict[str, Connector] = {connector.source: connector for connector in CONNECTORS}


def connector_for(source: str) -> Connector:
    """The connector registered for a source name.

    Raises:
        ConfigurationError: no connector has that source name.
    """
    try:
        return _BY_SOURCE[source]
    except KeyError:
        known = ", ".join(sorted(_BY_SOURCE)) or "none"
        raise ConfigurationError(f"unknown source {source!r}; known sources: {known}") from None


def connector_for_topic(topic: str, *, prefix: str = "") -> Connector:
    """The connector whose raw topic is `topic` (with the deployment's topic prefix)."""
    name = topic.removeprefix(prefix)
    return connector_for(name.removeprefix("raw."))
