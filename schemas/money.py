"""Money: an exact Decimal amount in major units with its ISO 4217 currency.

Providers encode amounts three ways: integer minor units (Stripe, Adyen), decimal strings
(Shopify, PayPal, Amazon) and JSON numbers (Mercado Pago). All of them become a `Money` here,
and never pass through `float`. Minor units are converted with the currency's real ISO 4217
exponent (JPY 0, KWD 3, CLF 4), not an assumed 2.

A `Money` is bounded, so that one hostile amount cannot cost a worker its memory or its time:

- the amount is read from at most `MAX_AMOUNT_CHARS` characters, with at most
  `MAX_AMOUNT_DIGITS` digits and an exponent within `MAX_AMOUNT_EXPONENT`, all checked before
  the value is ever expanded (`"1e999999999"` would print as a gigabyte of zeros);
- its magnitude is at most the money ceiling (`DEFAULT_MONEY_CEILING`, 10^12 major units; a
  deployment sets another with `configure_money_ceiling`, from the `HUB_MONEY_CEILING`
  setting at start-up);
- it is a whole number of the currency's ISO 4217 minor unit (39.951 EUR, 1500.001 JPY are
  rejected; 12.345 KWD is fine);
- the currency is an active ISO 4217 code of money a shop can charge (`ACTIVE_CURRENCIES`).

The sign is not a property of money but of the event carrying it (`schemas.events`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    field_validator,
    model_validator,
)

# ISO 4217 minor-unit exponents that differ from 2 (current list, amendment 179).
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}

ACTIVE_CURRENCIES: Final[frozenset[str]] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF
    YER ZAR ZMW ZWG
    """.split()
)
"""ISO 4217 List One codes in use (December 2026): national currencies and their fund codes.

Left out on purpose: withdrawn codes (DEM, HRK, ZWL...), which CLDR still lists; and the X codes
that are not a country's money: XTS (testing), XXX (no currency), the precious metals (XAU,
XAG, XPD, XPT) and the units of account (XDR, XSU, XUA, XBA-XBD). Withdrawn in 2026: BGN
(Bulgaria adopted the euro on 1 January 2026) and ANG (replaced by XCG, 31 March 2026)."""

DEFAULT_MONEY_CEILING: Final = Decimal(10) ** 12
"""Largest magnitude of an amount, in major units, unless a deployment configures another."""

MAX_MONEY_CEILING: Final = Decimal(10) ** 18
"""Largest ceiling a deployment may configure; exact Decimal arithmetic stays within it."""

MAX_AMOUNT_CHARS: Final = 64
"""Longest text an amount is read from (`"1234567890123.4567"` is 18)."""

MAX_AMOUNT_DIGITS: Final = 40
"""Most significant digits of an amount, trailing zeros included (`"12.3400"` has 6)."""

MAX_AMOUNT_EXPONENT: Final = 24
"""Largest power of ten an amount may be written with either way (`1E+24`, `1E-24`)."""

_ceiling: Decimal = DEFAULT_MONEY_CEILING


def configure_money_ceiling(ceiling: Decimal | int | str) -> None:
    """Set the largest magnitude of an amount (major units) for this process.

    Called once at start-up from the settings; connectors and models only read it.

    Raises:
        ValueError: the ceiling is not a whole positive number up to `MAX_MONEY_CEILING`.
    """
    global _ceiling
    value = _to_decimal(ceiling)
    if not 0 < value <= MAX_MONEY_CEILING or value != value.to_integral_value():
        raise ValueError(f"money ceiling must be a whole number in 1..10^18, got {ceiling!r}")
    _ceiling = value


def money_ceiling() -> Decimal:
    """The largest magnitude of an amount in major units (see `configure_money_ceiling`)."""
    return _ceiling


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (ISO 4217)."""
    code = normalize_currency(currency)
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def normalize_currency(currency: str) -> str:
    """Upper-case an ISO 4217 code and check that it names an active currency.

    Raises:
        ValueError: the code is not in `ACTIVE_CURRENCIES` (XXX and XTS are not).
    """
    code = currency.strip().upper()
    if code not in ACTIVE_CURRENCIES:
        raise ValueError(f"unknown ISO 4217 currency code {_shown(currency)}")
    return code


def _to_decimal(value: Any) -> Decimal:
    """A Decimal read within the amount bounds, checked before the value is expanded.

    Raises:
        ValueError: not a number, not finite, or beyond the text, digit or exponent bounds.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, float):
        # A JSON number was parsed as float somewhere upstream: its shortest repr is what the
        # provider wrote, so go through str, never Decimal(float).
        value = repr(value)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str | int):
        # str() of an int is bounded by Python's own digit limit; a string is measured first.
        text = value.strip() if isinstance(value, str) else str(value)
        if len(text) > MAX_AMOUNT_CHARS:
            raise ValueError(f"amount of {len(text)} characters is longer than an amount can be")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {_shown(value)}") from exc
    else:
        raise ValueError(f"not a decimal amount: {type(value).__name__}")
    # as_tuple never expands the exponent: `1E+999999999` stays a digit and a number.
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):  # "n", "N", "F": NaN, sNaN, Infinity
        raise ValueError(f"not a finite amount: {_shown(value)}")
    if len(digits) > MAX_AMOUNT_DIGITS:
        raise ValueError(f"amount has {len(digits)} digits, more than an amount can have")
    if abs(exponent) > MAX_AMOUNT_EXPONENT:
        raise ValueError(f"amount {_shown(value)} has an absurd exponent ({exponent})")
    return amount


def _shown(value: object) -> str:
    """`repr(value)` cut to a length fit for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]


class Money(BaseModel):
    """An exact amount in major units (`"12.345"` KWD, `"1200"` JPY) and its currency.

    Bounded as the module docstring says: magnitude at most `money_ceiling()`, a whole number
    of the currency's ISO 4217 minor unit, an active currency.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: ExactDecimal
    currency: str

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_is_iso_4217(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("currency must be an ISO 4217 code string")
        return normalize_currency(value)

    @model_validator(mode="after")
    def _bounded_and_whole_minor_units(self) -> Self:
        # The magnitude first: within the ceiling, quantize below stays exact and cheap.
        if abs(self.amount) > _ceiling:
            raise ValueError(
                f"amount {_shown(self.amount)} {self.currency} is beyond the money ceiling "
                f"of {_ceiling} major units"
            )
        minor_unit = Decimal(1).scaleb(-currency_exponent(self.currency))
        if self.amount != self.amount.quantize(minor_unit):
            raise ValueError(
                f"{self.amount} {self.currency} is finer than the currency's minor unit "
                f"({minor_unit})"
            )
        return self

    @classmethod
    def from_minor_units(cls, minor: int | str, currency: str) -> Money:
        """Build Money from an integer count of the currency's minor units.

        Raises:
            ValueError: `minor` is not a whole number, or the currency is unknown.
        """
        if isinstance(minor, bool) or isinstance(minor, float):
            raise ValueError(f"minor units must be an integer, got {minor!r}")
        units = _to_decimal(minor)
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
