"""Correlated flows across providers on the real broker: a marketplace return with the carrier's
and the payment provider's own payloads, in the shapes their documentation gives.

    carrier scans without offsets   DHL Express localities ("LEIPZIG - DEUTSCHLAND"), wall times
    refund without an inline list   Stripe `charge.refunded` (current API) and its `refund.created`
    return parcel named in German   DHL Parcel "Retoure" with the order number as a reference
(Two returns on one order: tests/integration/test_case_identity.py.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.sample_traffic import SamplePayload
from schemas.case import CASE, RETURN_SHIPMENT, Case
from streams.cases import case_id_for_order
from tests.integration.test_case_stream import worker
from tests.support.connector_fixtures import load_fixtures
from tests.support.kafka import Record, read_all, read_until
from tests.support.stories import produce_payloads

pytestmark = pytest.mark.integration


def fixture(source: str, name: str) -> SamplePayload:
    [found] = [f for f in load_fixtures(source) if f.name == name]
    return SamplePayload(source, name.encode(), found.body, found.headers)


def hub_event(order_id: str, event_type: str, occurred_at: str, **fields: Any) -> SamplePayload:
    body = {"protocol_version": 1, "event_type": event_type,
            "event_id": f"{order_id}-{event_type}", "marketplace": "nordwind-us",
            "occurred_at": occurred_at, "order_id": order_id, **fields}
    return SamplePayload("hub", order_id.encode(), json.dumps(body).encode())


def latest_case(records: Sequence[Record], case_id: str) -> Case | None:
    found = [CASE.validate_json(r.value) for r in records
             if r.key == case_id.encode() and r.value is not None]
    return max(found, key=lambda c: c.version) if found else None


async def test_dhl_express_scans_without_offsets_keep_their_own_times(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    order = "CN-DE-7392"
    case_id = case_id_for_order(order)
    flow = [
        hub_event(order, "return.requested", "2025-02-27T09:00:00+01:00", return_id="R-7392",
                  amount={"amount": "249.00", "currency": "EUR"}, buyer_country="DE"),
        hub_event(order, "return.label_created", "2025-02-27T12:00:00+01:00",
                  return_id="R-7392", label={"carrier": "DHL Express",
                                             "tracking_number": "7392018845"}),
        fixture("dhl", "express-cn-de-german-localities"),
    ]

    def delivered(records: Sequence[Record]) -> bool:
        case = latest_case(records, case_id)
        return case is not None and case.shipment is not None and (
            case.shipment.status == "delivered")

    with worker(bootstrap, topic_prefix, state_dir):
        await produce_payloads(bootstrap, topic_prefix, list(enumerate(flow)))
        await read_until(bootstrap, f"{topic_prefix}cases", delivered, timeout=90)
        shipments = await read_all(bootstrap, f"{topic_prefix}shipments")
    [record] = [r for r in shipments if r.key == b"7392018845"][-1:]
    shipment = json.loads(record.value)["return_shipping"]
    history = RETURN_SHIPMENT.validate_python(shipment).history
    steps = [step for step in history if step.event_id.startswith("dhl:")]  # not the label
    times = [step.at for step in steps]
    # Wall times placed in the zone of each scan's locality (Shenzhen 18:30 is 10:30 UTC), not
    # all at the moment the webhook was received.
    assert times[0] == datetime(2025, 2, 28, 10, 30, tzinfo=UTC)
    assert times[-1] == datetime(2025, 3, 4, 10, 26, tzinfo=UTC)  # 11:26 in München
    assert len(set(times)) == len(times) and times == sorted(times)
    assert [step.country for step in steps][:2] == ["CN", "HK"]


async def test_stripe_refund_without_inline_list_and_a_german_retoure_make_one_case(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    order = "NW-20418"
    case_id = case_id_for_order(order)
    refund_created = {  # the same refund, as Stripe's refund.created reports it
        "id": "evt_3RbK2vLq8NcT5wYz1Rfc", "object": "event", "api_version": "2025-02-24.acacia",
        "created": 1772450000, "type": "refund.created", "livemode": False,
        "data": {"object": {
            "id": "re_3RbK2vLq8NcT5wYz0Xy1", "object": "refund", "amount": 8450,
            "currency": "usd", "charge": "ch_3RbK2vLq8NcT5wYz0aHk4Jm1",
            "payment_intent": "pi_3RbK2vLq8NcT5wYz0QpW7eR2", "created": 1772450000,
            "metadata": {"order_id": order}, "reason": "requested_by_customer",
            "status": "succeeded"}},
    }
    flow = [
        hub_event(order, "order.placed", "2025-02-20T10:00:00-05:00",
                  amount={"amount": "84.50", "currency": "USD"}, buyer_country="US"),
        hub_event(order, "return.requested", "2025-03-01T10:00:00-05:00",
                  return_id="NW-20418-R1", amount={"amount": "84.50", "currency": "USD"}),
        hub_event(order, "return.approved", "2025-03-01T12:00:00-05:00",
                  return_id="NW-20418-R1"),
        fixture("dhl", "parcel-de-retoure-customer-references"),  # names the order and an RMA
        fixture("stripe", "charge_refunded_full_usd_no_inline_refunds"),
        SamplePayload("stripe", b"evt_3RbK2vLq8NcT5wYz1Rfc",
                      json.dumps(refund_created).encode(), {}),
    ]

    def settled(records: Sequence[Record]) -> bool:
        case = latest_case(records, case_id)
        return case is not None and case.status == "refunded" and case.shipment is not None and (
            case.shipment.status == "delivered")

    with worker(bootstrap, topic_prefix, state_dir):
        await produce_payloads(bootstrap, topic_prefix, list(enumerate(flow)))
        records = await read_until(bootstrap, f"{topic_prefix}cases", settled, timeout=90)
    case = latest_case(records, case_id)
    assert case is not None
    # One refund of 84.50 USD, reported twice (charge.refunded and refund.created): counted once.
    assert [(m.amount, m.currency) for m in case.refunded] == [(Decimal("84.50"), "USD")]
    # The parcel marked only "Retoure" is the case's return leg; its RMA opens no case of its own.
    assert case.return_tracking_numbers == ["00340434292135100188"]
    assert case.shipment is not None and case.shipment.tracking_number == "00340434292135100188"
    assert {c.case_id for c in (CASE.validate_json(r.value) for r in records
                                if r.value is not None) if c.order_id == order} == {case_id}
