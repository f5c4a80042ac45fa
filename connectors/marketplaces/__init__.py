"""Marketplace connectors: orders, returns and refunds as marketplaces publish them."""

from __future__ import annotations

from connectors.base import Connector
from connectors.marketplaces.amazon import CONNECTOR as AMAZON
from connectors.marketplaces.hub import CONNECTOR as HUB
from connectors.marketplaces.mercadolibre import CONNECTOR as MERCADOLIBRE
from connectors.marketplaces.shopify import CONNECTOR as SHOPIFY

MARKETPLACE_CONNECTORS: tuple[Connector, ...] = (SHOPIFY, AMAZON, MERCADOLIBRE, HUB)
