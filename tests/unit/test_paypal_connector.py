"""PayPal connector traps: decimal-string amounts (JPY without decimals), refund status and the
capture behind the `up` link, offsets vs `Z`, dispute reasons, non-English buyer messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from connectors.payments.paypal import parse
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from schemas.money import Money
from tests.support.connector_fixtures import RECEIVED_AT

API = "https://api.paypal.com"
CAPTURE = "0JF852973C016714D"
REFUND = "1Y107995YT783435V"
DISPUTE = "PP-R-ABC-10000001"


def refund_resource(**overrides: Any) -> dict[str, Any]:
    refund: dict[str, Any] = {
        "id": REFUND,
        "amount": {"currency_code": "USD", "value": "0.99"},
        "status": "COMPLETED",
        "create_time": "2026-02-11T01:14:07-08:00",
        "update_time": "2026-02-11T01:20:00-08:00",
        "links": [
            {"href": f"{API}/v2/payments/refunds/{REFUND}", "rel": "self", "method": "GET"},
            {"href": f"{API}/v2/payments/captures/{CAPTURE}", "rel": "up", "method": "GET"},
        ],
    }
    refund.update(overrides)
    return refund


def dispute_resource(**overrides: Any) -> dict[str, Any]:
    dispute: dict[str, Any] = {
        "dispute_id": DISPUTE,
        "create_time": "2026-02-19T10:30:48.000Z",
        "update_time": "2026-02-21T08:00:00.000Z",
        "disputed_transactions": [
            {"seller_transaction_id": CAPTURE, "invoice_number": "INV-1001",
             "gross_amount": {"currency_code": "EUR", "value": "64.99"}},
        ],
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "status": "OPEN",
        "dispute_amount": {"currency_code": "EUR", "value": "64.99"},
        "messages": [],
    }
    dispute.update(overrides)
    return dispute


def webhook(event_type: str, resource: dict[str, Any], **overrides: Any) -> bytes:
    envelope: dict[str, Any] = {
        "id": "WH-1GE84257G0350133W-6RW800890C634293G", "event_version": "1.0",
        "create_time": "2026-02-11T09:14:31.218Z", "resource_type": "refund",
        "event_type": event_type, "summary": "test", "resource": resource,
    }
    envelope.update(overrides)
    return json.dumps(envelope, ensure_ascii=False).encode()


def parse_one(raw: bytes) -> CanonicalEvent:
    events = parse(raw, received_at=RECEIVED_AT)
    assert len(events) == 1
    return events[0]


@pytest.mark.parametrize(
    ("value", "currency", "amount"),
    [
        ("1200", "JPY", Decimal("1200")),
        ("0.99", "USD", Decimal("0.99")),
        ("1500", "HUF", Decimal("1500")),
        ("12.345", "KWD", Decimal("12.345")),
    ],
)
def test_amounts_are_decimal_strings_not_minor_units(
    value: str, currency: str, amount: Decimal
) -> None:
    resource = refund_resource(amount={"currency_code": currency, "value": value})
    event = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", resource))
    assert event.money == Money(amount=amount, currency=currency)


def test_a_json_number_amount_stays_exact() -> None:
    raw = webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(amount={}))
    raw = raw.replace(b'"amount": {}', b'"amount": {"currency_code": "USD", "value": 10.10}')
    assert parse_one(raw).money == Money(amount=Decimal("10.10"), currency="USD")


@pytest.mark.parametrize(
    ("status", "type_", "raw_reason"),
    [
        ("COMPLETED", "refund.succeeded", None),
        ("PENDING", "refund.requested", None),
        ("FAILED", "refund.failed", "FAILED"),
        ("CANCELLED", "refund.failed", "CANCELLED"),
    ],
)
def test_refund_status_decides_the_event_type(
    status: str, type_: str, raw_reason: str | None
) -> None:
    event = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(status=status)))
    assert (event.type, event.raw_reason, event.refund_id) == (type_, raw_reason, REFUND)


def test_pending_refund_is_placed_at_its_creation() -> None:
    resource = refund_resource(status="PENDING", status_details={"reason": "ECHECK"})
    event = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", resource))
    assert event.occurred_at == datetime(2026, 2, 11, 9, 14, 7, tzinfo=UTC)


def test_completed_refund_is_placed_at_its_update_with_the_offset_kept() -> None:
    event = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource()))
    assert event.occurred_at == datetime(2026, 2, 11, 9, 20, tzinfo=UTC)
    assert event.occurred_at_local == datetime(
        2026, 2, 11, 1, 20, tzinfo=timezone(timedelta(hours=-8))
    )


def test_capture_comes_from_the_up_link_or_the_related_ids() -> None:
    linked = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource()))
    related = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(
        links=[], supplementary_data={"related_ids": {"capture_id": "9XK10237LM4456021"}},
    )))
    assert linked.case_key == f"payment:{CAPTURE}"
    assert related.case_key == "payment:9XK10237LM4456021"


def test_invoice_and_custom_ids_are_order_references() -> None:
    resource = refund_resource(invoice_id="INV-2026-0042", custom_id="cart-7f3a91")
    event = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", resource))
    assert event.order_id == "INV-2026-0042"
    assert event.reference_values("order") == ["INV-2026-0042", "cart-7f3a91"]


def test_reversal_is_money_back_to_the_buyer_and_distinct_from_a_refund_of_another_id() -> None:
    resource = refund_resource(id="6T496768GW863311H", note_to_payer="Payment reversed")
    reversed_ = parse_one(webhook("PAYMENT.CAPTURE.REVERSED", resource))
    refunded = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource()))
    assert reversed_.type == "refund.succeeded"
    assert reversed_.raw_reason == "PAYMENT.CAPTURE.REVERSED"
    assert reversed_.text == "Payment reversed"
    assert reversed_.event_id != refunded.event_id


def test_redelivery_under_a_new_webhook_id_is_the_same_event() -> None:
    first = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource()))
    again = parse_one(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(), id="WH-OTHER"))
    assert first.event_id == again.event_id


@pytest.mark.parametrize(
    ("reason", "reason_code"),
    [
        ("MERCHANDISE_OR_SERVICE_NOT_RECEIVED", "lost_in_transit"),
        ("MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED", "not_as_described"),
        ("UNAUTHORISED", "fraud"),
        ("UNAUTHORIZED", "fraud"),
        ("CREDIT_NOT_PROCESSED", "other"),
        ("DUPLICATE_TRANSACTION", "other"),
        ("INCORRECT_AMOUNT", "other"),
    ],
)
def test_dispute_reasons_map_to_canonical_codes(reason: str, reason_code: str) -> None:
    event = parse_one(webhook("CUSTOMER.DISPUTE.CREATED", dispute_resource(reason=reason)))
    assert (event.type, event.reason_code, event.raw_reason) == (
        "dispute.opened", reason_code, reason,
    )


@pytest.mark.parametrize(
    "content",
    [
        "Die Bestellung ist nach drei Wochen immer noch nicht angekommen.",
        "箱が潰れていて、中のカップが割れていました。",
        "El paquete llegó vacío, sólo había papel dentro.",
    ],
)
def test_latest_buyer_message_is_kept_verbatim_without_guessing_its_language(content: str) -> None:
    messages = [
        {"posted_by": "BUYER", "time_posted": "2026-02-19T10:30:55.000Z", "content": "first"},
        {"posted_by": "BUYER", "time_posted": "2026-02-21T08:00:00.000Z", "content": content},
    ]
    event = parse_one(webhook("CUSTOMER.DISPUTE.UPDATED", dispute_resource(messages=messages)))
    assert (event.text, event.language) == (content, None)


def test_dispute_references_and_times() -> None:
    opened = parse_one(webhook("CUSTOMER.DISPUTE.CREATED", dispute_resource()))
    assert [str(ref) for ref in opened.references] == [
        "order:INV-1001", f"payment:{CAPTURE}", f"dispute:{DISPUTE}",
    ]
    assert opened.occurred_at == datetime(2026, 2, 19, 10, 30, 48, tzinfo=UTC)
    assert opened.occurred_at_local is None


def test_each_dispute_update_is_distinct_and_the_resolution_names_the_outcome() -> None:
    update_a = parse_one(webhook("CUSTOMER.DISPUTE.UPDATED", dispute_resource()))
    update_b = parse_one(webhook("CUSTOMER.DISPUTE.UPDATED", dispute_resource(
        update_time="2026-02-24T12:00:00.000Z", status="UNDER_REVIEW",
    )))
    resolved = parse_one(webhook("CUSTOMER.DISPUTE.RESOLVED", dispute_resource(
        status="RESOLVED", dispute_outcome={"outcome_code": "RESOLVED_SELLER_FAVOUR"},
    )))
    assert update_a.event_id != update_b.event_id
    assert (resolved.type, resolved.text) == ("dispute.closed", "RESOLVED_SELLER_FAVOUR")


def test_dispute_without_its_own_amount_uses_the_transaction_amount() -> None:
    resource = dispute_resource(dispute_amount=None)
    event = parse_one(webhook("CUSTOMER.DISPUTE.CREATED", resource))
    assert event.money == Money(amount=Decimal("64.99"), currency="EUR")


def test_capture_completed_is_a_payment_capture() -> None:
    capture = {
        "id": CAPTURE, "status": "COMPLETED", "amount": {"currency_code": "USD", "value": "25.00"},
        "invoice_id": "INV-77", "create_time": "2026-02-05T18:22:41Z",
        "update_time": "2026-02-05T18:22:41Z",
    }
    event = parse_one(webhook("PAYMENT.CAPTURE.COMPLETED", capture))
    assert (event.type, event.case_key) == ("payment.captured", "order:INV-77")


@pytest.mark.parametrize(
    "event_type",
    [
        "PAYMENT.CAPTURE.PENDING", "PAYMENT.CAPTURE.DECLINED", "PAYMENT.AUTHORIZATION.CREATED",
        "PAYMENT.SALE.COMPLETED", "CHECKOUT.ORDER.APPROVED",
    ],
)
def test_event_types_the_hub_does_not_use_are_ignored(event_type: str) -> None:
    assert parse(webhook(event_type, {"id": "X"}), received_at=RECEIVED_AT) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b'{"id": "WH-1", "resource": {}}', "missing field 'event_type'",
                     id="no-event-type"),
        pytest.param(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(amount=None)),
                     "missing field 'amount'", id="no-amount"),
        pytest.param(webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(status="REVERSED?")),
                     "unknown status", id="unknown-status"),
        pytest.param(webhook("PAYMENT.CAPTURE.REFUNDED",
                             refund_resource(amount={"currency_code": "USD", "value": True})),
                     "'amount.value' is not a decimal amount", id="bool-amount"),
        pytest.param(webhook("PAYMENT.CAPTURE.REFUNDED",
                             refund_resource(update_time="2026-02-11 01:20")),
                     "'resource.update_time' is not a timestamp", id="naive-time"),
        pytest.param(webhook("CUSTOMER.DISPUTE.CREATED", {"reason": "OTHER"}),
                     "missing field 'dispute_id'", id="dispute-without-id"),
        pytest.param(webhook("CUSTOMER.DISPUTE.CREATED", dispute_resource(messages="hello")),
                     "'messages' is not a list", id="messages-not-list"),
    ],
)
def test_unreadable_payloads_name_the_field(raw: bytes, reason: str) -> None:
    with pytest.raises(SkippableRecordError, match=reason) as caught:
        parse(raw, received_at=RECEIVED_AT)
    assert caught.value.source == "paypal"


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        pytest.param({"currency_code": "USD", "value": "1e99999999"}, "absurd exponent",
                     id="hundred-megabyte-amount"),
        pytest.param({"currency_code": "USD", "value": "1e999999999"}, "absurd exponent",
                     id="gigabyte-amount"),
        pytest.param({"currency_code": "USD", "value": "2000000000000"}, "money ceiling",
                     id="over-ceiling"),
        pytest.param({"currency_code": "EUR", "value": "39.951"}, "finer than the currency's",
                     id="sub-cent"),
        pytest.param({"currency_code": "JPY", "value": "1500.001"}, "finer than the currency's",
                     id="sub-yen"),
        pytest.param({"currency_code": "XXX", "value": "10.00"}, "unknown ISO 4217",
                     id="no-currency"),
        pytest.param({"currency_code": "XTS", "value": "10.00"}, "unknown ISO 4217",
                     id="test-currency"),
        pytest.param({"currency_code": "USD", "value": "-0.99"}, "must be positive",
                     id="negative-refund"),
    ],
)
def test_hostile_refund_amounts_are_dead_lettered_with_the_reason(
    amount: dict[str, str], reason: str
) -> None:
    raw = webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(amount=amount))
    with pytest.raises(SkippableRecordError, match=reason) as caught:
        parse(raw, received_at=RECEIVED_AT)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                   "1970-01-01T00:00:00Z"])
def test_refund_times_outside_the_plausible_window_are_dead_lettered(stamp: str) -> None:
    raw = webhook("PAYMENT.CAPTURE.REFUNDED",
                  refund_resource(create_time=stamp, update_time=stamp))
    with pytest.raises(SkippableRecordError, match="before 2000|more than 2 days after"):
        parse(raw, received_at=RECEIVED_AT)


def test_a_lone_surrogate_in_a_buyer_note_is_dead_lettered_not_a_serialization_crash() -> None:
    raw = webhook("PAYMENT.CAPTURE.REFUNDED", refund_resource(note_to_payer="x")).replace(
        b'"note_to_payer": "x"', b'"note_to_payer": "broken \\ud800 note"'
    )
    with pytest.raises(SkippableRecordError, match="unicode"):
        parse(raw, received_at=RECEIVED_AT)
