"""Money: an exact Decimal amount in major units with its ISO 4217 currency.

Providers encode amounts three ways: integer minor units (Stripe, Adyen), decimal strings
(Shopify, PayPal, Amazon) and JSON numbers (Mercado Pago). All of them become a `Money` here,
and never pass through `float`. Minor units are converted with the currency's real ISO 4217
exponent (JPY 0, KWD 3, CLF 4), not an assumed 2.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from babel.numbers import list_currencies
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, field_validator

# ISO 4217 minor-unit exponents that differ from 2 (current list, amendment 179).
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}
_KNOWN_CURRENCIES: frozenset[str] = frozenset(list_currencies())


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (ISO 4217)."""
    code = normalize_currency(currency)
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def normalize_currency(currency: str) -> str:
    """Upper-case an ISO 4217 code and check that it names a real currency.

    Raises:
        ValueError: the code is not a known ISO 4217 currency.
    """
    code = currency.strip().upper()
    if code not in _KNOWN_CURRENCIES:
        raise ValueError(f"unknown ISO 4217 currency code {currency!r}")
    return code


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        # A JSON number was parsed as float somewhere upstream: its shortest repr is what the
        # provider wrote, so go through str, never Decimal(float).
        value = repr(value)
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]


class Money(BaseModel):
    """An exact amount in major units (`"12.345"` KWD, `"1200"` JPY) and its currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: ExactDecimal
    currency: str

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_is_iso_4217(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("currency must be an ISO 4217 code string")
        return normalize_currency(value)

    @classmethod
    def from_minor_units(cls, minor: int | str, currency: str) -> Money:
        """Build Money from an integer count of the currency's minor units.

        Raises:
            ValueError: `minor` is not a whole number, or the currency is unknown.
        """
        if isinstance(minor, bool) or isinstance(minor, float):
            raise ValueError(f"minor units must be an integer, got {minor!r}")
        units = Decimal(str(minor).strip())
        if units != units.to_integral_value():
            raise ValueError(f"minor units must be an integer, got {minor!r}")
        exponent = currency_exponent(currency)
        return cls(amount=units.scaleb(-exponent), currency=currency)

    def to_minor_units(self) -> int:
        """The amount as an integer count of minor units.

        Raises:
            ValueError: the amount has more decimals than the currency's minor unit.
        """
        scaled = self.amount.scaleb(currency_exponent(self.currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(
                f"{self.amount} {self.currency} is finer than the currency's minor unit"
            )
        return int(scaled)

    def same_value(self, other: Money) -> bool:
        """True when both name the same amount of the same currency (`199` == `199.00`)."""
        return self.currency == other.currency and self.amount == other.amount

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)
