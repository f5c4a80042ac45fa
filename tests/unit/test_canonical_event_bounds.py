"""What a canonical event may not say: wrong-signed money, implausible times, unencodable text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas.events import (
    CANONICAL_EVENT,
    EARLIEST_OCCURRED_AT,
    FUTURE_TOLERANCE,
    MAX_TEXT_CHARS,
    Shipment,
)
from tests.support.events import event_factory, money

RECEIVED = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("event_type", ["refund.succeeded", "refund.requested", "refund.failed",
                                        "payment.captured"])
@pytest.mark.parametrize("amount", ["-10.00", "0", "0.00"])
def test_refunds_and_captures_move_a_positive_amount(event_type: str, amount: str) -> None:
    with pytest.raises(ValidationError, match=f"a {event_type} amount must be positive"):
        event_factory(type=event_type, money=money(amount))


@pytest.mark.parametrize("event_type", ["order.placed", "dispute.opened", "return.requested"])
def test_no_event_carries_a_negative_amount(event_type: str) -> None:
    assert event_factory(type=event_type, money=money("0.00")).money is not None
    with pytest.raises(ValidationError, match="must be not negative, got -0.01"):
        event_factory(type=event_type, money=money("-0.01"))


@pytest.mark.parametrize(
    ("occurred_at", "match"),
    [
        pytest.param(datetime(1, 1, 1, tzinfo=UTC), "is before 2000", id="year-1"),
        pytest.param(EARLIEST_OCCURRED_AT - timedelta(seconds=1), "is before 2000", id="1999"),
        pytest.param(datetime(9999, 12, 31, tzinfo=UTC), "more than 2 days after", id="year-9999"),
        pytest.param(RECEIVED + FUTURE_TOLERANCE + timedelta(seconds=1), "more than 2 days",
                     id="just-too-late"),
    ],
)
def test_event_times_outside_the_plausible_window_are_rejected(
    occurred_at: datetime, match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        event_factory(occurred_at=occurred_at, received_at=RECEIVED)


@pytest.mark.parametrize(
    "occurred_at", [EARLIEST_OCCURRED_AT, RECEIVED - timedelta(days=3650),
                    RECEIVED + FUTURE_TOLERANCE],
)
def test_event_times_inside_the_window_are_kept(occurred_at: datetime) -> None:
    assert event_factory(occurred_at=occurred_at, received_at=RECEIVED).occurred_at == occurred_at


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"text": "broken \ud800 text"}, id="text"),
        pytest.param({"raw_reason": "\udfff"}, id="raw-reason"),
        pytest.param({"references": ["order:A\ud83d"]}, id="reference"),
    ],
)
def test_text_that_cannot_be_utf_8_is_rejected_when_the_event_is_built(
    overrides: dict[str, object],
) -> None:
    with pytest.raises(ValidationError, match="unable to parse raw data as a unicode string"):
        event_factory(**overrides)


def test_nested_models_reject_unencodable_text_too() -> None:
    with pytest.raises(ValidationError, match="unable to parse raw data as a unicode string"):
        Shipment(carrier="DHL", tracking_number="1Z\udc00", status="in_transit", raw_status="x")


def test_paired_surrogates_decoded_from_json_are_ordinary_text() -> None:
    event = event_factory(text="parcel \U0001f4e6 arrived")
    assert CANONICAL_EVENT.validate_json(CANONICAL_EVENT.dump_json(event)) == event


def test_no_string_of_an_event_is_unbounded() -> None:
    assert event_factory(text="x" * MAX_TEXT_CHARS).text is not None
    with pytest.raises(ValidationError, match=f"at most {MAX_TEXT_CHARS} characters"):
        event_factory(order_id="9" * (MAX_TEXT_CHARS + 1))
