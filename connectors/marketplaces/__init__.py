"""Marketplace connectors: orders, returns and refunds as marketplaces publish them."""

from __future__ import annotations

from connectors.base import Connector

MARKETPLACE_CONNECTORS: tuple[Connector, ...] = ()
