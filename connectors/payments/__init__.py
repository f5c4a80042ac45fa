"""Payment connectors: captures, refunds and disputes."""

from __future__ import annotations

from connectors.base import Connector

PAYMENT_CONNECTORS: tuple[Connector, ...] = ()
