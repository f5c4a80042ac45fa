"""Adyen connector traps: "true"/"false" strings, the same pspReference failing then succeeding,
multi-item notifications, CANCEL_OR_REFUND, dispute stages and scheme reason codes, and
Adyen's own currency decimals (CLP, ISK, IDR, CVE differ from ISO 4217)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.payments._minor_units import ADYEN
from connectors.payments.adyen import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from schemas.money import ACTIVE_CURRENCIES, Money, currency_exponent
from tests.support.connector_fixtures import RECEIVED_AT

PAYMENT = "W5QJ8P4XR2ZG6T9K"
MODIFICATION = "K7R2N4V8B3XC6M9Q"


def item(**overrides: Any) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "additionalData": {"hmacSignature": "KJFhURWP8Pv9m8k+7NGHNJAupBj6X6J/VWAikFxeWhA="},
        "amount": {"currency": "EUR", "value": 1500},
        "eventCode": "REFUND",
        "eventDate": "2026-02-10T11:02:07+01:00",
        "merchantAccountCode": "NordwindHomeECOM",
        "merchantReference": "NW-2026-004417",
        "originalReference": PAYMENT,
        "paymentMethod": "visa",
        "pspReference": MODIFICATION,
        "reason": "",
        "success": "true",
    }
    notification.update(overrides)
    return notification


def notification(*items: dict[str, Any], live: str = "false") -> bytes:
    body = {"live": live, "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    return json.dumps(body).encode()


def parse_one(raw: bytes) -> CanonicalEvent:
    events = parse(raw, received_at=RECEIVED_AT)
    assert len(events) == 1
    return events[0]


def chargeback(code: str, **additional: str) -> dict[str, Any]:
    return item(
        eventCode=code, pspReference="Z6N1B8R4T7WQ3K5M",
        reason="Merchandise/Services Not Received",
        additionalData={"chargebackReasonCode": "13.1", "chargebackSchemeCode": "visa",
                        **additional},
    )


@pytest.mark.parametrize(
    ("currency", "value", "major"),
    [
        ("CLP", 1599000, "15990"),
        ("ISK", 250000, "2500"),
        ("IDR", 1250000, "1250000"),
        ("CVE", 5000, "5000"),
        ("JPY", 3300, "3300"),
        ("KRW", 45000, "45000"),
        ("KWD", 12500, "12.500"),
        ("BHD", 4750, "4.750"),
        ("EUR", 1500, "15.00"),
    ],
)
def test_amounts_follow_adyen_decimals(currency: str, value: int, major: str) -> None:
    event = parse_one(notification(item(amount={"currency": currency, "value": value})))
    assert event.money == Money(amount=Decimal(major), currency=currency)


def test_adyen_differs_from_iso_exactly_for_clp_cve_idr_isk() -> None:
    differing = {
        code for code in ACTIVE_CURRENCIES if ADYEN.exponent(code) != currency_exponent(code)
    }
    assert differing == {"CLP", "CVE", "IDR", "ISK"}
    assert (ADYEN.exponent("CLP"), ADYEN.exponent("ISK")) == (2, 2)
    assert (ADYEN.exponent("CVE"), ADYEN.exponent("IDR")) == (0, 0)


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(["CLP", "ISK", "IDR", "CVE", "JPY", "KWD", "BHD", "EUR", "USD"]),
)
def test_adyen_minor_units_round_trip(minor: int, currency: str) -> None:
    # Where adyen counts finer than ISO 4217, only whole ISO minor units are money.
    minor *= 10 ** max(0, ADYEN.exponent(currency) - currency_exponent(currency))
    assert ADYEN.to_minor(ADYEN.to_money(minor, currency)) == minor


def test_money_finer_than_adyen_minor_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="finer than adyen's minor unit"):
        ADYEN.to_minor(Money(amount=Decimal("100.50"), currency="IDR"))


@pytest.mark.parametrize(
    ("success", "type_", "raw_reason"),
    [
        ("true", "refund.succeeded", None),
        ("false", "refund.failed", "Insufficient balance on payment"),
        ("FALSE", "refund.failed", "Insufficient balance on payment"),
    ],
)
def test_refund_success_string_decides_the_outcome(
    success: str, type_: str, raw_reason: str | None
) -> None:
    raw = notification(item(success=success, reason="Insufficient balance on payment"))
    event = parse_one(raw)
    assert (event.type, event.raw_reason, event.refund_id) == (type_, raw_reason, MODIFICATION)


def test_same_psp_reference_failing_then_succeeding_are_two_facts_and_redelivery_is_one() -> None:
    failed = item(success="false", eventDate="2026-02-10T09:15:31+01:00")
    succeeded = item(success="true")
    first, second = parse(notification(failed, succeeded), received_at=RECEIVED_AT)
    again = parse_one(notification(succeeded, live="false"))
    assert first.event_id != second.event_id
    assert second.event_id == again.event_id


def test_multi_item_notification_keeps_item_order_and_skips_items_the_hub_does_not_use() -> None:
    events = parse(
        notification(
            item(eventCode="AUTHORISATION", pspReference=PAYMENT, originalReference=None),
            item(eventCode="REFUND", pspReference="A1"),
            item(eventCode="REPORT_AVAILABLE", pspReference="A2"),
            item(eventCode="REFUND", pspReference="A3", success="false"),
        ),
        received_at=RECEIVED_AT,
    )
    assert [(e.type, e.refund_id) for e in events] == [
        ("refund.succeeded", "A1"), ("refund.failed", "A3"),
    ]


def test_refund_references_name_order_payment_and_refund() -> None:
    event = parse_one(notification(item()))
    assert [str(ref) for ref in event.references] == [
        "order:NW-2026-004417", f"payment:{PAYMENT}", f"refund:{MODIFICATION}",
    ]
    assert event.case_key == "order:NW-2026-004417"


@pytest.mark.parametrize(
    ("action", "types"),
    [
        ("refund", ["refund.succeeded"]),
        ("cancel", []),
        (None, []),
    ],
)
def test_cancel_or_refund_follows_the_modification_action(
    action: str | None, types: list[str]
) -> None:
    additional = {"modification.action": action} if action else {}
    raw = notification(item(eventCode="CANCEL_OR_REFUND", additionalData=additional))
    assert [event.type for event in parse(raw, received_at=RECEIVED_AT)] == types


@pytest.mark.parametrize(
    ("code", "state"),
    [("REFUND_FAILED", "refund.failed"), ("REFUNDED_REVERSED", "refund.failed")],
)
def test_later_refund_failures_are_failed_refunds_named_by_their_code(
    code: str, state: str
) -> None:
    event = parse_one(notification(item(eventCode=code)))
    assert (event.type, event.raw_reason) == (state, code)


def test_capture_is_a_payment_capture_and_authorisation_is_not() -> None:
    capture = item(eventCode="CAPTURE", pspReference="V1K6R9T3Z8QM5B2W")
    authorisation = item(eventCode="AUTHORISATION", pspReference=PAYMENT, originalReference=None)
    failed_capture = item(eventCode="CAPTURE", success="false")
    events = parse(notification(authorisation, capture, failed_capture), received_at=RECEIVED_AT)
    assert [event.type for event in events] == ["payment.captured"]
    assert events[0].reference_values("payment") == [PAYMENT, "V1K6R9T3Z8QM5B2W"]


@pytest.mark.parametrize(
    ("code", "type_"),
    [
        ("REQUEST_FOR_INFORMATION", "dispute.opened"),
        ("NOTIFICATION_OF_CHARGEBACK", "dispute.opened"),
        ("CHARGEBACK", "dispute.opened"),
        ("CHARGEBACK_REVERSED", "dispute.updated"),
        ("SECOND_CHARGEBACK", "dispute.updated"),
        ("INFORMATION_SUPPLIED", "dispute.updated"),
        ("PREARBITRATION_WON", "dispute.closed"),
        ("PREARBITRATION_LOST", "dispute.closed"),
    ],
)
def test_dispute_stages_map_to_dispute_events(code: str, type_: str) -> None:
    event = parse_one(notification(chargeback(code)))
    assert event.type == type_
    assert event.case_key == "order:NW-2026-004417"
    assert event.reference_values("dispute") == ["Z6N1B8R4T7WQ3K5M"]


def test_dispute_stages_sharing_one_psp_reference_are_distinct_events() -> None:
    events = parse(
        notification(chargeback("NOTIFICATION_OF_CHARGEBACK"), chargeback("CHARGEBACK")),
        received_at=RECEIVED_AT,
    )
    assert len({event.event_id for event in events}) == 2


def test_closed_dispute_carries_the_dispute_status() -> None:
    event = parse_one(notification(chargeback("PREARBITRATION_WON", disputeStatus="Won")))
    assert event.text == "Won"


def test_request_for_information_reads_the_rfi_reason_code() -> None:
    rfi = item(eventCode="REQUEST_FOR_INFORMATION", reason="Cardholder Does Not Recognize",
               additionalData={"rfiReasonCode": "4527", "rfiSchemeCode": "mc"})
    event = parse_one(notification(rfi))
    assert (event.raw_reason, event.reason_code) == ("4527", "other")


@pytest.mark.parametrize(
    ("scheme", "code", "reason_code"),
    [
        ("visa", "10.4", "fraud"),
        ("visa", "13.1", "lost_in_transit"),
        ("visa", "13.3", "not_as_described"),
        ("visa", "12.6.1", "other"),
        ("mc", "4837", "fraud"),
        ("mc", "4855", "lost_in_transit"),
        ("mc", "4853", "not_as_described"),
        ("amex", "C08", "lost_in_transit"),
        ("amex", "C32", "defective"),
        ("discover", "UA02", "other"),
    ],
)
def test_scheme_reason_codes_map_to_canonical_codes(
    scheme: str, code: str, reason_code: str
) -> None:
    cb = item(eventCode="CHARGEBACK", additionalData={
        "chargebackReasonCode": code, "chargebackSchemeCode": scheme,
    })
    event = parse_one(notification(cb))
    assert (event.reason_code, event.raw_reason) == (reason_code, code)


def test_event_date_offset_is_kept_and_a_missing_date_falls_back_to_receipt() -> None:
    dated = parse_one(notification(item()))
    undated = parse_one(notification(item(eventDate=None)))
    assert dated.occurred_at == datetime(2026, 2, 10, 10, 2, 7, tzinfo=UTC)
    assert dated.occurred_at_local == datetime(
        2026, 2, 10, 11, 2, 7, tzinfo=timezone(timedelta(hours=1))
    )
    assert (undated.occurred_at, undated.time_source) == (RECEIVED_AT, "received")


def test_a_bare_notification_item_is_one_item() -> None:
    raw = json.dumps(item()).encode()
    assert parse_one(raw).refund_id == MODIFICATION


def test_an_empty_notification_has_no_events() -> None:
    assert parse(notification(), received_at=RECEIVED_AT) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b'{"live": "false"}', "missing field 'notificationItems'", id="no-items"),
        pytest.param(b'{"notificationItems": [{"Item": {}}]}',
                     "'notificationItems.0.NotificationRequestItem' is not an object",
                     id="wrong-wrapper"),
        pytest.param(notification(item(success="yes")), "'success' is not", id="success-yes"),
        pytest.param(notification(item(success=None)), "'success' is not", id="success-null"),
        pytest.param(notification(item(pspReference=None)), "missing field 'pspReference'",
                     id="no-psp"),
        pytest.param(notification(item(amount={"currency": "EUR", "value": "15.00"})),
                     "minor units must be an integer", id="decimal-value"),
        pytest.param(notification(item(amount={"currency": "XXQ", "value": 1})),
                     "unknown ISO 4217 currency", id="unknown-currency"),
        pytest.param(notification(item(eventDate="2026-02-10T11:02:07")),
                     "'eventDate' is not a timestamp", id="naive-date"),
    ],
)
def test_unreadable_payloads_name_the_field(raw: bytes, reason: str) -> None:
    with pytest.raises(SkippableRecordError, match=reason) as caught:
        parse(raw, received_at=RECEIVED_AT)
    assert caught.value.source == "adyen"
