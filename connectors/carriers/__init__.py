"""Carrier connectors: tracking scans and customs milestones.

One module per source (`dhl`, `ups`, `easypost`, `aftership`, and `track17` for "17track",
since a module name cannot start with a digit), sharing `_common` (scan times, scans -> events),
`_status` (one shipment-status taxonomy), `_customs` (customs milestones in scan text) and
`_zones` (scan location -> IANA zone for local times without offset).
"""

from __future__ import annotations

from connectors.base import Connector
from connectors.carriers.aftership import CONNECTOR as AFTERSHIP
from connectors.carriers.dhl import CONNECTOR as DHL
from connectors.carriers.easypost import CONNECTOR as EASYPOST
from connectors.carriers.track17 import CONNECTOR as TRACK17
from connectors.carriers.ups import CONNECTOR as UPS

CARRIER_CONNECTORS: tuple[Connector, ...] = (DHL, UPS, EASYPOST, AFTERSHIP, TRACK17)
