"""Return parcels marked only in words, and carrier references kept as canonical references."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.carriers._returns import (
    identifiers_in,
    marked_return,
    reference_kind,
    split_references,
)
from connectors.registry import connector_for
from tests.support.connector_fixtures import RECEIVED_AT


@pytest.mark.parametrize(
    "text",
    [
        "Retoure #2207", "DHL Retoure", "Return #1042", "Returns label", "RMA 55",
        "retour colis 88", "Rücksendung: Größe passt nicht", "Devolución pedido 77",
        "devolução do pedido 1042", "退货 RMA-20250302-0419", "退件", "返品（サイズ違い）",
    ],
)
def test_words_that_mark_a_return(text: str) -> None:
    assert marked_return(text)


@pytest.mark.parametrize(
    "text",
    [
        "Return to sender", "Returned to shipper", "Retour à l'expéditeur",
        "Rücksendung an den Absender", "Devolución al remitente", "Devolução ao remetente",
        "退回寄件人", "#1042", "FedEx International Priority", "non-returnable item", None, "",
    ],
)
def test_a_parcel_sent_back_to_its_shipper_or_an_order_is_no_return(text: str | None) -> None:
    assert not marked_return(text)


@pytest.mark.parametrize(
    ("value", "carrier_type", "kind"),
    [
        ("NW-20418", "customer-reference", "order"),
        ("RMA-20418-1", "customer-reference", "return"),
        ("RET 88", None, "return"),
        ("RETURN-7781", None, "return"),
        ("PO-55120", "SHIPMENT", "order"),
        ("55120", "return-authorization", "return"),
        ("#1042", None, "order"),
    ],
)
def test_reference_kinds(value: str, carrier_type: str | None, kind: str) -> None:
    assert reference_kind(value, carrier_type=carrier_type) == kind


def test_tags_give_only_their_numbers() -> None:
    assert identifiers_in("退货 SO-20250301-0187") == ["SO-20250301-0187"]
    assert identifiers_in("RMA-0419, #1042") == ["RMA-0419", "#1042"]
    assert identifiers_in("return gift") == []
    assert split_references([("RMA-0419", None), ("SO-1", None), (None, None)]) == (
        ["SO-1"], ["RMA-0419"])


def _directions(source: str, body: dict[str, Any]) -> set[str | None]:
    events = connector_for(source).parse(json.dumps(body).encode(), received_at=RECEIVED_AT)
    assert events
    return {(event.shipment or event.customs).direction  # type: ignore[union-attr]
            for event in events}


def _aftership(**fields: Any) -> dict[str, Any]:
    return {"event": "tracking_update", "msg": {
        "tracking_number": "JJD000390007718345521", "slug": "dhl-germany", **fields,
        "checkpoints": [{"checkpoint_time": "2025-03-01T11:40:00+01:00", "tag": "InTransit",
                         "subtag": "InTransit_002", "message": "Eingeliefert"}]}}


@pytest.mark.parametrize(
    ("fields", "direction"),
    [
        ({"title": "Retoure #2207"}, "return"),
        ({"note": "devolución"}, "return"),
        ({"shipment_type": "Return Label"}, "return"),
        ({"title": "#2207", "note": "Return to sender if not delivered"}, None),
        ({"title": "#2207"}, None),
    ],
)
def test_aftership_tracking_marked_as_return(fields: dict[str, Any], direction: str | None) -> None:
    assert _directions("aftership", _aftership(**fields)) == {direction}


def test_17track_tag_marks_the_return_and_keeps_its_numbers() -> None:
    body = {"event": "TRACKING_UPDATED", "data": {
        "number": "EJ418203375JP", "carrier": 3011, "tag": "返品 RMA-0419 SO-1887",
        "track_info": {"tracking": {"providers": [{"provider": {"key": 3011}, "events": [{
            "time_iso": "2025-03-03T16:20:00+09:00", "description": "引受",
            "stage": "PickedUp"}]}]}}}}
    [event] = connector_for("17track").parse(json.dumps(body).encode(), received_at=RECEIVED_AT)
    assert event.shipment is not None and event.shipment.direction == "return"
    assert [str(ref) for ref in event.references] == [
        "order:SO-1887", "return:RMA-0419", "tracking:EJ418203375JP"]


def test_dhl_product_name_marks_the_return_and_customer_references_are_kept() -> None:
    body = {"shipments": [{"id": "00340434292135100188", "service": "parcel-de",
                           "details": {"product": {"productName": "DHL Retoure"},
                                       "references": {"number": "NW-20418",
                                                      "type": "customer-reference"}},
                           "events": [{"timestamp": "2025-03-04T11:27:00+01:00",
                                       "statusCode": "pre-transit", "status": "Eingeliefert"}]}]}
    [event] = connector_for("dhl").parse(json.dumps(body).encode(), received_at=RECEIVED_AT)
    assert event.shipment is not None and event.shipment.direction == "return"
    assert event.case_key == "order:NW-20418"


def test_ups_reference_numbers_are_order_and_return_references() -> None:
    body = {"trackResponse": {"shipment": [{"inquiryNumber": "1Z8V31E29097335518", "package": [{
        "trackingNumber": "1Z8V31E29097335518",
        "referenceNumber": [{"type": "SHIPMENT", "number": "PO-55120"},
                            {"type": "PACKAGE", "number": "RMA-55120-2"}],
        "activity": [{"location": {"address": {"city": "Chicago", "stateProvince": "IL",
                                                "countryCode": "US"}},
                      "status": {"type": "D", "code": "FS", "description": "DELIVERED"},
                      "date": "20250307", "time": "103011"}]}]}]}}
    [event] = connector_for("ups").parse(json.dumps(body).encode(), received_at=RECEIVED_AT)
    assert event.reference_values("order") == ["PO-55120"]
    assert event.reference_values("return") == ["RMA-55120-2"]
