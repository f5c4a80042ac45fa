"""Minor units as each payment provider counts them, on top of the ISO 4217 exponents.

Stripe and Adyen send amounts as integer counts of minor units, but neither follows ISO 4217
everywhere. `schemas.money.currency_exponent` is the ISO rule; a `MinorUnitRule` adds the
provider's own exceptions, taken from the provider's currency pages:

- Stripe (docs.stripe.com/currencies, "Zero-decimal" and "Special cases"): ISK stays a
  two-decimal currency in the API (amounts are multiples of 100 since April 2023, `100` is 1
  krona) where ISO says 0; MGA is zero-decimal where ISO says 2. Stripe's other zero-decimal
  currencies (BIF CLP DJF GNF JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF) and its
  three-decimal ones (BHD JOD KWD OMR TND, last digit always 0) agree with ISO. HUF and TWD are
  two-decimal for charges and refunds (zero-decimal only for payouts), as in ISO.
- Adyen (docs.adyen.com/development-resources/currency-codes): CLP and ISK have 2 decimals,
  CVE and IDR have 0, each marked "differs from standard"; every other code follows ISO.

The resulting `Money` is written with the ISO number of decimals (Stripe's ISK `1250000` is
`12500` ISK, Adyen's CLP `1599000` is `15990` CLP). An amount finer than the ISO minor unit
(Adyen's CLP `1599050`, 15990.50 CLP) is not money the currency has and is rejected. Otherwise
amounts are read as sent: the rule does not enforce the provider's request constraints (a Stripe
KWD amount ending in 5 is still 0.005 KWD).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from schemas.money import Money, currency_exponent, normalize_currency

_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class MinorUnitRule:
    """One provider's minor-unit exponents: ISO 4217 plus the provider's overrides."""

    provider: str
    overrides: Mapping[str, int]

    def exponent(self, currency: str) -> int:
        """Decimal places of the currency's minor unit as this provider counts them.

        Raises:
            ValueError: the code is not a known ISO 4217 currency.
        """
        code = normalize_currency(currency)
        return self.overrides.get(code, currency_exponent(code))

    def to_money(self, minor: object, currency: str) -> Money:
        """Money from the provider's integer count of minor units.

        Raises:
            ValueError: `minor` is not an integer of at most 20 digits (or a string of one),
                the currency is unknown, or the amount is not `Money` (finer than the ISO
                minor unit, beyond the money ceiling).
        """
        amount = _whole_units(minor).scaleb(-self.exponent(currency))
        iso_step = Decimal(1).scaleb(-currency_exponent(currency))
        if amount == amount.quantize(iso_step):
            amount = amount.quantize(iso_step)
        return Money(amount=amount, currency=currency)

    def to_minor(self, money: Money) -> int:
        """The provider's integer count of minor units for an amount.

        Raises:
            ValueError: the amount is finer than the provider's minor unit.
        """
        scaled = money.amount.scaleb(self.exponent(money.currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(
                f"{money.amount} {money.currency} is finer than {self.provider}'s minor unit"
            )
        return int(scaled)


def _whole_units(minor: object) -> Decimal:
    if isinstance(minor, bool) or not isinstance(minor, int | str):
        raise ValueError(f"minor units must be an integer, got {minor!r}")
    text = str(minor).strip()
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"minor units must be an integer, got {minor!r}")
    return Decimal(text)


ISO = MinorUnitRule("iso", MappingProxyType({}))
STRIPE = MinorUnitRule("stripe", MappingProxyType({"ISK": 2, "MGA": 0}))
ADYEN = MinorUnitRule("adyen", MappingProxyType({"CLP": 2, "CVE": 0, "IDR": 0, "ISK": 2}))
