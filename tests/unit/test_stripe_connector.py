"""Stripe connector traps: zero- and three-decimal currencies, refund identity across events,
uncaptured charges, dispute reasons and times, plus Stripe's minor-unit rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.payments._minor_units import STRIPE
from connectors.payments.stripe import parse, parse_derived_refund_id, possibly_same_refund
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent
from schemas.money import Money, currency_exponent
from tests.support.connector_fixtures import RECEIVED_AT, load_fixtures

CHARGE = "ch_3QzA1bCd2EfG3hIj4KlMnOpQ"
INTENT = "pi_3QzA1bCd2EfG3hIj4RsTuVwX"
REFUND = "re_3QzA1bCd2EfG3hIj4YzAbCdE"
REFUND_CREATED = 1771000000  # 2026-02-13T16:26:40Z
EVENT_CREATED = 1771003600  # 2026-02-13T17:26:40Z

# docs.stripe.com/currencies: "Zero-decimal" list and the three-decimal list.
STRIPE_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
STRIPE_THREE_DECIMAL = "BHD JOD KWD OMR TND".split()


def refund_object(**overrides: Any) -> dict[str, Any]:
    refund: dict[str, Any] = {
        "id": REFUND, "object": "refund", "amount": 1999, "balance_transaction": None,
        "charge": CHARGE, "created": REFUND_CREATED, "currency": "usd", "metadata": {},
        "payment_intent": INTENT, "reason": "requested_by_customer", "status": "succeeded",
    }
    refund.update(overrides)
    return refund


def stripe_event(type_: str, obj: dict[str, Any], **overrides: Any) -> bytes:
    event: dict[str, Any] = {
        "id": "evt_3QzA1bCd2EfG3hIj4EvT0001", "object": "event", "api_version": "2024-06-20",
        "created": EVENT_CREATED, "data": {"object": obj}, "livemode": True,
        "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": type_,
    }
    event.update(overrides)
    return json.dumps(event).encode()


def dispute_object(**overrides: Any) -> dict[str, Any]:
    dispute: dict[str, Any] = {
        "id": "dp_1QzA1bCd2EfG3hIj4DsPuTe1", "object": "dispute", "amount": 4500,
        "charge": CHARGE, "created": REFUND_CREATED, "currency": "eur", "metadata": {},
        "payment_intent": INTENT, "reason": "general", "status": "needs_response",
    }
    dispute.update(overrides)
    return dispute


def parse_one(raw: bytes) -> CanonicalEvent:
    events = parse(raw, received_at=RECEIVED_AT)
    assert len(events) == 1
    return events[0]


def fixture_events(name: str) -> list[CanonicalEvent]:
    fixture = next(f for f in load_fixtures("stripe") if f.name == name)
    return parse(fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)


@pytest.mark.parametrize(
    ("currency", "minor", "major"),
    [
        ("jpy", 2300, "2300"),
        ("krw", 45000, "45000"),
        ("ugx", 75000, "75000"),
        ("mga", 50000, "50000"),
        ("isk", 1250000, "12500"),
        ("huf", 150000, "1500"),
        ("twd", 39900, "399"),
        ("kwd", 12340, "12.340"),
        ("bhd", 4750, "4.750"),
        ("usd", 1999, "19.99"),
    ],
)
def test_refund_amounts_follow_stripe_decimals(currency: str, minor: int, major: str) -> None:
    refund = refund_object(amount=minor, currency=currency)
    event = parse_one(stripe_event("refund.created", refund))
    assert event.money == Money(amount=Decimal(major), currency=currency.upper())


def test_stripe_zero_and_three_decimal_lists_hold_and_only_isk_and_mga_differ_from_iso() -> None:
    assert all(STRIPE.exponent(code) == 0 for code in STRIPE_ZERO_DECIMAL)
    assert all(STRIPE.exponent(code) == 3 for code in STRIPE_THREE_DECIMAL)
    assert STRIPE.exponent("ISK") == 2 and currency_exponent("ISK") == 0
    assert STRIPE.exponent("MGA") == 0 and currency_exponent("MGA") == 2
    assert STRIPE.exponent("HUF") == STRIPE.exponent("TWD") == 2


@given(
    minor=st.integers(min_value=0, max_value=10**12),
    currency=st.sampled_from(["JPY", "KRW", "ISK", "MGA", "KWD", "USD", "EUR", "HUF", "UGX"]),
)
def test_stripe_minor_units_round_trip(minor: int, currency: str) -> None:
    # Where stripe counts finer than ISO 4217, only whole ISO minor units are money.
    minor *= 10 ** max(0, STRIPE.exponent(currency) - currency_exponent(currency))
    assert STRIPE.to_minor(STRIPE.to_money(minor, currency)) == minor


@pytest.mark.parametrize("minor", [19.99, True, "12.5", "１２", None, "1" * 21])
def test_stripe_minor_units_reject_non_integers(minor: object) -> None:
    with pytest.raises(ValueError, match="minor units must be an integer"):
        STRIPE.to_money(minor, "USD")


def test_charge_refunded_and_refund_updated_report_the_same_refund_with_one_event_id() -> None:
    from_charge = fixture_events("charge_refunded_jpy_two_refunds")
    from_refund = fixture_events("refund_updated_jpy_reference_available")
    by_refund = {event.refund_id: event.event_id for event in from_charge}
    assert by_refund["re_3QqH7aJx2LmN4oPq1Rt5Uv6W"] == from_refund[0].event_id
    assert by_refund["re_3QqH7aJx2LmN4oPq1Kd8Ef9G"] != from_refund[0].event_id


def test_charge_refunded_emits_each_partial_refund_with_the_charge_order() -> None:
    events = fixture_events("charge_refunded_jpy_two_refunds")
    assert [event.money for event in events] == [
        Money(amount=Decimal(2300), currency="JPY"), Money(amount=Decimal(3000), currency="JPY"),
    ]
    assert {event.order_id for event in events} == {"JP-100245"}


def test_redelivered_webhook_with_another_event_id_keeps_the_refund_event_id() -> None:
    first = parse_one(stripe_event("refund.updated", refund_object()))
    again = parse_one(
        stripe_event("refund.updated", refund_object(), id="evt_3QzA1bCd2EfG3hIj4EvT0002")
    )
    assert first.event_id == again.event_id


@pytest.mark.parametrize(
    ("status", "extra", "type_", "raw_reason"),
    [
        ("pending", {}, "refund.requested", "requested_by_customer"),
        ("requires_action", {}, "refund.requested", "requested_by_customer"),
        ("succeeded", {}, "refund.succeeded", "requested_by_customer"),
        ("failed", {"failure_reason": "declined"}, "refund.failed", "declined"),
        ("canceled", {}, "refund.failed", "canceled"),
    ],
)
def test_refund_status_decides_the_event_type(
    status: str, extra: dict[str, Any], type_: str, raw_reason: str
) -> None:
    event = parse_one(stripe_event("refund.updated", refund_object(status=status, **extra)))
    assert (event.type, event.raw_reason, event.refund_id) == (type_, raw_reason, REFUND)


def test_a_refund_failing_after_succeeding_is_a_distinct_fact() -> None:
    succeeded = parse_one(stripe_event("refund.created", refund_object()))
    failed = parse_one(stripe_event("refund.failed", refund_object(status="failed")))
    assert succeeded.event_id != failed.event_id


@pytest.mark.parametrize(
    ("type_", "occurred_at"),
    [
        ("refund.created", datetime(2026, 2, 13, 16, 26, 40, tzinfo=UTC)),
        ("refund.updated", datetime(2026, 2, 13, 17, 26, 40, tzinfo=UTC)),
        ("charge.refund.updated", datetime(2026, 2, 13, 17, 26, 40, tzinfo=UTC)),
    ],
)
def test_created_events_use_the_object_time_and_updates_the_event_time(
    type_: str, occurred_at: datetime
) -> None:
    event = parse_one(stripe_event(type_, refund_object(status="pending")))
    assert event.occurred_at == occurred_at
    assert event.occurred_at_local is None and event.time_source == "provider"


def test_order_reference_comes_from_metadata_order_number() -> None:
    refund = refund_object(metadata={"order_number": "1001"})
    event = parse_one(stripe_event("refund.created", refund))
    assert event.case_key == "order:1001"
    assert [str(ref) for ref in event.references] == [
        "order:1001", f"payment:{CHARGE}", f"payment:{INTENT}", f"refund:{REFUND}",
    ]


def test_expanded_charge_on_a_refund_still_gives_its_id() -> None:
    event = parse_one(stripe_event("refund.created", refund_object(charge={"id": CHARGE})))
    assert event.case_key == f"payment:{CHARGE}"


def test_charge_refunded_without_inline_refunds_is_left_to_refund_events() -> None:
    charge = {"id": CHARGE, "object": "charge", "amount": 5000, "currency": "usd",
              "amount_refunded": 5000, "refunded": True, "captured": True}
    assert parse(stripe_event("charge.refunded", charge), received_at=RECEIVED_AT) == []


@pytest.mark.parametrize(
    ("reason", "reason_code"),
    [
        ("fraudulent", "fraud"),
        ("unrecognized", "fraud"),
        ("product_not_received", "lost_in_transit"),
        ("product_unacceptable", "not_as_described"),
        ("duplicate", "other"),
        ("credit_not_processed", "other"),
        ("subscription_canceled", "other"),
        ("general", "other"),
    ],
)
def test_dispute_reasons_map_to_canonical_codes(reason: str, reason_code: str) -> None:
    event = parse_one(stripe_event("charge.dispute.created", dispute_object(reason=reason)))
    assert event.type == "dispute.opened"
    assert (event.reason_code, event.raw_reason) == (reason_code, reason)


def test_each_dispute_update_is_its_own_event_and_the_close_carries_the_outcome() -> None:
    review = dispute_object(status="under_review")
    update_a = parse_one(stripe_event("charge.dispute.updated", review))
    update_b = parse_one(
        stripe_event("charge.dispute.updated", review, id="evt_3QzA1bCd2EfG3hIj4EvT0003")
    )
    closed = parse_one(stripe_event("charge.dispute.closed", dispute_object(status="won")))
    assert update_a.event_id != update_b.event_id
    assert (closed.type, closed.text) == ("dispute.closed", "won")


def test_uncaptured_charge_is_not_a_capture_but_the_captured_one_matches_its_intent() -> None:
    charge = {"id": CHARGE, "object": "charge", "amount": 9900, "amount_captured": 9900,
              "captured": True, "created": REFUND_CREATED, "currency": "eur",
              "payment_intent": INTENT, "metadata": {}}
    intent = {"id": INTENT, "object": "payment_intent", "amount": 9900, "amount_received": 9900,
              "created": REFUND_CREATED, "currency": "eur", "latest_charge": CHARGE,
              "metadata": {}, "status": "succeeded"}
    uncaptured = {**charge, "captured": False, "amount_captured": 0}
    assert parse(stripe_event("charge.succeeded", uncaptured), received_at=RECEIVED_AT) == []
    from_charge = parse_one(stripe_event("charge.succeeded", charge))
    from_intent = parse_one(stripe_event("payment_intent.succeeded", intent))
    assert from_charge.event_id == from_intent.event_id
    assert from_charge.money == Money(amount=Decimal("99.00"), currency="EUR")


@pytest.mark.parametrize(
    "type_", ["customer.created", "invoice.paid", "charge.dispute.funds_withdrawn"]
)
def test_event_types_the_hub_does_not_use_are_ignored(type_: str) -> None:
    assert parse(stripe_event(type_, {"id": "obj_1", "object": "x"}), received_at=RECEIVED_AT) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b'{"object": "event", "data": {"object": {}}}', "missing field 'type'",
                     id="no-type"),
        pytest.param(stripe_event("refund.created", refund_object(status="exploded")),
                     "unknown status 'exploded'", id="unknown-status"),
        pytest.param(stripe_event("refund.created", refund_object(currency="xyz")),
                     "invalid amount / currency", id="unknown-currency"),
        pytest.param(stripe_event("refund.created", refund_object(amount=19.99)),
                     "minor units must be an integer", id="float-amount"),
        pytest.param(stripe_event("refund.created", refund_object(created=True)),
                     "'data.object.created' is not Unix seconds", id="bool-created"),
        pytest.param(stripe_event("refund.updated", refund_object(), created=10**15),
                     "'created' is out of range", id="huge-created"),
        pytest.param(json.dumps({"type": "refund.created", "data": {"object": [1]}}).encode(),
                     "'data.object' is not an object", id="object-is-list"),
        pytest.param(stripe_event("refund.created", refund_object(metadata={"order_id": {"x": 1}})),
                     "'metadata.order_id' is not a string", id="metadata-object"),
    ],
)
def test_unreadable_payloads_name_the_field(raw: bytes, reason: str) -> None:
    with pytest.raises(SkippableRecordError, match=reason) as caught:
        parse(raw, received_at=RECEIVED_AT)
    assert caught.value.source == "stripe"


def _refunded_charge(amount_refunded: int, **overrides: Any) -> dict[str, Any]:
    charge: dict[str, Any] = {
        "id": CHARGE, "object": "charge", "amount": 5000, "amount_captured": 5000,
        "amount_refunded": amount_refunded, "currency": "usd", "captured": True,
        "refunded": amount_refunded == 5000, "payment_intent": INTENT,
        "metadata": {"order_id": "1001"},
    }
    charge.update(overrides)
    return charge


def _charge_refunded(amount_refunded: int, previous: int | None, **overrides: Any) -> bytes:
    event = json.loads(stripe_event("charge.refunded", _refunded_charge(amount_refunded,
                                                                        **overrides)))
    if previous is not None:
        event["data"]["previous_attributes"] = {"amount_refunded": previous}
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("before", "after", "amount"),
    [(0, 5000, "50.00"), (0, 1999, "19.99"), (1999, 3000, "10.01"), (3000, 5000, "20.00")],
)
def test_charge_refunded_without_inline_refunds_is_the_increase_of_amount_refunded(
    before: int, after: int, amount: str
) -> None:
    event = parse_one(_charge_refunded(after, before))
    assert event.type == "refund.succeeded"
    assert event.money == Money(amount=Decimal(amount), currency="USD")
    assert event.refund_id == f"{CHARGE}:amount_refunded:{after}"
    assert event.occurred_at == datetime.fromtimestamp(EVENT_CREATED, UTC)
    assert event.reference_values("payment") == [CHARGE, INTENT]
    assert event.case_key == "order:1001"


def test_each_increase_of_one_charge_is_its_own_refund_and_redelivery_keeps_its_id() -> None:
    first = parse_one(_charge_refunded(1999, 0))
    second = parse_one(_charge_refunded(3998, 1999))
    again = parse_one(_charge_refunded(3998, 1999, description="redelivered"))
    assert first.money == second.money
    assert first.refund_id != second.refund_id and first.event_id != second.event_id
    assert (again.event_id, again.refund_id) == (second.event_id, second.refund_id)


@pytest.mark.parametrize(
    ("after", "previous", "reason"),
    [
        (5000, None, "refunded amount is unknown"),
        (3000, 3000, "did not grow"),
        (2000, 3000, "did not grow"),
    ],
)
def test_charge_refunded_whose_amount_cannot_be_derived_is_ignored_with_its_reason(
    after: int, previous: int | None, reason: str
) -> None:
    events = parse(_charge_refunded(after, previous), received_at=RECEIVED_AT)
    assert events == []
    assert reason in getattr(events, "reason", "")


def test_a_derived_refund_and_the_refund_event_of_the_same_money_are_possibly_the_same() -> None:
    derived = parse_one(_charge_refunded(1999, 0))
    created = parse_one(stripe_event("refund.created", refund_object(amount=1999)))
    other_amount = parse_one(stripe_event("refund.created", refund_object(amount=1000)))
    other_charge = parse_one(stripe_event("refund.created", refund_object(
        amount=1999, charge="ch_3QzA1bCd2EfG3hIj4Other000", payment_intent=None)))
    assert possibly_same_refund(derived, created) and possibly_same_refund(created, derived)
    assert not possibly_same_refund(derived, other_amount)
    assert not possibly_same_refund(derived, other_charge)
    assert not possibly_same_refund(created, created)
    assert not possibly_same_refund(derived, parse_one(_charge_refunded(3998, 1999)))


def test_inline_refunds_keep_their_own_ids_and_nothing_is_derived() -> None:
    charge = _refunded_charge(1999, refunds={"object": "list", "data": [refund_object()]})
    [event] = parse(stripe_event("charge.refunded", charge), received_at=RECEIVED_AT)
    assert event.refund_id == REFUND
    assert parse_derived_refund_id(REFUND) is None
    assert parse_derived_refund_id(f"{CHARGE}:amount_refunded:1999") == (CHARGE, 1999)
