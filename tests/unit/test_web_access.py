"""Credentials of the worker's web server: tokens to principals, stream tickets, and the
masking of what the query API serves."""

from __future__ import annotations

from typing import Any

import pytest

from hub.web.access import WebAccess, b64url_decode, b64url_encode
from hub.web.queries import masked_case, masked_shipment
from schemas.settings import load_settings
from translations.regions import REGIONS

TEAM_DE, TEAM_JP, OPERATOR = "tok-de-1", "tok-jp-1", "tok-operator-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def access(clock: Clock | None = None, **settings: Any) -> WebAccess:
    configured = load_settings(
        feed_tokens={"DE": [TEAM_DE, "tok-both"], "jp": [TEAM_JP], "SA": ["tok-both"],
                     "XX": ["tok-nowhere"]},
        operator_tokens=[OPERATOR], **settings)
    return WebAccess(configured, REGIONS, clock=clock or Clock())


def test_a_team_token_reads_its_regions_and_an_operator_token_every_region() -> None:
    web = access()
    assert web.principal(TEAM_DE).regions == {"DE"}  # type: ignore[union-attr]
    assert web.principal(TEAM_JP).regions == {"JP"}  # type: ignore[union-attr]
    assert web.principal("tok-both").regions == {"DE", "SA"}  # type: ignore[union-attr]
    assert web.principal(OPERATOR).regions == set(REGIONS.codes)  # type: ignore[union-attr]
    for unknown in (None, "", "tok-nowhere", TEAM_DE + " ", TEAM_DE[:-1]):
        assert web.principal(unknown) is None


def test_the_subject_identifies_a_token_without_revealing_it() -> None:
    web = access()
    de, again, jp = web.principal(TEAM_DE), web.principal(TEAM_DE), web.principal(TEAM_JP)
    assert de is not None and again is not None and jp is not None
    assert de.subject == again.subject != jp.subject
    assert TEAM_DE not in de.subject


def test_a_ticket_opens_its_region_until_it_expires() -> None:
    clock = Clock()
    web = access(clock)
    principal = web.principal("tok-both")
    assert principal is not None
    ticket = web.issue_ticket(principal, "SA")
    assert "tok-both" not in b64url_decode(ticket.split(".")[1]).decode()
    redeemed = web.redeem_ticket(ticket, "SA")
    assert redeemed is not None
    assert redeemed.regions == {"SA"} and redeemed.subject == principal.subject
    assert web.redeem_ticket(ticket, "DE") is None  # one region per ticket
    clock.now += web.ticket_ttl - 1
    assert web.redeem_ticket(ticket, "SA") is not None
    clock.now += 2
    assert web.redeem_ticket(ticket, "SA") is None


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="signature"),
    pytest.param(lambda t: t.replace("t1.", "t2.", 1), id="version"),
    pytest.param(lambda t: "t1." + "A" * 300, id="too-long"),
    pytest.param(lambda t: "", id="empty"),
    pytest.param(lambda t: "t1.%%%.%%%", id="garbage"),
])
def test_a_forged_or_damaged_ticket_is_refused(tamper: Any) -> None:
    web = access()
    principal = web.principal(TEAM_DE)
    assert principal is not None
    assert web.redeem_ticket(tamper(web.issue_ticket(principal, "DE")), "DE") is None


def test_a_ticket_names_another_region_only_with_a_new_signature() -> None:
    web = access()
    principal = web.principal(TEAM_DE)
    assert principal is not None
    version, payload, signature = web.issue_ticket(principal, "DE").split(".")
    _, subject, expires = b64url_decode(payload).decode().split("|")
    forged = b64url_encode(f"JP|{subject}|{expires}".encode())
    assert web.redeem_ticket(f"{version}.{forged}.{signature}", "JP") is None


def test_tickets_work_across_workers_only_with_the_shared_secret() -> None:
    principal_of = access().principal(TEAM_DE)
    assert principal_of is not None
    issuer, other = access(), access()
    assert other.redeem_ticket(issuer.issue_ticket(principal_of, "DE"), "DE") is None
    shared = {"stream_ticket_secret": "a-shared-secret-of-the-workers"}
    issuer, other = access(**shared), access(**shared)
    principal = issuer.principal(TEAM_DE)
    assert principal is not None
    redeemed = other.redeem_ticket(issuer.issue_ticket(principal, "DE"), "DE")
    assert redeemed is not None and redeemed.subject == principal.subject


def test_no_ticket_for_a_region_the_token_does_not_read() -> None:
    web = access()
    principal = web.principal(TEAM_DE)
    assert principal is not None
    with pytest.raises(ValueError, match="JP"):
        web.issue_ticket(principal, "JP")


def test_the_query_api_masks_the_buyers_text_and_the_carriers_descriptions() -> None:
    case = {"case_id": "c1", "reason_text": "Call me at +49 30 1234567 or mail a@b.de"}
    assert masked_case(case)["reason_text"] == "Call me at [phone] or mail [email]"
    assert masked_case({"case_id": "c2", "reason_text": None})["reason_text"] is None
    step = {"status": "delivered", "description": "Signed by Mr Smith at 12 Main Street"}
    shipment = {"tracking_number": "1Z", "case_id": "c1",
                "return_shipping": {"history": [step, {"status": "x"}]},
                "customs": [{"history": [step]}]}
    shown = masked_shipment(shipment)
    assert shown["return_shipping"]["history"][0]["description"] == (
        "Signed by Mr [name] at [address]")
    assert shown["return_shipping"]["history"][1] == {"status": "x"}
    assert shown["customs"][0]["history"][0]["description"] == "Signed by Mr [name] at [address]"
    assert shipment["return_shipping"]["history"][0] is step  # the read model's copy untouched
    assert step["description"].startswith("Signed by Mr Smith")
    assert masked_shipment({"tracking_number": "1Z", "case_id": "c1"}) == {
        "tracking_number": "1Z", "case_id": "c1"}


def test_the_query_api_masks_the_agents_notes_and_replies() -> None:
    entry = {"at": "2026-03-15T09:00:00Z", "action": {
        "action_id": "a-0000001", "kind": "reply", "agent": {"agent_id": "x"},
        "note": "buyer said call +49 30 1234567",
        "reply": {"text": "Mail us at a@b.de", "buyer_text": "Schreiben Sie an a@b.de",
                  "translation": "translated"}}}
    shown = masked_case({"case_id": "c1", "history": [entry, "unreadable"]})
    action = shown["history"][0]["action"]
    assert action["note"] == "buyer said call [phone]"
    assert action["reply"]["text"] == "Mail us at [email]"
    assert action["reply"]["buyer_text"] == "Schreiben Sie an [email]"
    assert action["reply"]["translation"] == "translated"
    assert shown["history"][1] == "unreadable"
    assert entry["action"]["note"].endswith("1234567")  # the read model's copy untouched
