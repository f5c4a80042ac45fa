"""Payment connectors: captures, refunds and disputes."""

from __future__ import annotations

from connectors.base import Connector
from connectors.payments.adyen import CONNECTOR as ADYEN
from connectors.payments.paypal import CONNECTOR as PAYPAL
from connectors.payments.stripe import CONNECTOR as STRIPE

PAYMENT_CONNECTORS: tuple[Connector, ...] = (STRIPE, PAYPAL, ADYEN)
