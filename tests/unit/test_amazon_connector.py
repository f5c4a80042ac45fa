"""Amazon SP-API: ORDER_CHANGE in every envelope, trigger time, marketplaces, EF returns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.marketplaces.amazon import CONNECTOR, parse
from schemas.errors import SkippableRecordError
from tests.support.connector_fixtures import FIXTURES, RECEIVED_AT

AMAZON = FIXTURES / "amazon"


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((AMAZON / f"{name}.json").read_text(encoding="utf-8"))
    return body


def run(document: object) -> list[Any]:
    return parse(json.dumps(document).encode(), received_at=RECEIVED_AT)


def order_change(**summary: Any) -> dict[str, Any]:
    """The JP buyer-cancel notification with Summary fields replaced."""
    body = fixture_body("order-change-buyer-cancel-jp")
    body["Payload"]["OrderChangeNotification"]["Summary"].update(summary)
    return body


def camel_case(node: Any) -> Any:
    if isinstance(node, dict):
        return {key[:1].lower() + key[1:]: camel_case(value) for key, value in node.items()}
    if isinstance(node, list):
        return [camel_case(item) for item in node]
    return node


def return_item(status: str, **overrides: Any) -> dict[str, Any]:
    body = fixture_body("ef-return-created-in")
    body.update(status=status, lastUpdatedDateTime="2026-02-25T13:20:31Z", **overrides)
    return body


def test_descriptor() -> None:
    assert (CONNECTOR.source, CONNECTOR.kind, CONNECTOR.signature_scheme) == (
        "amazon", "marketplace", "amazon-sqs",
    )


def test_the_change_time_not_the_earlier_event_time_dates_the_fact() -> None:
    body = fixture_body("order-change-buyer-cancel-jp")
    assert body["EventTime"] < body["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"][
        "TimeOfOrderChange"
    ]
    [event] = run(body)
    assert event.occurred_at.isoformat() == "2026-02-18T03:12:47.106000+00:00"


def test_without_a_change_time_the_event_time_is_used() -> None:
    body = fixture_body("order-change-buyer-cancel-jp")
    body["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["TimeOfOrderChange"] = None
    [event] = run(body)
    assert event.occurred_at.isoformat() == "2026-02-18T03:12:41.208000+00:00"


def test_every_envelope_gives_the_same_event() -> None:
    notification = fixture_body("order-change-buyer-cancel-jp")
    envelopes = [
        notification,
        camel_case(notification),
        {"MessageId": "m-1", "Body": json.dumps(notification)},
        {"Records": [{"messageId": "m-1", "body": json.dumps(notification)}]},
        {"version": "0", "detail-type": "ORDER_CHANGE", "detail": notification},
    ]
    events = [run(envelope) for envelope in envelopes]
    assert all(len(found) == 1 for found in events)
    assert len({found[0].event_id for found in events}) == 1
    assert {found[0].case_key for found in events} == {"order:250-3948572-1093847"}


@pytest.mark.parametrize(
    ("marketplace_id", "buyer_country"),
    [("A1VC38T7YXB528", "JP"), ("A2Q3Y263D00KWC", "BR"), ("A21TJRUUN4KGV", "IN"),
     ("ATVPDKIKX0DER", None), ("A1PA6795UKMFR9", None), ("A2UNKNOWN00000", None)],
)
def test_buyer_country_only_where_the_marketplace_is_domestic(
    marketplace_id: str, buyer_country: str | None
) -> None:
    [event] = run(order_change(MarketplaceId=marketplace_id))
    assert (event.marketplace, event.buyer_country) == (marketplace_id, buyer_country)


@pytest.mark.parametrize(
    ("change_type", "reason", "status", "cancelled"),
    [
        ("OrderStatusChange", "Order status changed", "Canceled", True),
        ("BuyerRequestedChange", "Buyer Requested Cancel", "Unshipped", True),
        ("OrderStatusChange", "Order status changed", "Shipped", False),
        ("OrderStatusChange", "Order status changed", "Pending", False),
        ("BuyerRequestedChange", "Buyer Requested Address Change", "Unshipped", False),
    ],
)
def test_only_cancellations_are_mapped(
    change_type: str, reason: str, status: str, cancelled: bool
) -> None:
    body = order_change(OrderStatus=status)
    change = body["Payload"]["OrderChangeNotification"]
    change["OrderChangeType"] = change_type
    change["OrderChangeTrigger"]["ChangeReason"] = reason
    events = run(body)
    assert [event.type for event in events] == (["order.cancelled"] if cancelled else [])


def test_the_buyer_request_and_the_final_cancellation_are_distinct_facts() -> None:
    request = fixture_body("order-change-buyer-cancel-jp")
    final = fixture_body("order-change-buyer-cancel-jp")
    change = final["Payload"]["OrderChangeNotification"]
    change["OrderChangeType"] = "OrderStatusChange"
    change["Summary"]["OrderStatus"] = "Canceled"
    change["OrderChangeTrigger"].update(
        TimeOfOrderChange="2026-02-18T05:40:00.000Z", ChangeReason="Order status changed"
    )
    [asked] = run(request)
    [done] = run(final)
    assert asked.case_key == done.case_key
    assert asked.event_id != done.event_id
    assert (asked.raw_reason, done.raw_reason) == ("Buyer Requested Cancel", "Order status changed")


def test_other_notification_types_are_ignored() -> None:
    body = fixture_body("order-change-buyer-cancel-jp")
    body["NotificationType"] = "ANY_OFFER_CHANGED"
    assert run(body) == []


@pytest.mark.parametrize(
    ("document", "match"),
    [
        pytest.param({"MessageId": "m-1", "Body": "{not json"}, "not valid JSON", id="bad-body"),
        pytest.param({"Body": 42}, "SQS message Body is not an object", id="body-number"),
        pytest.param({"hello": "world"}, "neither an SP-API notification", id="unknown"),
        pytest.param(
            {"NotificationType": "ORDER_CHANGE", "Payload": {}}, "orderChangeNotification",
            id="no-payload",
        ),
    ],
)
def test_unreadable_records_are_skippable(document: object, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match):
        run(document)


@pytest.mark.parametrize(
    ("status", "event_type", "shipment_status"),
    [
        ("CREATED", "return.requested", None),
        ("CARRIER_NOTIFIED_TO_PICK_UP_FROM_CUSTOMER", "return.label_created", "info_received"),
        ("PICKED_FROM_CUSTOMER", "shipment.update", "in_transit"),
        ("OUT_FOR_DELIVERY", "shipment.update", "out_for_delivery"),
        ("DELIVERED", "shipment.update", "delivered"),
        ("CUSTOMER_CANCELLED_PICK_UP", "shipment.update", "exception"),
        ("REJECTED", "return.rejected", None),
        ("PROCESSED", "return.closed", None),
        ("CANCELLED", "return.closed", None),
    ],
)
def test_return_statuses(status: str, event_type: str, shipment_status: str | None) -> None:
    [event] = run(return_item(status))
    assert event.type == event_type
    assert event.case_key == "order:404-6628103-5547319"
    if shipment_status is None:
        assert event.shipment is None
    else:
        assert event.shipment is not None
        assert (event.shipment.status, event.shipment.tracking_number) == (
            shipment_status, "19135582406",
        )
        assert event.shipment.direction == "return"


def test_partially_processed_returns_are_ignored() -> None:
    assert run(return_item("PARTIALLY_PROCESSED")) == []


def test_a_return_is_created_when_it_was_created_and_moves_when_it_was_updated() -> None:
    [created] = run(return_item("CREATED"))
    [moved] = run(return_item("IN_TRANSIT"))
    assert created.occurred_at.isoformat() == "2026-02-23T06:41:15+00:00"
    assert moved.occurred_at.isoformat() == "2026-02-25T13:20:31+00:00"


@pytest.mark.parametrize(
    ("name", "marketplace"),
    [("AMAZON_IN$", "A21TJRUUN4KGV"), ("AMAZON_US", "ATVPDKIKX0DER"),
     ("AMAZON_UK", "A1F83G8C2ARO7P"), ("FLIPKART", "FLIPKART")],
)
def test_return_marketplace_names_map_to_ids(name: str, marketplace: str) -> None:
    body = return_item("CREATED")
    body["marketplaceChannelDetails"]["marketplaceChannel"]["marketplaceName"] = name
    [event] = run(body)
    assert event.marketplace == marketplace


@pytest.mark.parametrize(
    ("return_reason", "expected"),
    [("DEFECTIVE", "defective"), ("Apparel too small", "size_fit"),
     ("UNWANTED_ITEM", "changed_mind"), ("damaged by carrier", "damaged"), ("Missed", None)],
)
def test_return_reasons(return_reason: str, expected: str | None) -> None:
    body = return_item("CREATED")
    body["returnMetadata"]["returnReason"] = return_reason
    [event] = run(body)
    assert (event.reason_code, event.raw_reason) == (expected, return_reason)


def test_a_return_page_gives_one_event_per_mapped_item() -> None:
    page = {"returns": [return_item("CREATED"), return_item("PARTIALLY_PROCESSED"),
                        return_item("PROCESSED")], "nextToken": "eyJsYXN0"}
    assert [event.type for event in run(page)] == ["return.requested", "return.closed"]


def test_shipment_updates_do_not_repeat_the_return_reason() -> None:
    [event] = run(return_item("IN_TRANSIT"))
    assert (event.type, event.reason_code, event.raw_reason) == ("shipment.update", None, None)
