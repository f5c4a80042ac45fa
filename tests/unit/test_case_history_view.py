"""A case's agents' actions as each region reads them: who did what, when, in its words and
clock; replies with both texts; marketplaces by name; the SLA state a work queue filters on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.actions import ActionEntry, AgentAction, AgentRef, Proposal, Reply
from schemas.case import Case
from schemas.money import Money
from translations.marketplaces import marketplace_name
from translations.regions import REGIONS, region
from translations.views import SlaAlert, render_case

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
LAYLA = AgentRef(agent_id="sa-layla", name="ليلى العتيبي", region="SA")


def entry(kind: str, minutes: int, **fields: object) -> ActionEntry:
    action = AgentAction(action_id=f"a-{kind}-{minutes:04d}", kind=kind,  # type: ignore[arg-type]
                         agent=LAYLA, **fields)  # type: ignore[arg-type]
    return ActionEntry(at=NOW - timedelta(minutes=minutes), action=action)


CASE = Case(
    case_id="case-1", order_id="SA-1", marketplace="A17E79C6D8DWNP", buyer_country="SA",
    opened_at=NOW - timedelta(hours=5), assignee=LAYLA,
    proposal=Proposal(resolution="partial_refund", amount=Money(amount="150.5", currency="SAR")),
    history=[
        entry("take", 120, assignee=LAYLA),
        entry("reply", 90, reply=Reply(text="شكرًا لتواصلك", language="ar",
                                        buyer_text="Thank you for contacting us",
                                        buyer_language="en", translation="translated")),
        entry("request_info", 60, request={"evidence": ["photos_of_damage", "proof_of_return"]}),
    ],
)


def test_the_history_reads_in_arabic_in_riyadh_time() -> None:
    view = render_case(CASE, region("SA"), now=NOW, translation=None)
    assert [(line.kind, line.label) for line in view.history] == [
        ("take", "تولّى الحالة"), ("reply", "ردّ على المشتري"),
        ("request_info", "طلب معلومات")]
    # 10:00 UTC is 13:00 in Riyadh (UTC+3), in Arabic-Indic digits.
    assert view.history[0].at.local == "2026-03-15T13:00:00+03:00"
    assert "١:٠٠:٠٠" in view.history[0].at.formatted
    assert view.history[0].agent.name == "ليلى العتيبي"
    reply = view.history[1].reply
    assert reply is not None
    assert (reply.text, reply.buyer_text) == ("شكرًا لتواصلك", "Thank you for contacting us")
    assert reply.translation_label == "مترجم للمشتري"
    assert reply.buyer_language_name == "الإنجليزية"
    assert view.history[2].evidence == ["صور التلف", "إثبات الإرجاع"]
    assert view.proposal is not None and view.proposal.label == "استرداد جزئي"
    assert view.proposal.amount is not None and "١٥٠٫٥٠" in view.proposal.amount.formatted
    assert view.assignee is not None and view.assignee.agent_id == "sa-layla"
    assert view.marketplace_name == "Amazon.sa"
    assert view.first_reply is None  # the fold sets the milestone; this case was made by hand


def test_a_reply_sent_without_a_provider_says_translation_off_in_german() -> None:
    off = Case(case_id="case-2", order_id="DE-1", buyer_country="FR", history=[
        entry("reply", 5, reply=Reply(text="Danke", language="de", buyer_text="Danke",
                                      buyer_language="de", translation="off"))])
    view = render_case(off, region("DE"), now=NOW, translation=None)
    reply = view.history[0].reply
    assert reply is not None and reply.translation_label == "Übersetzung aus"


@pytest.mark.parametrize(("deadline", "alert", "state"), [
    (None, None, None),
    (NOW + timedelta(hours=2), None, "on_track"),
    (NOW + timedelta(hours=2), SlaAlert("warning", "first_response", NOW + timedelta(hours=2)),
     "at_risk"),
    (NOW - timedelta(minutes=1), None, "breached"),
    (None, SlaAlert("breach", "first_response", NOW - timedelta(hours=1)), "breached"),
])
def test_the_sla_state_of_a_case(deadline: datetime | None, alert: SlaAlert | None,
                                 state: str | None) -> None:
    view = render_case(CASE, region("JP"), now=NOW, translation=None, deadline=deadline,
                       alert=alert)
    assert view.sla_state == state


def test_every_regions_marketplace_has_a_display_name() -> None:
    for found in REGIONS.regions:
        for marketplace in found.marketplaces:
            name = marketplace_name(marketplace)
            assert name and name != marketplace, (found.code, marketplace)
    assert marketplace_name("my-little_shop") == "My Little Shop"
