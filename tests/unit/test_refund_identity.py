"""Refunds from a marketplace and from a payment provider are the same money only on evidence."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import CanonicalEvent
from streams.cases import fold_events
from tests.support.events import at, event_factory, money

ORDER = "1001"


def request() -> CanonicalEvent:
    return event_factory(type="return.requested", order_id=ORDER, occurred_at=at(0),
                         marketplace="shopify", references=[f"order:{ORDER}", "return:r1"])


def marketplace_refund(amount: str, hours: float, refund_id: str) -> CanonicalEvent:
    return event_factory(source="shopify", type="refund.succeeded", order_id=ORDER,
                         occurred_at=at(hours), money=money(amount), refund_id=refund_id,
                         references=[f"order:{ORDER}", "return:r1", f"refund:{refund_id}"])


def stripe_refund(amount: str, hours: float, refund_id: str, payment: str = "pi_1"
                  ) -> CanonicalEvent:
    return event_factory(source="stripe", type="refund.succeeded", order_id=ORDER,
                         occurred_at=at(hours), money=money(amount), refund_id=refund_id,
                         references=[f"order:{ORDER}", f"payment:{payment}",
                                     f"refund:{refund_id}"])


def refunded(*events: CanonicalEvent) -> list[tuple[Decimal, str]]:
    ordered = sorted([request(), *events], key=lambda e: (e.occurred_at, e.event_id))
    case, _, _ = fold_events("case-x", len(ordered), ordered)
    assert case is not None
    return [(m.amount, m.currency) for m in case.refunded]


def test_a_marketplace_refund_and_a_later_smaller_card_refund_both_reached_the_buyer() -> None:
    assert refunded(marketplace_refund("64.90", 24, "mp-1"),
                    stripe_refund("39.90", 24 * 21, "re_1")) == [(Decimal("104.80"), "EUR")]


def test_the_same_amount_reported_by_both_within_days_is_one_refund() -> None:
    assert refunded(marketplace_refund("64.90", 24, "mp-1"),
                    stripe_refund("64.90", 30, "re_1")) == [(Decimal("64.90"), "EUR")]


def test_the_same_amount_weeks_apart_is_two_refunds_unless_a_payment_is_shared() -> None:
    apart = (marketplace_refund("20.00", 24, "mp-1"), stripe_refund("20.00", 24 * 30, "re_1"))
    assert refunded(*apart) == [(Decimal("40.00"), "EUR")]
    shared = marketplace_refund("20.00", 24, "mp-1").model_copy(update={"references": (
        *marketplace_refund("20.00", 24, "mp-1").references,
        *stripe_refund("20.00", 0, "re_1").references[1:2])})
    assert refunded(shared, stripe_refund("20.00", 24 * 30, "re_1")) == [(Decimal("20.00"),
                                                                          "EUR")]


def test_two_refunds_of_one_provider_under_two_ids_are_two_refunds() -> None:
    assert refunded(stripe_refund("10.00", 24, "re_1"),
                    stripe_refund("10.00", 25, "re_2")) == [(Decimal("20.00"), "EUR")]


def test_a_refund_derived_from_charge_refunded_and_its_refund_event_count_once() -> None:
    derived = stripe_refund("15.00", 24, "ch_1:amount_refunded:1500")
    explicit = stripe_refund("15.00", 24, "re_9", payment="ch_1")
    assert refunded(derived, explicit) == [(Decimal("15.00"), "EUR")]


amounts = st.sampled_from(["5.00", "10.00", "19.99", "64.90"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["shopify", "stripe"]), amounts,
                          st.integers(min_value=1, max_value=24 * 60)), max_size=8),
       st.randoms())
def test_no_interleaving_counts_less_than_the_provably_distinct_refunds(reports, rnd) -> None:  # type: ignore[no-untyped-def]
    events = [
        (marketplace_refund if source == "shopify" else stripe_refund)(amount, hours, f"r{i}")
        for i, (source, amount, hours) in enumerate(reports)
    ]
    rnd.shuffle(events)
    total = sum((amount for amount, _ in refunded(*events)), Decimal(0))
    by_source = {source: sum((Decimal(a) for s, a, _ in reports if s == source), Decimal(0))
                 for source in ("shopify", "stripe")}
    # Refunds of one provider under different ids are provably distinct: never fewer than
    # either provider's own sum, never more than everything reported.
    assert max(by_source.values()) <= total <= sum(by_source.values())
