"""HUB_MONEY_CEILING: read with the other settings, applied to every Money at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import ValidationError

from schemas.errors import ConfigurationError
from schemas.money import DEFAULT_MONEY_CEILING, Money, configure_money_ceiling, money_ceiling
from schemas.settings import load_settings


@pytest.fixture(autouse=True)
def _default_ceiling_afterwards() -> Iterator[None]:
    yield
    configure_money_ceiling(DEFAULT_MONEY_CEILING)


def test_the_default_ceiling_is_ten_to_the_twelfth_major_units() -> None:
    assert load_settings().money_ceiling == Decimal(10) ** 12
    assert money_ceiling() == Decimal(10) ** 12


def test_the_ceiling_from_the_environment_applies_to_money(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_MONEY_CEILING", "50000")
    assert load_settings().money_ceiling == 50_000
    with pytest.raises(ValidationError, match="beyond the money ceiling of 50000"):
        Money(amount="50000.01", currency="EUR")


@pytest.mark.parametrize("value", ["0", "-1", "12.5", "1e19", "lots"])
def test_an_invalid_ceiling_fails_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HUB_MONEY_CEILING", value)
    with pytest.raises(ConfigurationError, match="HUB_MONEY_CEILING"):
        load_settings()
    assert money_ceiling() == DEFAULT_MONEY_CEILING
