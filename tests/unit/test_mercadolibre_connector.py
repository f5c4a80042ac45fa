"""Mercado Libre claims, returns and claim messages: reasons, stages, offsets, languages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.marketplaces.mercadolibre import CONNECTOR, parse, reason_code
from schemas.errors import SkippableRecordError
from tests.support.connector_fixtures import FIXTURES, RECEIVED_AT

MERCADOLIBRE = FIXTURES / "mercadolibre"
MESSAGES_PATH = "/post-purchase/v1/claims/5402918733/messages"


def fixture_body(name: str) -> Any:
    return json.loads((MERCADOLIBRE / f"{name}.json").read_text(encoding="utf-8"))


def run(document: object, headers: dict[str, str] | None = None) -> list[Any]:
    return parse(json.dumps(document).encode(), received_at=RECEIVED_AT, headers=headers)


def claim(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture_body("claim-mediation-opened-mlb")
    body.update(overrides)
    return body


def claim_return(status: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture_body("return-label-generated-mlb")
    body.update(status=status, **overrides)
    return body


def test_descriptor() -> None:
    assert (CONNECTOR.source, CONNECTOR.kind, CONNECTOR.signature_scheme) == (
        "mercadolibre", "marketplace", "mercadolibre-x-signature",
    )


@pytest.mark.parametrize(
    ("reason_id", "expected"),
    [("PDD9939", "changed_mind"), ("PDD9944", "not_as_described"), ("pdd1", "not_as_described"),
     ("PNR3430", "lost_in_transit"), ("CS1002", "changed_mind"), ("XYZ12", None), (None, None)],
)
def test_reason_ids(reason_id: str | None, expected: str | None) -> None:
    assert reason_code(reason_id) == expected


@pytest.mark.parametrize(
    ("claim_type", "stage", "status", "event_type"),
    [
        ("mediations", "claim", "opened", "dispute.opened"),
        ("mediations", "dispute", "opened", "dispute.updated"),
        ("mediations", "recontact", "opened", "dispute.updated"),
        ("mediations", "dispute", "closed", "dispute.closed"),
        ("return", "claim", "opened", "return.requested"),
        ("returns", "claim", "closed", "return.closed"),
    ],
)
def test_claim_type_stage_and_status(
    claim_type: str, stage: str, status: str, event_type: str
) -> None:
    [event] = run(claim(type=claim_type, stage=stage, status=status))
    assert event.type == event_type
    assert event.case_key == "order:2000012347825690"
    assert event.reference_values("dispute") == ["5402918733"]


@pytest.mark.parametrize("claim_type", ["cancel_purchase", "cancel_sale", "change"])
def test_cancellation_and_change_claims_are_ignored(claim_type: str) -> None:
    assert run(claim(type=claim_type)) == []


def test_each_claim_state_is_its_own_fact() -> None:
    ids = {run(claim(stage=stage, status=status))[0].event_id
           for stage, status in [("claim", "opened"), ("dispute", "opened"), ("dispute", "closed")]}
    assert len(ids) == 3
    assert run(claim())[0].event_id == run(claim())[0].event_id


def test_the_providers_offset_is_kept_and_no_zone_is_guessed() -> None:
    [event] = run(claim(site_id="MLB"))
    assert event.occurred_at_local is not None
    assert event.occurred_at_local.isoformat() == "2026-02-24T15:37:09-04:00"
    assert event.occurred_at.isoformat() == "2026-02-24T19:37:09+00:00"
    assert event.source_timezone is None


def test_a_closed_claim_is_dated_by_its_resolution() -> None:
    [event] = run(fixture_body("claim-closed-refunded-mlm"))
    assert event.occurred_at.isoformat() == "2026-02-23T14:41:07+00:00"


def test_a_payment_claim_is_keyed_by_the_payment() -> None:
    [event] = run(claim(resource="payment", resource_id=118273645501))
    assert event.order_id is None
    assert event.case_key == "payment:118273645501"


def test_a_search_page_gives_one_event_per_claim() -> None:
    page = {"paging": {"total": 2, "offset": 0, "limit": 30},
            "data": [claim(), claim(id=5402918799, type="cancel_purchase")]}
    assert [event.type for event in run(page)] == ["dispute.opened"]


@pytest.mark.parametrize(
    ("status", "event_type"),
    [("pending", "return.approved"), ("label_generated", "return.label_created"),
     ("shipped", "shipment.update"), ("delivered", "shipment.update"),
     ("cancelled", "return.closed"), ("expired", "return.closed"), ("closed", "return.closed")],
)
def test_return_statuses(status: str, event_type: str) -> None:
    [event] = run(claim_return(status))
    assert event.type == event_type
    assert event.case_key == "order:2000012361902284"
    assert event.reference_values("dispute") == ["5403019427"]


@pytest.mark.parametrize("status", ["failed", "pending_cancel", "pending_delivered"])
def test_transitional_return_statuses_are_ignored(status: str) -> None:
    assert run(claim_return(status)) == []


def test_a_shipped_return_is_a_return_shipment_update() -> None:
    body = claim_return("shipped")
    body["shipments"][0]["status"] = "shipped"
    [event] = run(body)
    assert event.shipment is not None
    assert (event.shipment.carrier, event.shipment.status, event.shipment.direction) == (
        "mercadoenvios", "in_transit", "return",
    )


def test_the_return_leg_is_preferred_over_the_triage_leg() -> None:
    body = claim_return("shipped")
    triage = {**body["shipments"][0], "type": "return_from_triage",
              "tracking_number": "MEL45129911002FMXDF01"}
    body["shipments"] = [triage, *body["shipments"]]
    [event] = run(body)
    assert event.shipment is not None
    assert event.shipment.tracking_number == "MEL45120938817FMXDF01"


def test_the_site_of_a_return_comes_from_its_item_ids() -> None:
    [event] = run(fixture_body("return-closed-mlm"))
    assert (event.marketplace, event.buyer_country) == ("MLM", "MX")


def test_message_language_follows_the_site_else_the_text() -> None:
    messages = fixture_body("claim-messages-mlb")
    with_site = run(messages, {"x-mercadolibre-resource": MESSAGES_PATH,
                               "x-mercadolibre-site-id": "MLB"})
    without_site = run(messages, {"x-mercadolibre-resource": MESSAGES_PATH})
    assert [event.language for event in with_site] == ["pt", "pt"]
    # Without the site, the language is the one the detector finds in the messages.
    assert [event.language for event in without_site] == ["pt", "pt"]
    assert {event.marketplace for event in without_site} == {None}
    assert [event.event_id for event in with_site] == [event.event_id for event in without_site]


@pytest.mark.parametrize(("site", "language"), [("MLM", "es"), ("MLA", "es"), ("MLB", "pt")])
def test_site_languages(site: str, language: str) -> None:
    messages = fixture_body("claim-messages-mla")
    [event] = run(messages, {"x-mercadolibre-resource": MESSAGES_PATH,
                             "x-mercadolibre-site-id": site})
    assert event.language == language
    assert event.text == messages[0]["message"]


def test_the_sellers_own_messages_are_not_events() -> None:
    messages = [m for m in fixture_body("claim-messages-mlb") if m["sender_role"] == "respondent"]
    assert run(messages, {"x-mercadolibre-resource": MESSAGES_PATH}) == []


@pytest.mark.parametrize(
    "headers",
    [None, {"x-mercadolibre-resource": "/post-purchase/v1/claims/5402918733"}],
)
def test_messages_need_the_path_of_their_claim(headers: dict[str, str] | None) -> None:
    with pytest.raises(SkippableRecordError, match="x-mercadolibre-resource"):
        run(fixture_body("claim-messages-mlb"), headers)


@pytest.mark.parametrize(
    ("document", "match"),
    [
        pytest.param(42, "expected a JSON object or array", id="number"),
        pytest.param({"id": 1, "status": "opened"}, "not a Mercado Libre", id="unknown-object"),
        pytest.param(claim(id=None), "missing field 'id'", id="claim-without-id"),
        pytest.param(claim(date_created="24/02/2026"), "not an RFC 3339", id="bad-date"),
    ],
)
def test_unreadable_records_are_skippable(document: object, match: str) -> None:
    with pytest.raises(SkippableRecordError, match=match):
        run(document)
