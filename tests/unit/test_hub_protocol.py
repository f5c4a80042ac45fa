"""The hub-native marketplace protocol: strict models, exact amounts, documented and exported."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from schemas.events import EventType
from schemas.hub_protocol import HUB_PROTOCOL_ADAPTER, RefundRequested, export_json_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "hub-protocol.md"
PROTOCOL_TYPES = {
    "order.placed", "order.cancelled",
    "return.requested", "return.approved", "return.rejected", "return.closed",
    "return.label_created",
    "refund.requested", "refund.succeeded", "refund.failed",
}


def message(**overrides: Any) -> dict[str, Any]:
    """A valid refund.requested message, with fields replaced or removed (value None)."""
    body: dict[str, Any] = {
        "protocol_version": 1,
        "event_type": "refund.requested",
        "event_id": "evt-1",
        "marketplace": "xbazaar-kw",
        "occurred_at": "2026-02-28T13:44:20+03:00",
        "order_id": "XB-1",
        "refund_id": "RF-1",
        "amount": {"amount": "12.345", "currency": "KWD"},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def doc_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(block) for block in blocks]


def test_the_protocol_covers_exactly_the_marketplace_event_types() -> None:
    schema = export_json_schema()
    mapped = set(schema["discriminator"]["mapping"])
    assert mapped == PROTOCOL_TYPES
    assert mapped <= set(get_args(EventType))


def test_exported_schema_is_a_versioned_draft_2020_12_document() -> None:
    schema = export_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/v1.json")
    assert len(schema["oneOf"]) == len(PROTOCOL_TYPES)
    assert all(model["additionalProperties"] is False for model in schema["$defs"].values())
    json.dumps(schema)


def test_the_doc_has_one_valid_example_per_event_type() -> None:
    examples = doc_examples()
    assert sorted(example["event_type"] for example in examples) == sorted(PROTOCOL_TYPES)
    for example in examples:
        HUB_PROTOCOL_ADAPTER.validate_python(example)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("12800", "JPY"), ("0", "JPY"), ("349.90", "BRL"), ("12.345", "KWD"), ("12.3", "KWD")],
)
def test_amounts_within_the_minor_unit_are_accepted(amount: str, currency: str) -> None:
    parsed = HUB_PROTOCOL_ADAPTER.validate_python(
        message(amount={"amount": amount, "currency": currency})
    )
    assert isinstance(parsed, RefundRequested)
    assert parsed.amount.to_money().amount == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        pytest.param({"amount": "1200.5", "currency": "JPY"}, "minor unit", id="jpy-fraction"),
        pytest.param({"amount": "12.3456", "currency": "KWD"}, "minor unit", id="kwd-4-decimals"),
        pytest.param({"amount": 12.345, "currency": "KWD"}, "valid string", id="json-number"),
        pytest.param({"amount": "1e3", "currency": "JPY"}, "pattern", id="exponent"),
        pytest.param({"amount": "-5.00", "currency": "EUR"}, "pattern", id="negative"),
        pytest.param({"amount": "5.00", "currency": "eur"}, "pattern", id="lower-case-currency"),
        pytest.param({"amount": "5.00", "currency": "XYZ"}, "ISO 4217", id="unknown-currency"),
    ],
)
def test_bad_amounts_are_rejected(amount: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        HUB_PROTOCOL_ADAPTER.validate_python(message(amount=amount))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        pytest.param({"occurred_at": "2026-02-28T13:44:20"}, "pattern", id="naive-time"),
        pytest.param({"occurred_at": "2026-02-30T10:00:00Z"}, "day is out of range", id="bad-date"),
        pytest.param({"occurred_at": "1772275460"}, "pattern", id="epoch"),
        pytest.param({"protocol_version": 2}, "Input should be 1", id="version-2"),
        pytest.param({"protocol_version": "1"}, "JSON integer 1", id="version-string"),
        pytest.param({"protocol_version": True}, "JSON integer 1", id="version-bool"),
        pytest.param({"buyer_country": "jp"}, "pattern", id="lower-case-country"),
        pytest.param({"buyer_country": "EU"}, "ISO 3166", id="not-a-country"),
        pytest.param({"language": "ar"}, "needs a reason", id="language-without-reason"),
        pytest.param({"reason": "x", "language": "Arabic"}, "pattern", id="not-bcp47"),
        pytest.param({"reason_code": "broken"}, "reason_code", id="non-canonical-reason"),
        pytest.param({"refund_id": None}, "refund_id", id="refund-without-id"),
        pytest.param({"shipping_fee": "2.000"}, "Extra inputs", id="unknown-field"),
        pytest.param(
            {"event_type": "dispute.opened"}, "does not match any", id="not-a-protocol-type"
        ),
    ],
)
def test_invalid_messages_are_rejected(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        HUB_PROTOCOL_ADAPTER.validate_python(message(**overrides))


def test_return_events_need_a_return_id_and_labels_need_a_tracking_number() -> None:
    base = message(event_type="return.label_created", refund_id=None, amount=None)
    with pytest.raises(ValidationError, match="return_id"):
        HUB_PROTOCOL_ADAPTER.validate_python(
            {**base, "label": {"carrier": "DHL", "tracking_number": "1"}}
        )
    with pytest.raises(ValidationError, match="tracking_number"):
        HUB_PROTOCOL_ADAPTER.validate_python(
            {**base, "return_id": "R1", "label": {"carrier": "DHL", "tracking_number": ""}}
        )


def test_models_are_frozen() -> None:
    parsed = HUB_PROTOCOL_ADAPTER.validate_python(message())
    with pytest.raises(ValidationError):
        parsed.order_id = "other"
