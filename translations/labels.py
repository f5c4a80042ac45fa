"""Every UI string of the case feeds, marked for extraction into `messages.pot`.

Each string is a `Message` made by `label(context, msgid)`: the context keeps apart the same
English word in two roles ("Requested" as a case status and as an amount's field label) so
translators can choose different words. `pybabel extract` finds them with the keyword
`label:1c,2` (see `translations.catalogs.EXTRACT_ARGS`). The enumeration tables are total: a
test checks that every value of each `Literal` has a label.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas.actions import ActionKind, EvidenceKind, ReplyTranslation, ResolutionKind
from schemas.case import CaseStatus, CaseType, ReturnShippingStatus
from schemas.events import CustomsStatus, ReasonCode, ShipmentStatus


class Message(NamedTuple):
    """A translatable string: its gettext context and its English msgid."""

    context: str
    msgid: str


def label(context: str, msgid: str) -> Message:
    """Mark a string for extraction; it is translated later, for a region's locale."""
    return Message(context, msgid)


CASE_STATUS: dict[CaseStatus, Message] = {
    "requested": label("case status", "Requested"),
    "approved": label("case status", "Approved"),
    "rejected": label("case status", "Rejected"),
    "awaiting_return": label("case status", "Awaiting return"),
    "return_in_transit": label("case status", "Return in transit"),
    "received": label("case status", "Received"),
    "refunded": label("case status", "Refunded"),
    "exchanged": label("case status", "Exchanged"),
    "reshipped": label("case status", "Reshipped"),
    "closed": label("case status", "Closed"),
    "disputed": label("case status", "Disputed"),
}

CASE_TYPE: dict[CaseType, Message] = {
    "return": label("case type", "Return"),
    "refund_only": label("case type", "Refund only"),
    "exchange": label("case type", "Exchange"),
    "repair": label("case type", "Repair"),
    "reship": label("case type", "Reshipment"),
    "compensation": label("case type", "Compensation"),
}

REASON: dict[ReasonCode, Message] = {
    "damaged": label("reason", "Damaged"),
    "defective": label("reason", "Defective"),
    "wrong_item": label("reason", "Wrong item"),
    "not_as_described": label("reason", "Not as described"),
    "size_fit": label("reason", "Size or fit"),
    "changed_mind": label("reason", "Changed mind"),
    "late_delivery": label("reason", "Late delivery"),
    "lost_in_transit": label("reason", "Lost in transit"),
    "missing_parts": label("reason", "Missing parts"),
    "fraud": label("reason", "Fraud"),
    "other": label("reason", "Other"),
}

SHIPMENT_STATUS: dict[ShipmentStatus, Message] = {
    "pending": label("shipment status", "Pending"),
    "info_received": label("shipment status", "Label information received"),
    "in_transit": label("shipment status", "In transit"),
    "customs": label("shipment status", "In customs"),
    "out_for_delivery": label("shipment status", "Out for delivery"),
    "available_for_pickup": label("shipment status", "Available for pickup"),
    "delivered": label("shipment status", "Delivered"),
    "failed_attempt": label("shipment status", "Delivery attempt failed"),
    "exception": label("shipment status", "Delivery exception"),
    "returned_to_sender": label("shipment status", "Returned to sender"),
    "expired": label("shipment status", "Tracking expired"),
}

CUSTOMS_STATUS: dict[CustomsStatus, Message] = {
    "declared": label("customs status", "Declared"),
    "in_clearance": label("customs status", "In customs clearance"),
    "held": label("customs status", "Held by customs"),
    "duties_due": label("customs status", "Duties due"),
    "released": label("customs status", "Released"),
    "duties_paid": label("customs status", "Duties paid"),
    "refused": label("customs status", "Refused"),
    "seized": label("customs status", "Seized"),
    "returned": label("customs status", "Returned by customs"),
}

RETURN_SHIPPING_STATUS: dict[ReturnShippingStatus, Message] = {
    "label_created": label("return shipping status", "Return label created"),
    "in_transit": label("return shipping status", "In transit"),
    "customs": label("return shipping status", "In customs"),
    "out_for_delivery": label("return shipping status", "Out for delivery"),
    "delivered_to_returns_center": label("return shipping status", "Delivered to returns center"),
    "inspected": label("return shipping status", "Inspected"),
    "lost": label("return shipping status", "Lost"),
    "damaged": label("return shipping status", "Damaged in transit"),
    "returned_to_sender": label("return shipping status", "Returned to sender"),
    "failed_attempt": label("return shipping status", "Delivery attempt failed"),
    "exception": label("return shipping status", "Delivery exception"),
}

FIELD: dict[str, Message] = {
    "case": label("field", "Case"),
    "order": label("field", "Order"),
    "status": label("field", "Status"),
    "case_type": label("field", "Type"),
    "reason": label("field", "Reason"),
    "requested": label("field", "Requested"),
    "refunded": label("field", "Refunded"),
    "order_total": label("field", "Order total"),
    "opened": label("field", "Opened"),
    "updated": label("field", "Updated"),
    "marketplace": label("field", "Marketplace"),
    "buyer_country": label("field", "Buyer country"),
    "return_shipment": label("field", "Return shipment"),
    "tracking_number": label("field", "Tracking number"),
    "carrier": label("field", "Carrier"),
    "customs": label("field", "Customs"),
    "duties": label("field", "Duties"),
    "original_text": label("field", "Original text"),
    "translated_text": label("field", "Translation"),
    "sla": label("sla", "SLA"),
    "deadline": label("sla", "Deadline"),
    "breached": label("sla", "Breached"),
    "due_in": label("sla", "Due in"),
    "on_track": label("sla", "On track"),
    "at_risk": label("sla", "At risk"),
    "assignee": label("field", "Assignee"),
    "unassigned": label("field", "Unassigned"),
    "history": label("field", "History"),
    "proposal": label("field", "Proposed resolution"),
    "first_reply": label("field", "First reply"),
    "buyer_sees": label("field", "The buyer receives"),
    "evidence_requested": label("field", "Evidence requested"),
}

TRANSLATION_STATE: dict[str, Message] = {
    "translated": label("translation", "Machine translation"),
    "pending": label("translation", "Translation pending"),
    "not_needed": label("translation", "No translation needed"),
}

JUST_NOW = label("age", "just now")
OPENED_AGO = label("age", "Opened %(age)s")
UPDATED_AGO = label("age", "Updated %(age)s")
OPENED_JUST_NOW = label("age", "Opened just now")
UPDATED_JUST_NOW = label("age", "Updated just now")
DUE_IN = label("sla", "Due in %(time)s")
OVERDUE_BY = label("sla", "Overdue by %(time)s")

SLA_ALERT: dict[str, Message] = {
    "warning": label("sla", "Deadline approaching"),
    "breach": label("sla", "SLA breached"),
}

CONSOLE: dict[str, Message] = {
    "title": label("console", "Support console"),
    "region": label("console", "Region"),
    "all_statuses": label("console", "All statuses"),
    "no_cases": label("console", "No cases in this feed yet"),
    "live": label("console", "Live"),
    "reconnecting": label("console", "Reconnecting…"),
    "local_time": label("console", "Local time"),
    "cases_shown": label("console", "Cases shown: %(count)s"),
    "search": label("console", "Search by order, tracking, return or claim number"),
    "search_button": label("console", "Search"),
    "all": label("console", "All"),
    "mine": label("console", "Assigned to me"),
    "show_closed": label("console", "Show closed cases"),
    "more": label("console", "Load more"),
    "take": label("console", "Take"),
    "assign_to": label("console", "Assign to"),
    "reply": label("console", "Reply"),
    "template": label("console", "Template"),
    "send": label("console", "Send"),
    "note": label("console", "Add note"),
    "request_info": label("console", "Request information"),
    "escalate": label("console", "Escalate"),
    "propose": label("console", "Propose"),
    "close": label("console", "Close case"),
    "amount": label("console", "Amount"),
    "open_cases": label("console", "Open cases"),
    "first_response": label("console", "Time to first response"),
    "first_contact_resolution": label("console", "First-contact resolution"),
    "signed_in_as": label("console", "Signed in as %(name)s"),
    "time_zone": label("console", "Time zone"),
    "other_region": label("console", "This case belongs to another region."),
    "refused": label("console", "The action was refused: %(detail)s"),
    "saved": label("console", "Saved"),
    "keys": label(
        "console", "Keys: j/k next/previous, t take, r reply, n note, e escalate, c close, / search"
    ),
    "token": label("console", "Agent or team token"),
    "open": label("console", "Open console"),
    "unreachable": label("console", "The hub cannot be reached."),
    "bad_token": label("console", "This token is not valid for any region."),
    "team_token": label("console", "Only agents can act; this is a team token."),
}
"""The support console's own strings (`GET /feeds` hands them to the page, localized)."""

ACTION_KIND: dict[ActionKind, Message] = {
    "take": label("action", "Took the case"),
    "reply": label("action", "Replied to the buyer"),
    "note": label("action", "Internal note"),
    "request_info": label("action", "Asked for information"),
    "escalate": label("action", "Escalated"),
    "propose": label("action", "Proposed a resolution"),
    "close": label("action", "Closed the case"),
}

EVIDENCE: dict[EvidenceKind, Message] = {
    "photos_of_damage": label("evidence", "Photos of the damage"),
    "proof_of_return": label("evidence", "Proof of return"),
    "proof_of_purchase": label("evidence", "Proof of purchase"),
    "serial_number": label("evidence", "Serial number"),
    "description": label("evidence", "Description of the problem"),
}

RESOLUTION: dict[ResolutionKind, Message] = {
    "return_and_refund": label("resolution", "Return and refund"),
    "partial_refund": label("resolution", "Partial refund"),
    "compensation": label("resolution", "Compensation"),
    "exchange": label("resolution", "Exchange"),
    "repair": label("resolution", "Repair"),
    "reship": label("resolution", "Reship"),
    "reject": label("resolution", "Reject"),
}

REPLY_TRANSLATION: dict[ReplyTranslation, Message] = {
    "translated": label("reply translation", "Translated for the buyer"),
    "not_needed": label("reply translation", "In the buyer's language"),
    "off": label("reply translation", "Translation off"),
    "failed": label("reply translation", "Sent untranslated: translation failed"),
}

REPLY_TEMPLATE: dict[str, Message] = {
    "acknowledge": label(
        "reply template",
        "Thank you for contacting us. We have received your request and are looking into it."),
    "request_photos": label(
        "reply template",
        "Could you please send us photos of the damage and of the packaging?"),
    "return_label": label(
        "reply template",
        "We have sent you a prepaid return label. Please drop the parcel off within 14 days."),
    "refund_issued": label(
        "reply template",
        "Your refund has been issued. It can take a few days to appear on your statement."),
}
"""Reply templates an agent starts a reply from, in the region's language (the reply is
translated into the buyer's language when it is sent)."""
