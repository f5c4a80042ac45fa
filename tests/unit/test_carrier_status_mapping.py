"""The one shipment-status taxonomy every carrier's codes map into (`_status`)."""

from __future__ import annotations

from typing import get_args

import pytest

from connectors.carriers import _status
from connectors.carriers._status import (
    aftership_status,
    dhl_status,
    easypost_status,
    refine_from_text,
    track17_status,
    ups_status,
    with_customs,
)
from schemas.events import ShipmentStatus


@pytest.mark.parametrize(
    ("tag", "subtag", "expected"),
    [
        ("Pending", "Pending_001", "pending"),
        ("InfoReceived", "InfoReceived_001", "info_received"),
        ("InTransit", "InTransit_007", "in_transit"),
        ("OutForDelivery", "OutForDelivery_001", "out_for_delivery"),
        ("AttemptFail", "AttemptFail_001", "failed_attempt"),
        ("Delivered", "Delivered_001", "delivered"),
        ("AvailableForPickup", "AvailableForPickup_001", "available_for_pickup"),
        ("Exception", "Exception_004", "exception"),
        ("Exception", "Exception_010", "returned_to_sender"),
        ("Exception", "Exception_011", "returned_to_sender"),
        ("Exception", "Exception_013", "exception"),
        ("Expired", "Expired_001", "expired"),
        (None, "Delivered_003", "delivered"),
    ],
)
def test_aftership_tags(tag: str | None, subtag: str, expected: str) -> None:
    assert aftership_status(tag, subtag) == expected


@pytest.mark.parametrize(
    ("status", "sub_status", "stage", "expected"),
    [
        ("NotFound", "NotFound_Other", None, "pending"),
        ("InfoReceived", "InfoReceived", None, "info_received"),
        ("InTransit", "InTransit_CustomsProcessing", None, "in_transit"),
        ("Expired", "Expired_Other", None, "expired"),
        ("AvailableForPickup", "AvailableForPickup_Other", None, "available_for_pickup"),
        ("OutForDelivery", "OutForDelivery_Other", None, "out_for_delivery"),
        ("DeliveryFailure", "DeliveryFailure_NoBody", None, "failed_attempt"),
        ("Delivered", "Delivered_Other", None, "delivered"),
        ("Exception", "Exception_Lost", None, "exception"),
        ("Exception", "Exception_Returning", None, "returned_to_sender"),
        (None, "Exception_Returned", None, "returned_to_sender"),
        (None, "DeliveryFailure_Rejected", None, "failed_attempt"),
        (None, None, "OutForDelivery", "out_for_delivery"),
        (None, None, "Returned", "returned_to_sender"),
        (None, None, None, "in_transit"),
    ],
)
def test_17track_statuses(
    status: str | None, sub_status: str | None, stage: str | None, expected: str
) -> None:
    assert track17_status(status, sub_status, stage) == expected


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        ("unknown", None, "pending"),
        ("pre_transit", "label_created", "info_received"),
        ("in_transit", "arrived_at_facility", "in_transit"),
        ("out_for_delivery", "out_for_delivery", "out_for_delivery"),
        ("delivered", "arrived_at_destination", "delivered"),
        ("available_for_pickup", None, "available_for_pickup"),
        ("return_to_sender", "return", "returned_to_sender"),
        ("in_transit", "return", "returned_to_sender"),
        ("failure", None, "exception"),
        ("cancelled", None, "exception"),
        ("error", None, "exception"),
    ],
)
def test_easypost_statuses(status: str, detail: str | None, expected: str) -> None:
    assert easypost_status(status, detail) == expected


@pytest.mark.parametrize(
    ("code", "texts", "expected"),
    [
        ("pre-transit", ("PRENOTIFICATION_RECEIVED",), "info_received"),
        ("transit", ("PARCEL_SORTED_AT_HUB",), "in_transit"),
        ("transit", ("DELIVERED_AT_SHIPPER",), "returned_to_sender"),
        ("transit", ("The shipment has been returned to the shipper",), "returned_to_sender"),
        ("delivered", ("Die Sendung wurde an den Absender zurückgeschickt",), "returned_to_sender"),
        ("transit", ("Rücksendung an den Absender",), "returned_to_sender"),
        ("failure", ("RETURNED_TO_SHIPPER",), "returned_to_sender"),
        ("failure", ("NOT_HOME",), "failed_attempt"),
        ("failure", ("Der Empfänger wurde nicht angetroffen",), "failed_attempt"),
        ("failure", ("STORAGE_PERIOD_ENDED_AT_PARCELSHOP",), "exception"),
        ("transit", ("DELIVERED_AT_PARCELSHOP",), "available_for_pickup"),
        ("transit", ("OUT FOR DELIVERY",), "out_for_delivery"),
        ("transit", ("NEW_DELIVERY_ATTEMPT",), "in_transit"),
        ("delivered", ("The shipment has been successfully delivered",), "delivered"),
        ("unknown", ("INTERVENTION_PROCESSED_FOR_COLLECTION_AT_PARCELSHOP",), "in_transit"),
        (None, ("Gated out at Port/Terminal",), "in_transit"),
    ],
)
def test_dhl_status_codes_refined_by_text(
    code: str | None, texts: tuple[str, ...], expected: str
) -> None:
    assert dhl_status(code, *texts) == expected


@pytest.mark.parametrize(
    ("status_type", "code", "description", "expected"),
    [
        ("M", "MP", "Shipper created a label, UPS has not received the package yet.",
         "info_received"),
        ("MV", None, "Shipment voided", "exception"),
        ("P", None, "Pickup Scan", "in_transit"),
        ("I", "OR", "Origin Scan", "in_transit"),
        ("I", "OT", "Out For Delivery Today", "out_for_delivery"),
        ("D", "FS", "DELIVERED", "delivered"),
        ("D", None, "Delivered to UPS Access Point™ awaiting customer pickup",
         "available_for_pickup"),
        ("X", None, "The receiver was not available for delivery. We'll make a second attempt "
         "the next business day.", "failed_attempt"),
        ("X", None, "The package is being returned to the sender.", "returned_to_sender"),
        ("RS", None, "Returned to shipper", "returned_to_sender"),
        ("X", None, "A mechanical failure has caused a delay.", "exception"),
        ("??", None, "Something new", "in_transit"),
    ],
)
def test_ups_types_refined_by_text(
    status_type: str, code: str | None, description: str, expected: str
) -> None:
    assert ups_status(status_type, code, description) == expected


def test_chinese_return_wording_is_a_return() -> None:
    assert refine_from_text("in_transit", "包裹已退回寄件人") == "returned_to_sender"


@pytest.mark.parametrize(
    ("status", "customs", "expected"),
    [
        ("in_transit", "held", "customs"),
        ("info_received", "declared", "customs"),
        ("exception", "held", "customs"),
        ("in_transit", None, "in_transit"),
        ("delivered", "released", "delivered"),
        ("out_for_delivery", "released", "out_for_delivery"),
        ("returned_to_sender", "returned", "returned_to_sender"),
    ],
)
def test_customs_milestones_turn_routine_scans_into_customs(
    status: ShipmentStatus, customs: str | None, expected: str
) -> None:
    assert with_customs(status, customs) == expected  # type: ignore[arg-type]


def test_every_table_maps_into_the_canonical_taxonomy() -> None:
    canonical = set(get_args(ShipmentStatus))
    tables = [
        _status.DHL_STATUS_CODES, _status.UPS_STATUS_TYPES, _status.EASYPOST_STATUSES,
        _status.AFTERSHIP_TAGS, _status.AFTERSHIP_SUBTAGS, _status.TRACK17_STATUSES,
        _status.TRACK17_SUB_STATUSES, _status.TRACK17_STAGES,
    ]
    reached = {status for table in tables for status in table.values()}
    assert reached <= canonical
    assert canonical - reached == {"customs"}, "customs comes only from customs milestones"
