"""The case builder's pure core: folding events into a Case, in any arrival order."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import Shipment
from streams.cases import CaseLedger, apply_event, case_id_for_order, fold_case
from tests.support.events import at, customs_event, event_factory, money, shipment_event

ORDER = "1001"
CASE_ID = case_id_for_order(ORDER)


def build(events, classify=None):  # type: ignore[no-untyped-def]
    ledger = None
    case = None
    for event in events:
        change = apply_event(
            ledger, event, case_id=CASE_ID, previous=case, classify_reason=classify
        )
        if change is None:
            continue
        ledger, case = change.ledger, change.case
    return ledger, case


def scenario():  # type: ignore[no-untyped-def]
    """A German buyer returns damaged headphones; label, transit, customs, delivery, refund."""
    return [
        event_factory(
            type="order.placed",
            order_id=ORDER,
            occurred_at=at(0),
            money=money("199.00"),
            marketplace="shopify",
            buyer_country="DE",
            references=["order:1001", "payment:pi_1"],
        ),
        event_factory(
            type="return.requested",
            order_id=ORDER,
            occurred_at=at(24),
            reason_code="damaged",
            text="Kopfhörer kamen beschädigt an",
            language="de",
            money=money("199.00"),
            references=["order:1001", "return:r1"],
        ),
        event_factory(
            type="return.approved",
            order_id=ORDER,
            occurred_at=at(26),
            references=["order:1001", "return:r1"],
        ),
        event_factory(
            type="return.label_created",
            order_id=ORDER,
            occurred_at=at(27),
            references=["order:1001", "return:r1", "tracking:TRK1"],
            shipment=Shipment(
                carrier="DHL",
                tracking_number="TRK1",
                status="info_received",
                raw_status="label",
                direction="return",
            ),
        ),
        shipment_event("TRK1", "in_transit", 30),
        customs_event("TRK1", "in_clearance", 40),
        customs_event("TRK1", "released", 44),
        shipment_event("TRK1", "delivered", 50),
        event_factory(
            source="stripe",
            type="refund.succeeded",
            occurred_at=at(60),
            money=money("150.00"),
            refund_id="re_1",
            references=["payment:pi_1", "refund:re_1"],
        ),
        event_factory(
            source="stripe",
            type="refund.succeeded",
            occurred_at=at(61),
            money=money("49.00"),
            refund_id="re_2",
            references=["payment:pi_1", "refund:re_2"],
        ),
    ]


def test_full_return_and_refund() -> None:
    ledger, case = build(scenario())
    assert case is not None and ledger is not None
    assert case.case_id == CASE_ID
    assert case.order_id == ORDER
    assert case.status == "refunded"
    assert case.reason_code == "damaged"
    assert case.reason_language == "de"
    assert [(m.amount, m.currency) for m in case.refunded] == [(Decimal("199.00"), "EUR")]
    assert case.refund_ids == ["re_1", "re_2"]
    assert case.shipment is not None and case.shipment.tracking_number == "TRK1"
    assert case.shipment.status == "delivered"
    assert case.customs is not None and case.customs.status == "released"
    assert case.version == 10
    assert case.updated_at == at(61)
    assert len(case.timeline) == 10


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_any_arrival_order_gives_the_same_case(seed: int) -> None:
    events = scenario()
    _, expected = build(events)
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    _, actual = build(shuffled)
    assert actual == expected


def test_duplicate_event_changes_nothing() -> None:
    events = scenario()
    ledger, case = build(events)
    assert apply_event(ledger, events[3], case_id=CASE_ID) is None
    again_ledger, again_case = build(events + events)
    assert again_case == case and again_ledger == ledger


def test_late_older_event_does_not_move_status_back() -> None:
    events = scenario()
    delivered_first = [e for e in events if e.type != "return.approved"]
    _, before = build(delivered_first)
    assert before is not None and before.status == "refunded"
    approved_late = next(e for e in events if e.type == "return.approved")
    _, after = build([*delivered_first, approved_late])
    assert after is not None and after.status == "refunded"
    assert approved_late.event_id in after.timeline


def test_same_refund_reported_twice_counts_once() -> None:
    refund = dict(
        source="stripe",
        type="refund.succeeded",
        money=money("1200", "JPY"),
        refund_id="re_jp",
        references=["order:1001", "refund:re_jp"],
    )
    _, case = build(
        [
            event_factory(type="return.requested", order_id=ORDER, occurred_at=at(1)),
            event_factory(occurred_at=at(2), **refund),  # charge.refunded
            event_factory(
                occurred_at=at(2.1), **refund
            ),  # refund.created: same refund, new webhook
        ]
    )
    assert case is not None
    assert [(m.amount, m.currency) for m in case.refunded] == [(Decimal(1200), "JPY")]


def test_failed_refund_counts_nothing_and_a_later_failure_withdraws_a_success() -> None:
    base = dict(
        source="adyen",
        money=money("12.345", "KWD"),
        refund_id="psp_9",
        references=["order:1001", "refund:psp_9"],
    )
    _, failed_only = build([event_factory(type="refund.failed", occurred_at=at(1), **base)])
    assert failed_only is None  # a failed refund alone opens no case
    _, withdrawn = build(
        [
            event_factory(type="return.requested", order_id=ORDER, occurred_at=at(0)),
            event_factory(type="refund.succeeded", occurred_at=at(1), **base),
            event_factory(type="refund.failed", occurred_at=at(2), **base),
        ]
    )
    assert withdrawn is not None and withdrawn.refunded == []


def test_refunds_in_several_currencies_are_summed_per_currency_never_converted() -> None:
    _, case = build(
        [
            event_factory(
                source="adyen",
                type="refund.succeeded",
                occurred_at=at(1),
                money=money("10.00", "EUR"),
                refund_id="a",
                references=["order:1001"],
            ),
            event_factory(
                source="adyen",
                type="refund.succeeded",
                occurred_at=at(2),
                money=money("5.50", "EUR"),
                refund_id="b",
                references=["order:1001"],
            ),
            event_factory(
                source="adyen",
                type="refund.succeeded",
                occurred_at=at(3),
                money=money("1000", "JPY"),
                refund_id="c",
                references=["order:1001"],
            ),
        ]
    )
    assert case is not None
    assert {(m.currency, m.amount) for m in case.refunded} == {
        ("EUR", Decimal("15.50")),
        ("JPY", Decimal("1000")),
    }


def test_marketplace_refund_is_not_added_to_the_payment_refund_of_the_same_money() -> None:
    _, case = build(
        [
            event_factory(
                source="shopify",
                type="refund.succeeded",
                occurred_at=at(1),
                money=money("20.00"),
                refund_id="shop_1",
                order_id=ORDER,
            ),
            event_factory(
                source="stripe",
                type="refund.succeeded",
                occurred_at=at(1.1),
                money=money("20.00"),
                refund_id="re_1",
                references=["order:1001"],
            ),
        ]
    )
    assert case is not None and [m.amount for m in case.refunded] == [Decimal("20.00")]


def test_dispute_shows_while_open() -> None:
    dispute = dict(source="stripe", references=["order:1001", "dispute:dp_1"])
    _, opened = build(
        [
            event_factory(type="return.requested", order_id=ORDER, occurred_at=at(0)),
            event_factory(type="dispute.opened", occurred_at=at(5), reason_code="fraud", **dispute),
        ]
    )
    assert opened is not None and opened.status == "disputed" and opened.disputed
    _, closed = build(
        [
            event_factory(type="return.requested", order_id=ORDER, occurred_at=at(0)),
            event_factory(type="dispute.opened", occurred_at=at(5), **dispute),
            event_factory(type="dispute.closed", occurred_at=at(9), **dispute),
        ]
    )
    assert closed is not None and closed.status == "requested" and not closed.disputed


def test_order_without_after_sales_has_no_case() -> None:
    _, case = build([event_factory(type="order.placed", order_id=ORDER, money=money("5.00"))])
    assert case is None


@pytest.mark.parametrize(
    ("given_code", "expected"),
    [(None, "damaged"), ("other", "damaged"), ("wrong_item", "wrong_item")],
)
def test_unspecific_reason_is_classified_from_the_customers_text(given_code, expected) -> None:  # type: ignore[no-untyped-def]
    seen = []

    def classify(text: str, language: str | None):  # type: ignore[no-untyped-def]
        seen.append((text, language))
        return "damaged"

    _, case = build(
        [
            event_factory(
                type="return.requested",
                order_id=ORDER,
                reason_code=given_code,
                text="caja rota, producto dañado",
                language="es",
            )
        ],
        classify,
    )
    assert case is not None and case.reason_code == expected
    if given_code in (None, "other"):
        assert seen == [("caja rota, producto dañado", "es")]


def test_fold_of_an_empty_ledger_is_none() -> None:
    assert fold_case(CaseLedger(case_id=CASE_ID)) is None


def test_status_walks_the_return_path_and_milestones_are_recorded() -> None:
    events = scenario()
    statuses = []
    for count in range(2, len(events) + 1):
        _, case = build(events[:count])
        assert case is not None
        statuses.append(case.status)
    assert statuses == [
        "requested",
        "approved",
        "awaiting_return",
        "return_in_transit",
        "return_in_transit",
        "return_in_transit",
        "received",
        "refunded",
        "refunded",
    ]
    _, case = build(events)
    assert case is not None
    m = case.milestones
    assert (m.ordered_at, m.return_requested_at, m.responded_at) == (at(0), at(24), at(26))
    assert (m.label_created_at, m.last_return_scan_at, m.return_received_at) == (
        at(27),
        at(50),
        at(50),
    )
    assert (m.refunded_at, m.delivered_at, m.customs_held_at) == (at(60), None, None)


def test_outbound_delivery_and_customs_hold_are_milestones() -> None:
    _, case = build(
        [
            event_factory(
                type="order.placed",
                order_id=ORDER,
                occurred_at=at(0),
                references=["order:1001", "tracking:OUT"],
            ),
            shipment_event("OUT", "delivered", 72),
            customs_event("OUT", "held", 80),
            event_factory(type="return.requested", order_id=ORDER, occurred_at=at(90)),
        ]
    )
    assert case is not None
    assert case.milestones.delivered_at == at(72)
    assert case.milestones.customs_held_at == at(80)
