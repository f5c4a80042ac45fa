"""Shopify webhooks: topics, REST and GraphQL ids, presentment money, refunds, returns, labels."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from connectors.marketplaces.shopify import CONNECTOR, parse, shopify_id
from schemas.errors import SkippableRecordError
from tests.support.connector_fixtures import FIXTURES, RECEIVED_AT

SHOPIFY = FIXTURES / "shopify"


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SHOPIFY / f"{name}.json").read_text(encoding="utf-8"))
    return body


def deliver(
    body: dict[str, Any], topic: str | None, *, triggered_at: str | None = None
) -> list[Any]:
    headers = {"x-shopify-topic": topic} if topic else {}
    if triggered_at:
        headers["x-shopify-triggered-at"] = triggered_at
    return parse(json.dumps(body).encode(), received_at=RECEIVED_AT, headers=headers)


def refund(*transactions: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A refunds/create body of order 5921340023984 with the given transactions."""
    body = fixture_body("refunds-create-first-partial")
    body["transactions"] = list(transactions)
    body.update(overrides)
    return body


def transaction(amount: str, status: str = "success", currency: str | None = "EUR",
                kind: str = "refund") -> dict[str, Any]:
    return {"id": 1, "kind": kind, "status": status, "amount": amount, "currency": currency}


def test_descriptor() -> None:
    assert (CONNECTOR.source, CONNECTOR.kind, CONNECTOR.signature_scheme) == (
        "shopify", "marketplace", "shopify-hmac-sha256",
    )


@pytest.mark.parametrize(
    "value",
    [450789469, "450789469", "gid://shopify/Order/450789469", "gid://shopify/Order/450789469?x=1"],
)
def test_rest_and_graphql_order_ids_name_the_same_order(value: object) -> None:
    assert shopify_id(value, resource="Order") == "450789469"


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("gid://shopify/Return/450789469", "not a gid://shopify/Order/ id"),
        ("#1047", "not a Shopify Order id"),
        (True, "not a string or an integer"),
        (45.0, "not a string or an integer"),
    ],
)
def test_ids_of_another_kind_are_rejected(value: object, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match):
        shopify_id(value, resource="Order")


def test_an_order_known_only_by_its_gid_is_keyed_by_its_number() -> None:
    body = fixture_body("orders-create-presentment-eur")
    del body["id"]
    [event] = deliver(body, "orders/create")
    assert event.case_key == "order:5921340023984"


def test_order_money_is_the_buyers_presentment_currency() -> None:
    [event] = deliver(fixture_body("orders-create-presentment-eur"), "orders/create")
    assert event.money is not None
    assert (event.money.amount, event.money.currency) == (Decimal("118.45"), "EUR")


def test_without_money_sets_the_shop_total_is_used() -> None:
    body = fixture_body("orders-create-presentment-eur")
    del body["total_price_set"]
    [event] = deliver(body, "orders/create")
    assert event.money is not None
    assert (event.money.amount, event.money.currency) == (Decimal("127.72"), "USD")


@pytest.mark.parametrize(
    ("cancel_reason", "expected"),
    [("customer", "changed_mind"), ("fraud", "fraud"), ("inventory", "other"),
     ("declined", "other"), ("staff", "other"), ("other", "other")],
)
def test_cancel_reasons(cancel_reason: str, expected: str) -> None:
    body = fixture_body("orders-cancelled-customer")
    body["cancel_reason"] = cancel_reason
    [event] = deliver(body, "orders/cancelled")
    assert (event.reason_code, event.raw_reason) == (expected, cancel_reason)


def test_a_cancellation_needs_its_time() -> None:
    body = fixture_body("orders-cancelled-customer")
    body["cancelled_at"] = None
    with pytest.raises(SkippableRecordError, match="cancelled_at"):
        deliver(body, "orders/cancelled")


def test_split_tender_refund_sums_successful_transactions_only() -> None:
    body = refund(
        transaction("20.00", currency=None),
        transaction("58.50"),
        transaction("58.50", status="failure"),
        transaction("78.50", kind="sale"),
    )
    [event] = deliver(body, "refunds/create")
    assert event.type == "refund.succeeded"
    assert event.money is not None
    assert (event.money.amount, event.money.currency) == (Decimal("78.50"), "EUR")


@pytest.mark.parametrize(
    ("statuses", "event_type", "amount"),
    [
        (["pending"], "refund.requested", "39.95"),
        (["failure"], "refund.failed", "39.95"),
        (["error", "failure"], "refund.failed", "79.90"),
        (["failure", "success"], "refund.succeeded", "39.95"),
    ],
)
def test_refund_outcome_follows_its_transactions(
    statuses: list[str], event_type: str, amount: str
) -> None:
    body = refund(*(transaction("39.95", status=status) for status in statuses))
    [event] = deliver(body, "refunds/create")
    assert event.type == event_type
    assert event.money is not None and event.money.amount == Decimal(amount)
    assert event.refund_id == "1027904466096"


def test_a_refund_that_moves_no_money_is_ignored() -> None:
    assert deliver(refund(), "refunds/create") == []


def test_refund_transactions_in_two_currencies_are_rejected() -> None:
    body = refund(transaction("10.00"), transaction("10.00", currency="USD"))
    with pytest.raises(SkippableRecordError, match="single currency"):
        deliver(body, "refunds/create")


def test_two_refunds_of_one_order_are_two_facts_of_one_case() -> None:
    [first] = deliver(fixture_body("refunds-create-first-partial"), "refunds/create")
    [second] = deliver(fixture_body("refunds-create-second-split-tender"), "refunds/create")
    [redelivered] = deliver(fixture_body("refunds-create-first-partial"), "refunds/create")
    assert first.case_key == second.case_key == "order:5921340023984"
    assert first.event_id != second.event_id
    assert first.event_id == redelivered.event_id
    assert first.money is not None and second.money is not None
    assert (first.money + second.money).amount == Decimal("118.45")


def test_success_and_failure_of_one_refund_have_distinct_ids() -> None:
    [failed] = deliver(refund(transaction("39.95", status="failure")), "refunds/create")
    [succeeded] = deliver(refund(transaction("39.95")), "refunds/create")
    assert failed.event_id != succeeded.event_id


@pytest.mark.parametrize(
    ("return_reason", "expected"),
    [
        ("size_too_small", "size_fit"), ("SIZE_TOO_LARGE", "size_fit"),
        ("defective", "defective"), ("not_as_described", "not_as_described"),
        ("wrong_item", "wrong_item"), ("unwanted", "changed_mind"), ("STYLE", "changed_mind"),
        ("color", "changed_mind"), ("other", "other"), ("unknown", "other"),
        ("brand_new_reason", None),
    ],
)
def test_return_reasons(return_reason: str, expected: str | None) -> None:
    body = fixture_body("returns-request-spanish-note")
    body["return_line_items"][0]["return_reason"] = return_reason
    [event] = deliver(body, "returns/request")
    assert (event.reason_code, event.raw_reason) == (expected, return_reason)


def test_return_reason_note_is_the_text_when_there_is_no_customer_note() -> None:
    body = fixture_body("returns-request-spanish-note")
    line = body["return_line_items"][0]
    line.update(return_reason="other", customer_note=None, return_reason_note="Llegó tarde")
    [event] = deliver(body, "returns/request")
    assert (event.reason_code, event.text, event.language) == ("other", "Llegó tarde", "es")


def test_return_time_comes_from_the_triggered_at_header() -> None:
    body = fixture_body("returns-approve")
    [dated] = deliver(body, "returns/approve", triggered_at="2026-02-20T19:31:55.860031442Z")
    [undated] = deliver(body, "returns/approve")
    assert dated.time_source == "provider"
    assert dated.occurred_at.isoformat() == "2026-02-20T19:31:55.860031+00:00"
    assert (undated.time_source, undated.occurred_at) == ("received", RECEIVED_AT)
    assert dated.event_id == undated.event_id


@pytest.mark.parametrize(
    ("status", "event_type"),
    [("requested", "return.requested"), ("declined", "return.rejected"),
     ("closed", "return.closed"), ("canceled", "return.closed")],
)
def test_unambiguous_return_bodies_need_no_topic_header(status: str, event_type: str) -> None:
    body = {"id": 1, "admin_graphql_api_id": "gid://shopify/Return/1", "status": status,
            "order_id": 2}
    [event] = deliver(body, None)
    assert event.type == event_type
    assert event.case_key == "order:2"


def test_a_refund_body_needs_no_topic_header() -> None:
    [event] = deliver(fixture_body("refunds-create-first-partial"), None)
    assert event.type == "refund.succeeded"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(fixture_body("orders-create-presentment-eur"), id="order"),
        pytest.param(fixture_body("returns-approve"), id="open-return"),
        pytest.param({"id": 1}, id="bare"),
    ],
)
def test_ambiguous_bodies_without_topic_are_skipped(body: dict[str, Any]) -> None:
    with pytest.raises(SkippableRecordError, match="missing x-shopify-topic header"):
        deliver(body, None)


@pytest.mark.parametrize("topic", ["orders/updated", "customers/create", "disputes/create"])
def test_other_topics_are_ignored(topic: str) -> None:
    assert deliver(fixture_body("orders-create-presentment-eur"), topic) == []


def test_a_label_without_tracking_has_no_shipment() -> None:
    body = fixture_body("reverse-deliveries-attach-deliverable")
    body["shipping_deliverable"]["tracking"] = None
    body["shipping_deliverable"]["label"]["created_at"] = None
    [event] = deliver(body, "reverse_deliveries/attach_deliverable")
    assert event.shipment is None
    assert event.case_key == "return:17863540912"
    assert event.time_source == "received"


def test_a_label_links_the_return_parcel_to_the_return() -> None:
    [event] = deliver(
        fixture_body("reverse-deliveries-attach-deliverable"),
        "reverse_deliveries/attach_deliverable",
    )
    assert event.reference_values("return") == ["17863540912"]
    assert event.reference_values("tracking") == ["4781965302"]
    assert event.shipment is not None and event.shipment.direction == "return"


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        ("39.951", "EUR", r"39.951 EUR is finer than the currency's minor unit \(0.01\)"),
        ("1500.001", "JPY", r"1500.001 JPY is finer than the currency's minor unit \(1\)"),
        ("12.3456", "KWD", r"finer than the currency's minor unit \(0.001\)"),
        ("10.00", "XXX", "unknown ISO 4217"),
    ],
)
def test_refund_amounts_finer_than_the_minor_unit_are_rejected(
    amount: str, currency: str, reason: str
) -> None:
    body = refund(transaction(amount, currency=currency))
    with pytest.raises(SkippableRecordError, match=reason):
        deliver(body, "refunds/create")


def test_three_decimal_and_zero_decimal_refunds_at_the_minor_unit_are_money() -> None:
    for amount, currency in (("12.345", "KWD"), ("1500", "JPY")):
        [event] = deliver(refund(transaction(amount, currency=currency)), "refunds/create")
        assert event.money is not None and event.money.amount == Decimal(amount)
