from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.money import (
    ACTIVE_CURRENCIES,
    DEFAULT_MONEY_CEILING,
    Money,
    configure_money_ceiling,
    currency_exponent,
    money_ceiling,
)

# ISO 4217 minor units, as published in the standard's list (not derived from the code).
ISO_EXPONENTS = {
    "USD": 2,
    "EUR": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "VND": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "BRL": 2,
    "CNY": 2,
    "SAR": 2,
}


@pytest.mark.parametrize(("currency", "exponent"), sorted(ISO_EXPONENTS.items()))
def test_exponent_is_the_iso_4217_minor_unit(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (1200, "JPY", Decimal("1200")),
        (1200, "jpy", Decimal("1200")),
        (12345, "KWD", Decimal("12.345")),
        (19900, "USD", Decimal("199.00")),
        ("500", "KRW", Decimal("500")),
        (-250, "EUR", Decimal("-2.50")),
        (10000, "CLF", Decimal("1.0000")),
    ],
)
def test_minor_units_convert_by_the_real_exponent(
    minor: int, currency: str, major: Decimal
) -> None:
    money = Money.from_minor_units(minor, currency)
    assert money.amount == major
    assert money.currency == currency.upper()


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(12.5, id="float"),
        pytest.param("12.5", id="fraction"),
        pytest.param(True, id="bool"),
    ],
)
def test_minor_units_must_be_whole(bad: object) -> None:
    with pytest.raises(ValueError, match="integer"):
        Money.from_minor_units(bad, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency", "match"),
    [
        ("12.00", "XYZ", "unknown ISO 4217"),
        ("12.00", "usdollar", "unknown ISO 4217"),
        ("NaN", "USD", "finite"),
        ("twelve", "USD", "decimal"),
        (True, "USD", "boolean"),
    ],
)
def test_invalid_money_is_rejected(amount: object, currency: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Money(amount=amount, currency=currency)  # type: ignore[arg-type]


def test_json_amount_is_an_exact_decimal_string() -> None:
    money = Money(amount="12.345", currency="kwd")
    assert json.loads(money.model_dump_json()) == {"amount": "12.345", "currency": "KWD"}
    assert Money.model_validate_json(money.model_dump_json()) == money


def test_a_float_from_a_json_number_keeps_the_written_digits() -> None:
    assert Money(amount=0.1, currency="USD").amount == Decimal("0.1")  # type: ignore[arg-type]


def test_values_compare_by_amount_not_by_scale() -> None:
    assert Money(amount="199", currency="USD").same_value(Money(amount="199.00", currency="USD"))
    assert not Money(amount="199", currency="USD").same_value(Money(amount="199", currency="CAD"))


def test_adding_different_currencies_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot add"):
        Money(amount="1", currency="USD") + Money(amount="1", currency="EUR")


def test_finer_than_minor_unit_cannot_become_minor_units() -> None:
    with pytest.raises(ValueError, match="finer"):
        Money(amount="1.5", currency="JPY").to_minor_units()


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(sorted(ISO_EXPONENTS)),
)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    money = Money.from_minor_units(minor, currency)
    assert money.to_minor_units() == minor
    assert money.amount * (10 ** ISO_EXPONENTS[currency]) == minor
    assert Money.model_validate_json(money.model_dump_json()).to_minor_units() == minor


@given(
    a=st.integers(min_value=0, max_value=5 * 10**11),
    b=st.integers(min_value=0, max_value=5 * 10**11),
    currency=st.sampled_from(sorted(ISO_EXPONENTS)),
)
def test_sum_of_minor_units_is_exact(a: int, b: int, currency: str) -> None:
    total = Money.from_minor_units(a, currency) + Money.from_minor_units(b, currency)
    assert total.to_minor_units() == a + b


@pytest.mark.parametrize(
    ("amount", "currency", "match"),
    [
        pytest.param("1e99999999", "USD", "absurd exponent", id="huge-exponent"),
        pytest.param("1e999999999", "USD", "absurd exponent", id="huger-exponent"),
        pytest.param(Decimal("1e999999999"), "USD", "absurd exponent", id="decimal-exponent"),
        pytest.param("0e-999999999", "USD", "absurd exponent", id="zero-tiny-exponent"),
        pytest.param("9" * 10_000_000, "USD", "longer than an amount", id="ten-million-digits"),
        pytest.param(Decimal("1" * 100), "USD", "digits", id="hundred-digits"),
        pytest.param("1000000000000.01", "USD", "beyond the money ceiling", id="over-ceiling"),
        pytest.param("-1000000000001", "JPY", "beyond the money ceiling", id="under-ceiling"),
        pytest.param("39.951", "EUR", r"finer than the currency's minor unit \(0.01\)", id="eur"),
        pytest.param("1500.001", "JPY", r"finer than the currency's minor unit \(1\)", id="jpy"),
        pytest.param("1500.5", "KRW", "finer than the currency's minor unit", id="krw"),
        pytest.param("12.3451", "KWD", r"minor unit \(0.001\)", id="kwd"),
        pytest.param("1.0001", "BHD", "finer", id="bhd"),
        pytest.param("1.0001", "JOD", "finer", id="jod"),
        pytest.param("1.0001", "OMR", "finer", id="omr"),
        pytest.param("1.0001", "TND", "finer", id="tnd"),
        pytest.param("10.00", "XXX", "unknown ISO 4217", id="no-currency"),
        pytest.param("10.00", "XTS", "unknown ISO 4217", id="testing-code"),
        pytest.param("10.00", "XAU", "unknown ISO 4217", id="gold"),
        pytest.param("10.00", "DEM", "unknown ISO 4217", id="withdrawn"),
    ],
)
def test_hostile_or_impossible_amounts_are_rejected_with_the_reason(
    amount: object, currency: str, match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        Money(amount=amount, currency=currency)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("12.345", "KWD"),
        ("0.005", "BHD"),
        ("1500", "JPY"),
        ("1500.00", "JPY"),  # trailing zeros name a whole yen
        ("39.95", "EUR"),
        ("39.9500", "EUR"),
        ("1000000000000", "USD"),
        ("-1000000000000", "USD"),
        ("1.2345", "CLF"),
    ],
)
def test_amounts_at_or_above_the_minor_unit_within_the_ceiling_are_money(
    amount: str, currency: str
) -> None:
    assert Money(amount=amount, currency=currency).amount == Decimal(amount)


def test_active_currencies_are_iso_4217_codes_of_money() -> None:
    assert {"EUR", "USD", "JPY", "KWD", "XOF", "XAF", "XCD", "XPF", "XCG", "CLF"} <= (
        ACTIVE_CURRENCIES
    )
    assert not {"XXX", "XTS", "XAU", "XDR", "DEM", "HRK", "CNH"} & ACTIVE_CURRENCIES
    assert all(len(code) == 3 and code.isupper() for code in ACTIVE_CURRENCIES)


def test_the_money_ceiling_is_configurable_and_bounded() -> None:
    assert money_ceiling() == DEFAULT_MONEY_CEILING == Decimal(10) ** 12
    try:
        configure_money_ceiling(1000)
        with pytest.raises(ValidationError, match="beyond the money ceiling of 1000"):
            Money(amount="1000.01", currency="EUR")
        assert Money(amount="1000", currency="EUR").amount == 1000
    finally:
        configure_money_ceiling(DEFAULT_MONEY_CEILING)
    for bad in (0, -5, "1.5", "1e19", "1e999999999"):
        with pytest.raises(ValueError):
            configure_money_ceiling(bad)  # type: ignore[arg-type]
    assert money_ceiling() == DEFAULT_MONEY_CEILING
