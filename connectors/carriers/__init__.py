"""Carrier connectors: tracking scans and customs milestones."""

from __future__ import annotations

from connectors.base import Connector

CARRIER_CONNECTORS: tuple[Connector, ...] = ()
