from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.money import Money, currency_exponent

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
    minor=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(sorted(ISO_EXPONENTS)),
)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    money = Money.from_minor_units(minor, currency)
    assert money.to_minor_units() == minor
    assert money.amount * (10 ** ISO_EXPONENTS[currency]) == minor
    assert Money.model_validate_json(money.model_dump_json()).to_minor_units() == minor


@given(
    a=st.integers(min_value=0, max_value=10**12),
    b=st.integers(min_value=0, max_value=10**12),
    currency=st.sampled_from(sorted(ISO_EXPONENTS)),
)
def test_sum_of_minor_units_is_exact(a: int, b: int, currency: str) -> None:
    total = Money.from_minor_units(a, currency) + Money.from_minor_units(b, currency)
    assert total.to_minor_units() == a + b
