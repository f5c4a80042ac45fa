"""Case identity: which case of an order an event joins, and an order's cases stepped together."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.case import Case
from schemas.events import CANONICAL_EVENT, CanonicalEvent, Shipment
from streams.case_step import (
    CaseState,
    OrderCases,
    State,
    StepSettings,
    decode_state,
    forget_case,
    order_cases_key,
    step_case,
    step_order,
)
from streams.cases import case_id_for_claim, case_id_for_order, order_case_of
from streams.correlation import OrderCase, attribute
from streams.policy import load_policy
from streams.topics import family_partitioner, partition_of
from tests.support.events import at, event_factory, money

ORDER = "5001"
FIRST = case_id_for_order(ORDER)
SECOND = case_id_for_claim(FIRST, "return:R-2")
SETTINGS = StepSettings(policy=load_policy(), settle=timedelta(0))


def marketplace(type_: str, hours: float, *refs: str, **fields) -> CanonicalEvent:  # type: ignore[no-untyped-def]
    return event_factory(source="shopify", type=type_, order_id=ORDER, occurred_at=at(hours),
                         references=[f"order:{ORDER}", *refs], marketplace="shopify", **fields)


def stripe_refund(hours: float, amount: str, refund_id: str) -> CanonicalEvent:
    return event_factory(source="stripe", type="refund.succeeded", order_id=ORDER,
                         occurred_at=at(hours), money=money(amount), refund_id=refund_id,
                         references=[f"order:{ORDER}", "payment:pi_5001", f"refund:{refund_id}"])


def carrier(tracking: str, status: str, hours: float, *refs: str,
            direction: str | None = None) -> CanonicalEvent:
    return event_factory(
        source="dhl", type="shipment.update", order_id=ORDER, occurred_at=at(hours),
        references=[f"order:{ORDER}", f"tracking:{tracking}", *refs],
        shipment=Shipment(carrier="DHL", tracking_number=tracking, status=status,  # type: ignore[arg-type]
                          raw_status=status, direction=direction),  # type: ignore[arg-type]
    )


def two_returns(*, amounts: bool = True) -> list[CanonicalEvent]:
    """One order, two returns of different items three weeks apart, each with its own label,
    parcel and refund; the refunds name only the order (and its payment). Without `amounts`
    the returns say nothing of the money they ask for."""
    first, second = (money("80.00"), money("40.00")) if amounts else (None, None)
    return [
        marketplace("order.placed", 0, "payment:pi_5001", money=money("120.00"),
                    buyer_country="DE"),
        carrier("OUT1", "delivered", 40, direction="outbound"),
        marketplace("return.requested", 60, "return:R-1", money=first,
                    reason_code="damaged"),
        marketplace("return.label_created", 61, "return:R-1", "tracking:RET1"),
        carrier("RET1", "in_transit", 70),
        carrier("RET1", "delivered", 90),
        stripe_refund(95, "80.00", "re_1"),
        marketplace("return.requested", 560, "return:R-2", money=second,
                    reason_code="size_fit"),
        marketplace("return.label_created", 561, "return:R-2", "tracking:RET2"),
        carrier("RET2", "in_transit", 570),
        carrier("RET2", "delivered", 590),
        stripe_refund(600, "40.00", "re_2"),
    ]


TWO_RETURNS = two_returns()


class Store:
    """Stored states by key, through their encoded form, as the worker keeps them."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    def load(self, key: str) -> State | None:
        value = self.values.get(key)
        return decode_state(value) if value is not None else None

    def step(self, events: list[CanonicalEvent]):  # type: ignore[no-untyped-def]
        result = step_order(self.load, FIRST,
                            [(CANONICAL_EVENT.dump_json(e), e) for e in events],
                            now=at(1000), settings=SETTINGS)
        for key, state in result.states.items():
            self.values[key] = state.encode()
        return result

    def case(self, case_id: str) -> Case:
        state = self.load(case_id)
        assert isinstance(state, CaseState) and state.case is not None
        return state.case


def run(events: list[CanonicalEvent], sizes: list[int]) -> Store:
    store = Store()
    position = 0
    for size in [*sizes, len(events)]:
        if position >= len(events):
            break
        store.step(events[position : position + max(size, 1)])
        position += max(size, 1)
    return store


def test_two_returns_of_one_order_are_two_cases_with_their_own_parcels_and_refunds() -> None:
    store = run(two_returns(), [1])
    first, second = store.case(FIRST), store.case(SECOND)
    assert (first.requested, second.requested) == (money("80.00"), money("40.00"))
    assert first.timeline[0] == second.timeline[0]  # both start from the order placed
    assert first.refunded == [money("80.00")] and second.refunded == [money("40.00")]
    assert first.return_tracking_numbers == ["RET1"] and second.return_tracking_numbers == ["RET2"]
    assert (first.reason_code, second.reason_code) == ("damaged", "size_fit")
    assert first.status == second.status == "refunded"
    assert first.order_id == second.order_id == ORDER
    # The later case starts from its order: the order total and the outbound delivery.
    assert second.order_total == money("120.00")
    assert second.milestones.delivered_at == at(40) == first.milestones.delivered_at
    listed = store.load(order_cases_key(FIRST))
    assert isinstance(listed, OrderCases) and listed.case_ids == (FIRST, SECOND)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=6), max_size=12))
def test_grouping_into_batches_changes_no_case(sizes: list[int]) -> None:
    one_at_a_time = run(TWO_RETURNS, [1] * 12)
    grouped = run(TWO_RETURNS, sizes)
    for case_id in (FIRST, SECOND):
        expected, actual = one_at_a_time.case(case_id), grouped.case(case_id)
        assert actual.model_dump(exclude={"version"}) == expected.model_dump(exclude={"version"})


def test_a_refund_naming_only_the_order_joins_the_case_whose_amount_it_matches() -> None:
    events = two_returns()[:6] + two_returns()[7:9]  # both returns requested, no refund yet
    store = run(events, [1])
    store.step([stripe_refund(300, "80.00", "re_9")])
    assert store.case(FIRST).refunded == [money("80.00")]
    assert store.case(SECOND).refunded == []


def test_without_a_matching_amount_the_latest_open_case_takes_the_event() -> None:
    events = two_returns()[:6] + two_returns()[7:9]
    store = run(events, [1])
    store.step([stripe_refund(600, "12.50", "re_partial")])
    assert store.case(SECOND).refunded == [money("12.50")]
    assert store.case(FIRST).refunded == []


def test_a_dispute_after_a_return_is_a_case_of_its_own() -> None:
    dispute = event_factory(source="stripe", type="dispute.opened", order_id=ORDER,
                            occurred_at=at(900), money=money("120.00"),
                            references=[f"order:{ORDER}", "dispute:dp_1", "payment:pi_5001"])
    store = run(two_returns()[:7], [1])
    store.step([dispute])
    disputed = store.case(case_id_for_claim(FIRST, "dispute:dp_1"))
    assert disputed.disputed and disputed.case_type == "refund_only"
    assert not store.case(FIRST).disputed


def test_a_carriers_rma_number_matches_but_never_opens_a_case() -> None:
    store = run(two_returns()[:6], [1])
    scan = carrier("RET1", "delivered", 92, "return:RMA-77")
    result = store.step([scan])
    assert not isinstance(store.load(order_cases_key(FIRST)), OrderCases)
    assert scan.event_id in store.case(FIRST).timeline
    assert {o.key for o in result.outputs if o.role == "cases"} == {FIRST.encode()}


def test_the_first_claim_of_an_order_is_its_first_case() -> None:
    refund_first = stripe_refund(10, "80.00", "re_1")
    store = run([refund_first, two_returns()[2]], [1])
    assert store.load(order_cases_key(FIRST)) is None
    assert store.case(FIRST).requested == money("80.00")


def test_order_context_reaches_every_case_of_the_order() -> None:
    store = run(two_returns()[:9], [1])
    late_scan = carrier("OUT1", "delivered", 41, direction="outbound")  # reported again, later
    result = store.step([late_scan])
    assert {o.key for o in result.outputs if o.role == "cases"} == {FIRST.encode(),
                                                                    SECOND.encode()}


def test_every_case_of_an_order_shares_its_orders_partition() -> None:
    for partitions in (1, 4, 12, 31):
        assert partition_of(SECOND.encode(), partitions) == partition_of(FIRST.encode(), partitions)
        assert family_partitioner(SECOND.encode(), list(range(partitions)), []) == partition_of(
            FIRST.encode(), partitions)
    assert order_case_of(SECOND) == order_case_of(FIRST) == FIRST


def test_links_are_sent_once_per_reference_of_a_case() -> None:
    events = two_returns()[:6]
    first = step_case(None, FIRST, [(CANONICAL_EVENT.dump_json(e), e) for e in events[:4]],
                      now=at(100), settings=SETTINGS)
    links = sorted(o.key.decode() for o in first.outputs if o.kind == "link")
    assert links == ["payment:pi_5001", "return:R-1", "tracking:OUT1", "tracking:RET1"]
    assert isinstance(first.state, CaseState)
    again = step_case(first.state, FIRST, [(CANONICAL_EVENT.dump_json(e), e) for e in events[4:]],
                      now=at(100), settings=SETTINGS)
    assert [o for o in again.outputs if o.kind == "link"] == []


def test_attribution_rules_in_order() -> None:
    cases = [OrderCase(FIRST, frozenset({"return:R-1"}), frozenset({"tracking:RET1"})),
             OrderCase(SECOND, frozenset({"return:R-2"}), frozenset({"tracking:RET2"}))]
    assert attribute(carrier("RET2", "in_transit", 1), FIRST, cases).case_ids == (SECOND,)
    assert attribute(marketplace("return.approved", 1, "return:R-1"), FIRST,
                     cases).case_ids == (FIRST,)
    opened = attribute(marketplace("return.requested", 1, "return:R-3"), FIRST, cases)
    assert opened.opens == case_id_for_claim(FIRST, "return:R-3") == opened.case_ids[0]
    assert attribute(carrier("X", "delivered", 1, direction="outbound"), FIRST,
                     cases).case_ids == (FIRST, SECOND)
    assert attribute(marketplace("return.requested", 1, "return:R-1"), FIRST, []).case_ids == (
        FIRST,)
    action = marketplace("refund.requested", 1, f"case:{SECOND}", money=money("80.00"))
    assert attribute(action, FIRST, cases).case_ids == (SECOND,)
    stranger = marketplace("refund.requested", 1, "case:case-of-another-order")
    assert attribute(stranger, FIRST, cases[:1]).case_ids == (FIRST,)


def test_an_erased_case_leaves_its_orders_list() -> None:
    listed = OrderCases((FIRST, SECOND))
    forgotten = forget_case(listed, case_id=SECOND).state
    assert isinstance(forgotten, OrderCases) and forgotten.case_ids == (FIRST,)
    assert forget_case(listed, case_id="case-unknown").state is None
    assert forget_case(None, case_id=SECOND).state is None


def test_an_orders_list_survives_its_encoding() -> None:
    decoded = decode_state(OrderCases((FIRST, SECOND)).encode())
    assert isinstance(decoded, OrderCases) and decoded.case_ids == (FIRST, SECOND)


def test_random_interleavings_never_lose_or_double_a_refund() -> None:
    rng = random.Random(11)
    for _ in range(20):
        events = two_returns()
        head, tail = events[:1], events[1:]
        rng.shuffle(tail)
        store = run(head + tail, [rng.randint(1, 4) for _ in range(12)])
        cases = [store.load(c) for c in (FIRST, SECOND, *_listed(store))]
        total = sum((s.case.refunded[0].amount for s in cases
                     if isinstance(s, CaseState) and s.case and s.case.refunded), Decimal(0))
        assert total == Decimal("120.00")


def _listed(store: Store) -> tuple[str, ...]:
    listed = store.load(order_cases_key(FIRST))
    return tuple(c for c in listed.case_ids if c not in (FIRST, SECOND)) if isinstance(
        listed, OrderCases) else ()


def test_the_orders_payment_id_does_not_pull_a_later_refund_into_the_first_case() -> None:
    events = two_returns()[:9]
    events[0] = marketplace("order.placed", 0, money=money("120.00"))  # no payment id in it
    store = run(events, [1])
    later_refund = stripe_refund(600, "15.00", "re_7")  # its payment id only the first case holds
    store.step([later_refund])
    assert store.case(SECOND).refunded == [money("15.00")]


def by_parcel(store: Store) -> dict[str, Case]:
    listed = store.load(order_cases_key(FIRST))
    case_ids = listed.case_ids if isinstance(listed, OrderCases) else (FIRST,)
    cases = [store.case(c) for c in case_ids]
    return {number: case for case in cases for number in case.return_tracking_numbers}


def test_a_refund_that_overtakes_the_return_it_pays_for_moves_to_that_returns_case() -> None:
    events = two_returns(amounts=False)
    store = run(events[:7], [1])
    store.step([events[11]])  # the second refund, before the second return is known
    assert {m.amount for m in store.case(FIRST).refunded} == {Decimal("120.00")}
    result = store.step(events[7:11])
    assert store.case(FIRST).refunded == [money("80.00")]
    assert store.case(SECOND).refunded == [money("40.00")]
    moved = [o for o in result.outputs if o.role == "changes" and o.key == FIRST.encode()]
    assert moved and b"case.events_moved" in moved[-1].value


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.booleans())
def test_arrival_order_decides_no_case(rnd: random.Random, amounts: bool) -> None:
    events = two_returns(amounts=amounts)
    rnd.shuffle(events)
    store = run(events, [rnd.randint(1, 4) for _ in range(12)])
    cases = by_parcel(store)
    assert set(cases) == {"RET1", "RET2"} and cases["RET1"].case_id != cases["RET2"].case_id
    assert cases["RET1"].refunded == [money("80.00")]
    assert cases["RET2"].refunded == [money("40.00")]
    assert (cases["RET1"].reason_code, cases["RET2"].reason_code) == ("damaged", "size_fit")
