"""Case identity on the real broker: one order, two returns weeks apart, two cases."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from hub.sample_traffic import generate, shopify_story
from schemas.case import Case
from streams.cases import case_id_for_order
from tests.integration.test_case_stream import get_json, worker
from tests.support.kafka import Record, read_all, read_until
from tests.support.stories import indexed, latest_cases, produce_payloads

pytestmark = pytest.mark.integration


def order_cases(records: Sequence[Record], order_id: str) -> list[Case]:
    return [case for case in latest_cases(records).values() if case.order_id == order_id]


async def test_two_returns_of_one_order_are_two_cases_with_their_own_parcel_and_refunds(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    first = shopify_story(4, random.Random(1))
    second = shopify_story(4, random.Random(2), later=1)  # three weeks later, another item
    order = first.order_id
    assert second.order_id == order
    noise = generate(3, seed=9)[1:]  # other orders in the same partitions and batches
    payloads = indexed([first, *noise]) + [
        (100 + index, payload) for index, payload in enumerate(second.payloads)]

    def settled(records: Sequence[Record]) -> bool:
        cases = order_cases(records, order)
        return len(cases) == 2 and all(c.status == "refunded" and c.shipment is not None
                                       and c.shipment.status == "delivered" for c in cases)

    with worker(bootstrap, topic_prefix, state_dir) as running:
        await produce_payloads(bootstrap, topic_prefix, payloads)
        records = await read_until(bootstrap, f"{topic_prefix}cases", settled, timeout=90)
        status, listed = get_json(running.web_port, f"/cases?order_id={order}")
        shipments = await read_all(bootstrap, f"{topic_prefix}shipments")

    cases = sorted(order_cases(records, order), key=lambda c: c.opened_at or c.updated_at)
    earlier, later = cases
    assert earlier.case_id == case_id_for_order(order)  # the order's first case keeps its id
    assert later.case_id != earlier.case_id
    # Each case has its own parcel and its own refunds, summed per case.
    assert earlier.return_tracking_numbers == ["JD014600000000004"]
    assert later.return_tracking_numbers == ["JD014600100000004"]
    assert {m.currency: m.amount for m in earlier.refunded} == first.expected_refunded
    assert {m.currency: m.amount for m in later.refunded} == second.expected_refunded
    assert later.milestones.return_requested_at is not None
    assert earlier.milestones.return_requested_at is not None
    assert later.milestones.return_requested_at > earlier.milestones.return_requested_at
    # The later case carries its order's facts, not only its claim's.
    assert later.order_total == earlier.order_total is not None
    # The order's query lists both cases; each parcel's record names its own case.
    assert status == 200
    assert sorted(c["case_id"] for c in listed) == sorted([earlier.case_id, later.case_id])
    owners = {r.key.decode(): r.value for r in shipments if r.value is not None}
    assert earlier.case_id.encode() in owners[earlier.return_tracking_numbers[0]]
    assert later.case_id.encode() in owners[later.return_tracking_numbers[0]]
    # The other orders are one case each, as before.
    for story in noise:
        assert [c.case_id for c in order_cases(records, story.order_id)] == [
            case_id_for_order(story.order_id)]
