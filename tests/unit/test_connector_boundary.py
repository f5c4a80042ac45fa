"""The connector boundary: every foreign error mapped once, hostile sizes rejected or cut."""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from datetime import datetime

import pytest

from connectors.boundary import (
    FREE_TEXT_LIMIT,
    MAX_PAYLOAD_BYTES,
    capped_text,
    load_json_object,
    translate_errors,
)
from connectors.registry import CONNECTORS
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT

REGISTERED = [connector.source for connector in CONNECTORS]


def _raising(error: BaseException):  # type: ignore[no-untyped-def]
    @translate_errors("paypal")
    def parse(
        raw: bytes, *, received_at: datetime, headers: Mapping[str, str] | None = None
    ) -> list[CanonicalEvent]:
        raise error

    return parse


def _overflow() -> decimal.Overflow:
    try:
        decimal.Decimal("9e999999") * 10
    except decimal.Overflow as exc:
        return exc
    raise AssertionError("no overflow")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        pytest.param(RecursionError("maximum recursion depth"), "nested too deeply", id="deep"),
        pytest.param(_overflow(), "number out of range", id="decimal-overflow"),
        pytest.param(OverflowError("date value out of range"), "out of range", id="overflow"),
        pytest.param(decimal.InvalidOperation(), "invalid value", id="invalid-decimal"),
        pytest.param(KeyError("amount"), "missing field 'amount'", id="key"),
    ],
)
def test_every_foreign_error_leaves_as_a_skippable_record_error(
    error: BaseException, reason: str
) -> None:
    with pytest.raises(SkippableRecordError, match=reason) as caught:
        _raising(error)(b"{}", received_at=RECEIVED_AT)
    assert caught.value.source == "paypal"
    assert caught.value.__cause__ is error


@pytest.mark.parametrize("source", REGISTERED)
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="arrays"),
        pytest.param(b'{"a":' * 5_000 + b"1" + b"}" * 5_000, id="objects"),
    ],
)
def test_json_nested_beyond_the_stack_is_dead_lettered(source: str, raw: bytes) -> None:
    connector = next(c for c in CONNECTORS if c.source == source)
    with pytest.raises(SkippableRecordError, match="nested too deeply|recursion limit") as caught:
        connector.parse(raw, received_at=RECEIVED_AT, headers={})
    assert caught.value.source == source


@pytest.mark.parametrize("source", REGISTERED)
def test_a_payload_over_the_size_cap_is_rejected_unread(source: str) -> None:
    connector = next(c for c in CONNECTORS if c.source == source)
    # Valid JSON: the cap, not a decode error, is what rejects it.
    raw = json.dumps({"padding": "x" * MAX_PAYLOAD_BYTES}).encode()
    with pytest.raises(SkippableRecordError, match=f"larger than the {MAX_PAYLOAD_BYTES}"):
        connector.parse(raw, received_at=RECEIVED_AT, headers={})


def test_json_numbers_with_absurd_exponents_decode_without_expanding() -> None:
    document = load_json_object(b'{"value": 1e999999999}')
    assert document["value"].adjusted() == 999_999_999


def test_free_text_within_the_limit_is_kept_exactly() -> None:
    text = "ü" * FREE_TEXT_LIMIT
    assert capped_text(text) is text


def test_free_text_over_the_limit_is_cut_and_marked() -> None:
    capped = capped_text("a" * FREE_TEXT_LIMIT + "b" * 10_000_000)
    assert capped.startswith("a" * FREE_TEXT_LIMIT)
    assert capped.endswith("[truncated: 10000000 more characters in the raw record]")
    assert "b" not in capped
