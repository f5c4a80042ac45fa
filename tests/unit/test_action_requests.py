"""What the console posts becomes an agent's action; replies are translated for the buyer, or
sent as written and marked `off` (no provider) or `failed`: never pending."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.web.access import WebAccess
from hub.web.actions import ActionRefused, action_from_request, buyer_language, translated_reply
from schemas.actions import AgentRef
from schemas.case import Case
from schemas.settings import load_settings
from translations.errors import TranslationUnavailableError
from translations.machine import ResilientTranslator

AIKO = AgentRef(agent_id="jp-aiko", name="佐藤 愛子", region="JP")
KEN = AgentRef(agent_id="jp-ken", name="鈴木 健", region="JP")
TEAM = {agent.agent_id: agent for agent in (AIKO, KEN)}


class Shouting:
    """A provider that 'translates' by upper-casing, tagging the pair."""

    async def translate(self, text: str, source: str, target: str) -> str:
        return f"[{source}>{target}] {text.upper()}"


class Down:
    async def translate(self, text: str, source: str, target: str) -> str:
        raise TranslationUnavailableError("provider down")


def parse(body: dict[str, Any]) -> Any:
    return action_from_request({"action_id": "action-0001", **body}, AIKO, teammates=TEAM.get)


def test_take_assigns_to_the_agent_or_a_teammate_of_the_region() -> None:
    assert parse({"kind": "take"}).assignee == AIKO
    assert parse({"kind": "take", "assignee": "jp-ken"}).assignee == KEN
    with pytest.raises(ActionRefused, match="no agent 'de-max' in JP"):
        parse({"kind": "take", "assignee": "de-max"})


def test_a_proposal_keeps_its_amount_exact() -> None:
    action = parse({"kind": "propose", "resolution": "partial_refund",
                    "amount": {"amount": "1500", "currency": "JPY"}})
    assert action.proposal is not None and action.proposal.amount is not None
    assert str(action.proposal.amount.amount) == "1500"
    assert action.proposal.amount.currency == "JPY"


@pytest.mark.parametrize(("body", "status", "match"), [
    ({"kind": "dance"}, 400, "kind must be one of"),
    ({"kind": "note", "note": "x", "assignee": "jp-ken"}, 400, "takes no assignee"),
    ({"kind": "request_info", "evidence": ["selfie"]}, 400, "evidence"),
    ({"kind": "propose", "resolution": "compensation",
      "amount": {"amount": "10", "currency": "XYZ"}}, 400, "currency"),
    ({"kind": "note", "note": "ok", "action_id": "short"}, 400, "action_id"),
])
def test_a_bad_body_is_refused_with_its_reason(body: dict[str, Any], status: int,
                                                match: str) -> None:
    with pytest.raises(ActionRefused, match=match) as refused:
        action_from_request({"action_id": "action-0001", **body}, AIKO, teammates=TEAM.get)
    assert refused.value.status == status


def case(**fields: Any) -> Case:
    return Case(case_id="case-1", order_id="1", **fields)


def test_the_buyer_is_answered_in_their_texts_language_else_their_countrys() -> None:
    assert buyer_language(case(reason_language="en-US", buyer_country="JP")) == "en"
    assert buyer_language(case(buyer_country="SA")) == "ar"
    assert buyer_language(case()) is None


async def test_a_reply_is_translated_for_the_buyer_and_the_original_kept() -> None:
    reply = await translated_reply(ResilientTranslator(Shouting()), "ご連絡ありがとうございます",
                                   "acknowledge", agent_language="ja",
                                   case=case(buyer_country="US", reason_language="en"))
    assert reply.translation == "translated"
    assert reply.text == "ご連絡ありがとうございます"
    assert reply.buyer_text == "[ja>en] ご連絡ありがとうございます"
    assert (reply.language, reply.buyer_language, reply.template) == ("ja", "en", "acknowledge")


async def test_without_a_provider_a_reply_is_sent_untranslated_marked_off() -> None:
    reply = await translated_reply(ResilientTranslator(None), "Danke", None, agent_language="de",
                                   case=case(buyer_country="FR"))
    assert (reply.translation, reply.buyer_text, reply.buyer_language) == ("off", "Danke", "de")


async def test_when_the_provider_fails_a_reply_is_sent_untranslated_marked_failed() -> None:
    reply = await translated_reply(ResilientTranslator(Down(), retries=0), "Danke", None,
                                   agent_language="de", case=case(buyer_country="FR"))
    assert (reply.translation, reply.buyer_text) == ("failed", "Danke")


async def test_a_reply_in_the_buyers_language_needs_no_translation() -> None:
    reply = await translated_reply(ResilientTranslator(Shouting()), "お待たせしました", None,
                                   agent_language="ja", case=case(buyer_country="JP"))
    assert (reply.translation, reply.buyer_text) == ("not_needed", "お待たせしました")


def test_an_agent_token_carries_the_agent_and_reads_only_its_region() -> None:
    settings = load_settings(
        agent_tokens=[{"agent_id": "jp-aiko", "name": "佐藤 愛子", "region": "JP",
                       "token": "aiko-secret"},
                      {"agent_id": "de-max", "name": "Max Weber", "region": "DE",
                       "token": "max-secret"}],
        feed_tokens={"JP": ["team-secret"]},
    )
    access = WebAccess(settings)
    aiko = access.principal("aiko-secret")
    assert aiko is not None and aiko.agent == AIKO
    assert aiko.reads("JP") and not aiko.reads("DE")
    assert aiko.acts_in("JP") and not aiko.acts_in("DE")
    team = access.principal("team-secret")
    assert team is not None and team.agent is None and not team.acts_in("JP")
    assert [agent.agent_id for agent in access.agents("DE")] == ["de-max"]
    assert json.dumps(settings.model_dump(mode="json")).count("aiko-secret") == 0
