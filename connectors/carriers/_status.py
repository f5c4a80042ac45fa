"""One shipment-status taxonomy for every carrier: each carrier's own code -> `ShipmentStatus`.

The hub's statuses: pending, info_received, in_transit, customs, out_for_delivery,
available_for_pickup, delivered, failed_attempt, exception, returned_to_sender, expired.
Connectors keep the carrier's raw code in `Shipment.raw_status`; the tables here only decide the
canonical value.

Carriers differ in how much their code says. AfterShip, 17TRACK and EasyPost codes are specific
and are trusted as they are. DHL's `statusCode` (pre-transit / transit / delivered / failure /
unknown) and UPS's `status.type` (M, I, D, X...) are coarse, so `refine_from_text` reads the scan
description for what the code hides: a DHL "transit" scan that says the parcel went back to the
shipper is `returned_to_sender`, a UPS "D" scan "Delivered to UPS Access Point" is
`available_for_pickup`. Finally `with_customs` turns a routine scan that is a customs milestone
into `customs` (see `connectors.carriers._customs`).
"""

from __future__ import annotations

import re

from connectors.carriers._customs import SCAN_TEXT_MATCHED
from schemas.events import CustomsStatus, ReasonCode, ShipmentStatus

# --- DHL Shipment Tracking - Unified: status.statusCode -------------------------------------
DHL_STATUS_CODES: dict[str, ShipmentStatus] = {
    "pre-transit": "info_received",
    "transit": "in_transit",
    "delivered": "delivered",
    "failure": "exception",
    "unknown": "in_transit",
}
"""`unknown` is DHL's "not yet classified" for a real scan of a parcel in its network."""

# --- UPS Track API / Track Alert: status.type ------------------------------------------------
UPS_STATUS_TYPES: dict[str, ShipmentStatus] = {
    "M": "info_received",  # manifest: label created, billing information received
    "MV": "exception",  # manifest voided: the label was cancelled
    "P": "in_transit",  # pickup
    "I": "in_transit",  # in progress / on the way
    "U": "in_transit",  # updated delivery date or time
    "W": "in_transit",  # warehousing
    "O": "out_for_delivery",
    "D": "delivered",
    "DO": "delivered",  # delivered to origin CFS (freight)
    "DD": "delivered",  # delivered to destination CFS (freight)
    "X": "exception",
    "RS": "returned_to_sender",
    "NA": "pending",
}
UPS_OUT_FOR_DELIVERY_CODES = frozenset({"OT", "OF"})
UPS_CUSTOMS_CODES: dict[str, CustomsStatus] = {"SR": "released"}

# --- EasyPost Tracker.status / TrackingDetail.status -----------------------------------------
EASYPOST_STATUSES: dict[str, ShipmentStatus] = {
    "unknown": "pending",
    "pre_transit": "info_received",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "available_for_pickup": "available_for_pickup",
    "return_to_sender": "returned_to_sender",
    "failure": "exception",
    "cancelled": "exception",
    "canceled": "exception",
    "error": "exception",
}
EASYPOST_DETAIL_REASONS: dict[str, ReasonCode] = {"lost": "lost_in_transit", "damaged": "damaged"}

# --- AfterShip tag / subtag ------------------------------------------------------------------
AFTERSHIP_TAGS: dict[str, ShipmentStatus] = {
    "Pending": "pending",
    "InfoReceived": "info_received",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AttemptFail": "failed_attempt",
    "Delivered": "delivered",
    "AvailableForPickup": "available_for_pickup",
    "Exception": "exception",
    "Expired": "expired",
}
AFTERSHIP_SUBTAGS: dict[str, ShipmentStatus] = {
    "Exception_010": "returned_to_sender",  # returning to sender
    "Exception_011": "returned_to_sender",  # returned to sender
}
AFTERSHIP_CUSTOMS_SUBTAGS: dict[str, CustomsStatus] = {
    "InTransit_005": "released",  # customs clearance completed
    "InTransit_006": "in_clearance",  # customs clearance started
    "Exception_004": "held",  # delayed (customs clearance)
}
AFTERSHIP_REASONS: dict[str, ReasonCode] = {
    "Exception_012": "damaged",  # shipment damage
    "Exception_013": "lost_in_transit",  # shipment lost
}

# --- 17TRACK latest_status.status / sub_status, events[].stage -------------------------------
TRACK17_STATUSES: dict[str, ShipmentStatus] = {
    "NotFound": "pending",
    "InfoReceived": "info_received",
    "InTransit": "in_transit",
    "Expired": "expired",
    "AvailableForPickup": "available_for_pickup",
    "OutForDelivery": "out_for_delivery",
    "DeliveryFailure": "failed_attempt",
    "Delivered": "delivered",
    "Exception": "exception",
}
TRACK17_SUB_STATUSES: dict[str, ShipmentStatus] = {
    "Exception_Returning": "returned_to_sender",
    "Exception_Returned": "returned_to_sender",
}
TRACK17_STAGES: dict[str, ShipmentStatus] = {
    "InfoReceived": "info_received",
    "PickedUp": "in_transit",
    "Departure": "in_transit",
    "Arrival": "in_transit",
    "AvailableForPickup": "available_for_pickup",
    "OutForDelivery": "out_for_delivery",
    "Delivered": "delivered",
    "Returning": "returned_to_sender",
    "Returned": "returned_to_sender",
}
TRACK17_CUSTOMS_SUB_STATUSES: dict[str, CustomsStatus] = {
    "InTransit_CustomsProcessing": "in_clearance",
    "InTransit_CustomsReleased": "released",
    "InTransit_CustomsRequiringInformation": "held",
}
TRACK17_REASONS: dict[str, ReasonCode] = {
    "Exception_Lost": "lost_in_transit",
    "Exception_Damage": "damaged",
    "Exception_Destroyed": "damaged",
}

# --- Scan text, for carriers whose codes are coarse (DHL, UPS) -------------------------------
_RETURNED = re.compile(
    r"\breturn(ed|ing)? to (the )?(sender|shipper|origin)\b|\bback to (the )?(sender|shipper)\b"
    r"|\b(delivered|returned) at shipper\b|\bon route to shipper\b|\breturned to shipper\b"
    r"|rücksendung an den absender|an den absender zurück|zurück an (den )?absender"
    r"|退回寄件人|退回发件人|已退回|退件",
    re.IGNORECASE,
)
_FAILED_ATTEMPT = re.compile(
    r"\bnot (at )?home\b|\breceiver (was )?not available\b|\bunsuccessful delivery attempt\b"
    r"|\bdelivery attempt(ed)? (failed|unsuccessful)\b|\battempted delivery\b"
    r"|\bdelivery attempted\b"
    r"|nicht angetroffen|zustellversuch|投递失败|派送失败|无人签收",
    re.IGNORECASE,
)
_AVAILABLE_FOR_PICKUP = re.compile(
    r"\b(available|ready) for (pick ?up|collection)\b|\bawaiting collection\b"
    r"|\bdelivered (at|to) (the |a |an )?(parcelshop|parcel shop|ups access point|access point"
    r"|packstation|post office|pickup point)"
    r"|abholbereit|zur abholung|待取件|待自取",
    re.IGNORECASE,
)
_OUT_FOR_DELIVERY = re.compile(
    r"\bout for delivery\b|\bloaded onto the delivery vehicle\b|\bon (the )?delivery vehicle\b"
    r"|\bwith delivery courier\b|\bout with courier\b"
    r"|in zustellung|zustellfahrzeug|派送中|派件中|正在派送",
    re.IGNORECASE,
)
ROUTINE_STATUSES: frozenset[ShipmentStatus] = frozenset(
    {"pending", "info_received", "in_transit", "exception"}
)
"""Statuses a customs milestone overrides with `customs` (see `with_customs`)."""


def refine_from_text(status: ShipmentStatus, *texts: str | None) -> ShipmentStatus:
    """A coarse carrier status made specific by what the scan description says."""
    # Read only as far as a scan text runs (see `recognize_customs`).
    text = " ".join(
        " ".join(part[:SCAN_TEXT_MATCHED].replace("_", " ").split()) for part in texts if part
    )
    if not text:
        return status
    if _RETURNED.search(text):
        return "returned_to_sender"
    if status in ("in_transit", "exception") and _FAILED_ATTEMPT.search(text):
        return "failed_attempt"
    if status in ("in_transit", "delivered") and _AVAILABLE_FOR_PICKUP.search(text):
        return "available_for_pickup"
    if status in ("in_transit", "info_received") and _OUT_FOR_DELIVERY.search(text):
        return "out_for_delivery"
    return status


def with_customs(status: ShipmentStatus, customs: CustomsStatus | None) -> ShipmentStatus:
    """`customs` for a routine scan that is a customs milestone; other statuses are kept."""
    return "customs" if customs is not None and status in ROUTINE_STATUSES else status


def dhl_status(status_code: str | None, *texts: str | None) -> ShipmentStatus:
    """DHL Unified `statusCode` plus the scan's status/description texts."""
    base = DHL_STATUS_CODES.get((status_code or "").strip().lower(), "in_transit")
    return refine_from_text(base, *texts)


def ups_status(status_type: str | None, code: str | None, *texts: str | None) -> ShipmentStatus:
    """UPS `status.type` and `status.code` plus the scan description."""
    base = UPS_STATUS_TYPES.get((status_type or "").strip().upper(), "in_transit")
    if (code or "").strip().upper() in UPS_OUT_FOR_DELIVERY_CODES:
        base = "out_for_delivery"
    return refine_from_text(base, *texts)


def easypost_status(status: str | None, status_detail: str | None = None) -> ShipmentStatus:
    """EasyPost `status`, with `status_detail` "return" marking a return to sender."""
    detail = (status_detail or "").strip().lower()
    if detail in ("return", "return_to_sender", "returned_to_sender"):
        return "returned_to_sender"
    return EASYPOST_STATUSES.get((status or "").strip().lower(), "pending")


def aftership_status(tag: str | None, subtag: str | None) -> ShipmentStatus:
    """AfterShip `tag`, refined by `subtag` for returns to sender."""
    if subtag and subtag in AFTERSHIP_SUBTAGS:
        return AFTERSHIP_SUBTAGS[subtag]
    tag_name = tag or (subtag or "").split("_", 1)[0]
    return AFTERSHIP_TAGS.get(tag_name, "pending")


def track17_status(
    status: str | None, sub_status: str | None = None, stage: str | None = None
) -> ShipmentStatus:
    """17TRACK main status and sub-status; an event's `stage` when it carries no status."""
    if sub_status and sub_status in TRACK17_SUB_STATUSES:
        return TRACK17_SUB_STATUSES[sub_status]
    main = status or (sub_status or "").split("_", 1)[0]
    if main in TRACK17_STATUSES:
        return TRACK17_STATUSES[main]
    if stage and stage in TRACK17_STAGES:
        return TRACK17_STAGES[stage]
    return "in_transit"
