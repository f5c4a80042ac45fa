"""Adyen: standard webhooks, `{"live": "false", "notificationItems": [...]}`.

Each element of `notificationItems` wraps one `NotificationRequestItem`; one notification may
carry several items, and each item becomes at most one event, in order. A bare
NotificationRequestItem (as Adyen's SDK test vectors hold it) is read as a one-item notification.
`success` and `live` are the strings "true"/"false".

Mapped, by `eventCode`:
- REFUND: success "true" -> refund.succeeded, "false" -> refund.failed with the item's `reason`
  ("Insufficient balance on payment") as `raw_reason`. REFUND_FAILED (a refund that was
  accepted and later failed at the scheme) -> refund.failed. REFUNDED_REVERSED (the refunded
  money came back to the merchant) -> refund.failed, identity state "reversed".
- CANCEL_OR_REFUND: `additionalData["modification.action"]` says what Adyen did. "refund" is
  treated like REFUND; "cancel" voided an uncaptured authorisation (no money moved, and the
  merchant's own order system reports the cancellation), so it is ignored.
- CAPTURE with success "true" -> payment.captured. AUTHORISATION (not yet captured money) and
  every other payment event code are ignored.
- Disputes (Adyen: "all events related to a dispute have the same PSP reference"):
  REQUEST_FOR_INFORMATION, NOTIFICATION_OF_CHARGEBACK and CHARGEBACK -> dispute.opened (each
  opens a stage of the dispute: retrieval request, pending chargeback, chargeback booked);
  CHARGEBACK_REVERSED, SECOND_CHARGEBACK, INFORMATION_SUPPLIED, DISPUTE_DEFENSE_PERIOD_ENDED,
  ISSUER_COMMENTS, ISSUER_RESPONSE_TIMEFRAME_EXPIRED -> dispute.updated (a reversed
  chargeback can still be followed by a second chargeback); PREARBITRATION_WON /
  PREARBITRATION_LOST -> dispute.closed with `additionalData.disputeStatus` (or the event code)
  as `text`. `raw_reason` is the scheme reason code (`chargebackReasonCode` or `rfiReasonCode`,
  "10.4"), mapped per `chargebackSchemeCode` (Visa 10.x fraud, 13.1 not received, 13.3 not as
  described; Mastercard 4837/4840/4849/4863/4870/4871 fraud, 4855 not received, 4853 not as
  described; Amex F-codes fraud, C08 not received, C31 not as described, C32 defective; any
  other code -> other); `text` is the item's free-text `reason`.

Amounts are integer minor units with Adyen's decimals (`_minor_units.ADYEN`: CLP and ISK two
decimals, CVE and IDR none). `eventDate` carries an offset, kept as `occurred_at_local`.
References: `merchantReference` as order, `originalReference` (the payment) and a capture's
own `pspReference` as payment, a refund's `pspReference` as refund (and `refund_id`), a
dispute's `pspReference` as dispute. Event ids include the item's state, so the same
pspReference first failing and then succeeding gives two distinct events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from connectors.base import Connector, HttpIntake
from connectors.boundary import (
    collected,
    ignored,
    load_json_object,
    translate_errors,
    unrecognized,
)
from connectors.payments._common import (
    free_text,
    iso_time,
    optional_list,
    optional_object,
    payment_event,
    references,
    require_object,
    require_text,
    text_at,
)
from connectors.payments._minor_units import ADYEN
from schemas.errors import SkippableRecordError
from schemas.events import CanonicalEvent, EventType, ReasonCode
from schemas.money import Money
from schemas.timestamps import SourceTime

SOURCE: Final = "adyen"

_DISPUTE_TYPES: dict[str, EventType] = {
    "REQUEST_FOR_INFORMATION": "dispute.opened",
    "NOTIFICATION_OF_CHARGEBACK": "dispute.opened",
    "CHARGEBACK": "dispute.opened",
    "CHARGEBACK_REVERSED": "dispute.updated",
    "SECOND_CHARGEBACK": "dispute.updated",
    "INFORMATION_SUPPLIED": "dispute.updated",
    "DISPUTE_DEFENSE_PERIOD_ENDED": "dispute.updated",
    "ISSUER_COMMENTS": "dispute.updated",
    "ISSUER_RESPONSE_TIMEFRAME_EXPIRED": "dispute.updated",
    "PREARBITRATION_WON": "dispute.closed",
    "PREARBITRATION_LOST": "dispute.closed",
}
_SCHEME_REASONS: dict[str, dict[str, ReasonCode]] = {
    "visa": {
        **dict.fromkeys(("10.1", "10.2", "10.3", "10.4", "10.5"), "fraud"),
        "13.1": "lost_in_transit",
        "13.3": "not_as_described",
    },
    "mc": {
        **dict.fromkeys(("4837", "4840", "4849", "4863", "4870", "4871"), "fraud"),
        "4855": "lost_in_transit",
        "4853": "not_as_described",
    },
    "amex": {
        **dict.fromkeys(("F24", "F29", "F30", "F31", "FR2", "FR4", "FR6"), "fraud"),
        "C08": "lost_in_transit",
        "C31": "not_as_described",
        "C32": "defective",
    },
}
_SCHEME_ALIASES = {"mastercard": "mc", "americanexpress": "amex"}


@translate_errors(SOURCE)
def parse(
    raw: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
) -> list[CanonicalEvent]:
    """Normalize one Adyen standard notification (every item in it).

    Args:
        raw: the request body exactly as Adyen delivered it.
        received_at: when the hub received it (UTC).
        headers: unused; the HMAC signature sits inside each item.

    Returns:
        One canonical event per item the hub uses, in item order.

    Raises:
        SkippableRecordError: the body or one of its items is not readable.
    """
    body = load_json_object(raw)
    return collected([_item_events(item, received_at=received_at) for item in _items(body)])


def _items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "notificationItems" not in body:
        if "eventCode" in body:
            return [body]
        raise unrecognized("missing field 'notificationItems' (not an Adyen notification)")
    items: list[Mapping[str, Any]] = []
    for position, wrapper in enumerate(optional_list(body, "notificationItems")):
        item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, Mapping) else None
        if not isinstance(item, Mapping):
            raise SkippableRecordError(
                f"field 'notificationItems.{position}.NotificationRequestItem' is not an object"
            )
        items.append(item)
    return items


def _item_events(item: Mapping[str, Any], *, received_at: datetime) -> list[CanonicalEvent]:
    code = require_text(item, "eventCode").upper()
    psp = require_text(item, "pspReference")
    success = _success(item)
    additional = optional_object(item, "additionalData")
    if code == "CANCEL_OR_REFUND":
        action = (text_at(additional, "modification.action") or "").lower()
        if action != "refund":
            return ignored(SOURCE, f"CANCEL_OR_REFUND {psp} with action {action or 'unknown'!r}",
                           kind=f"CANCEL_OR_REFUND {action or 'unknown'}")
        code = "REFUND"
    if code in ("REFUND", "REFUND_FAILED", "REFUNDED_REVERSED"):
        return [_refund_event(item, code, psp, success, received_at=received_at)]
    if code in _DISPUTE_TYPES:
        return [_dispute_event(item, code, psp, additional, received_at=received_at)]
    if code == "CAPTURE" and success:
        return [_capture_event(item, psp, received_at=received_at)]
    return ignored(SOURCE, f"{code} success={success} for {psp}", kind=code)


def _refund_event(
    item: Mapping[str, Any], code: str, psp: str, success: bool, *, received_at: datetime
) -> CanonicalEvent:
    canonical: EventType
    if code == "REFUNDED_REVERSED":
        state, canonical = "reversed", "refund.failed"
    elif code == "REFUND" and success:
        state, canonical = "succeeded", "refund.succeeded"
    else:
        state, canonical = "failed", "refund.failed"
    failed = canonical == "refund.failed"
    return payment_event(
        SOURCE,
        identity=("refund", psp, state),
        type=canonical,
        when=_event_time(item),
        received_at=received_at,
        refs=references(
            ("order", text_at(item, "merchantReference")),
            ("payment", text_at(item, "originalReference")),
            ("refund", psp),
        ),
        money=_money(item),
        refund_id=psp,
        raw_reason=(text_at(item, "reason") or code) if failed else None,
    )


def _dispute_event(
    item: Mapping[str, Any],
    code: str,
    psp: str,
    additional: Mapping[str, Any],
    *,
    received_at: datetime,
) -> CanonicalEvent:
    canonical = _DISPUTE_TYPES[code]
    rfi = code == "REQUEST_FOR_INFORMATION"
    reason_code = text_at(additional, "rfiReasonCode" if rfi else "chargebackReasonCode")
    scheme = text_at(additional, "rfiSchemeCode" if rfi else "chargebackSchemeCode")
    event_date = text_at(item, "eventDate")
    text: str | None
    if canonical == "dispute.closed":
        text = text_at(additional, "disputeStatus") or code
    else:
        text = free_text(item, "reason")
    return payment_event(
        SOURCE,
        identity=("dispute", psp, code, event_date),
        type=canonical,
        when=_event_time(item),
        received_at=received_at,
        refs=references(
            ("order", text_at(item, "merchantReference")),
            ("payment", text_at(item, "originalReference")),
            ("dispute", psp),
        ),
        money=_money(item),
        reason_code=_scheme_reason(scheme, reason_code) if reason_code else None,
        raw_reason=reason_code,
        text=text,
    )


def _capture_event(item: Mapping[str, Any], psp: str, *, received_at: datetime) -> CanonicalEvent:
    return payment_event(
        SOURCE,
        identity=("capture", psp, "captured"),
        type="payment.captured",
        when=_event_time(item),
        received_at=received_at,
        refs=references(
            ("order", text_at(item, "merchantReference")),
            ("payment", text_at(item, "originalReference")),
            ("payment", psp),
        ),
        money=_money(item),
    )


def _success(item: Mapping[str, Any]) -> bool:
    value = item.get("success")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SkippableRecordError(f"field 'success' is not \"true\" or \"false\": {value!r}")


def _event_time(item: Mapping[str, Any]) -> SourceTime | None:
    if item.get("eventDate") is None:
        return None
    return iso_time(item["eventDate"], "eventDate")


def _money(item: Mapping[str, Any]) -> Money | None:
    if item.get("amount") is None:
        return None
    amount = require_object(item, "amount")
    currency = require_text(amount, "currency")
    try:
        return ADYEN.to_money(amount.get("value"), currency)
    except ValueError as exc:
        raise SkippableRecordError(f"invalid amount: {exc}") from exc


def _scheme_reason(scheme: str | None, code: str) -> ReasonCode:
    key = (scheme or "").lower().replace(" ", "")
    table = _SCHEME_REASONS.get(_SCHEME_ALIASES.get(key, key), {})
    return table.get(code.upper(), "other")


CONNECTOR = Connector(
    source=SOURCE,
    kind="payment",
    signature_scheme="adyen-hmac-item",
    parse=parse,
    description="Adyen standard webhooks: refunds, chargebacks and captures",
    http=HttpIntake(signature_headers=("hmacsignature",), accepted_body="[accepted]"),
)
