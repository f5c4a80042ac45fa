"""Agents act on cases: the console posts an action, the worker writes it to `case.actions`.

    POST /cases/{case_id}/actions    one action (schemas.actions), JSON:
        {"action_id": "<client id, 8-100 chars>", "kind": "take|reply|note|request_info|
         escalate|propose|close", ...}
        take          {"assignee": "<agent id>"}        (default: the acting agent)
        reply         {"text": "...", "template": "<template id>"}
        note          {"note": "..."}
        request_info  {"evidence": ["photos_of_damage", ...], "text": "..."}
        escalate      {"note": "..."}
        propose       {"resolution": "...", "amount": {"amount": "10.00", "currency": "EUR"},
                       "reason": "..."}
        close         {"note": "..."}
        -> 202 {"action_id", "event_id", "case_id"}
    GET  /agents                      the agents of the token's region (to assign a case to)

Only an agent token acts (`hub.web.access`), and only on cases of its own region: another
region's case is refused with 403, an unknown one 404. The case's order and region come from the
read model. A reply is written in the agent's (region's) language and translated into the
buyer's (their text's language, else their country's) by the glossary-protected translator; the
original is kept. Without a translation provider the reply goes out untranslated, marked `off`;
when the provider fails, untranslated and marked `failed`: a reply is never left pending.

Idempotent by the client's `action_id`: the event id derives from it, so a repeated post is
applied once by the case step; this worker also answers a repeat from memory without writing
it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web as aioweb
from aiokafka import AIOKafkaProducer
from babel.languages import get_official_languages
from faust.web import View
from pydantic import ValidationError

from hub.web.access import Principal, access_of, authenticate, error_response
from schemas.actions import ActionRecord, AgentAction, AgentRef, Reply, ReplyTranslation
from schemas.case import CASE, Case
from schemas.recent import RecentMap
from schemas.settings import Settings
from streams.console_actions import action_event_id
from streams.delivery import acked_producer
from streams.kafka_clients import kafka_client_options
from streams.read_model import ReadModel
from streams.topics import TopicNames
from translations.glossary import primary_language
from translations.labels import REPLY_TEMPLATE
from translations.machine import ResilientTranslator, translator_from_settings
from translations.regions import REGIONS, RegionsConfig

log = logging.getLogger("hub.web.actions")

MAX_BODY_BYTES = 32 * 1024
ANSWERS_REMEMBERED = 10_000
_FIELDS: dict[str, frozenset[str]] = {
    "take": frozenset({"assignee"}),
    "reply": frozenset({"text", "template"}),
    "note": frozenset({"note"}),
    "request_info": frozenset({"evidence", "text"}),
    "escalate": frozenset({"note"}),
    "propose": frozenset({"resolution", "amount", "reason"}),
    "close": frozenset({"note"}),
}


class ActionRefused(Exception):
    """A posted action the hub cannot accept: its status and the reason, for the error body."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def buyer_language(case: Case) -> str | None:
    """The language to answer the buyer in: the one they wrote in, else their country's."""
    written = primary_language(case.reason_language)
    if written:
        return written
    if case.buyer_country:
        official = get_official_languages(case.buyer_country.upper(), de_facto=True)
        if official:
            return str(official[0])
    return None


def action_from_request(
    body: Mapping[str, Any],
    agent: AgentRef,
    *,
    teammates: Callable[[str], AgentRef | None],
    reply: Reply | None = None,
) -> AgentAction:
    """The agent's action from a posted body (the reply already translated by the caller).

    Raises:
        ActionRefused: the body is not a valid action (400).
    """
    kind = body.get("kind")
    if kind not in _FIELDS:
        raise ActionRefused(400, "bad_request", f"kind must be one of {', '.join(_FIELDS)}")
    unknown = sorted(set(body) - _FIELDS[kind] - {"action_id", "kind"})
    if unknown:
        raise ActionRefused(400, "bad_request",
                            f"a {kind} action takes no {', '.join(unknown)}")
    fields: dict[str, Any] = {"action_id": body.get("action_id"), "kind": kind, "agent": agent}
    if kind == "take":
        wanted = body.get("assignee") or agent.agent_id
        assignee = teammates(wanted) if isinstance(wanted, str) else None
        if assignee is None:
            raise ActionRefused(400, "bad_request",
                                f"no agent {wanted!r} in {agent.region} to assign the case to")
        fields["assignee"] = assignee
    elif kind == "reply":
        fields["reply"] = reply
    elif kind in ("note", "escalate", "close"):
        fields["note"] = body.get("note") or None
    elif kind == "request_info":
        fields["request"] = {"evidence": body.get("evidence"), "text": body.get("text") or None}
    elif kind == "propose":
        fields["proposal"] = {name: body.get(name) for name in ("resolution", "amount", "reason")
                              if body.get(name) not in (None, "")}
    try:
        return AgentAction.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or kind}: {error['msg']}" for error in exc.errors()
        )
        raise ActionRefused(400, "bad_request", problems) from None


async def translated_reply(
    translator: ResilientTranslator, text: str, template: str | None, *, agent_language: str,
    case: Case,
) -> Reply:
    """The reply as written and as the buyer receives it. Never pending: untranslated and
    marked `off` without a provider, `failed` when the provider does not answer."""
    target = buyer_language(case) or agent_language
    result = await translator.translate(text, source=agent_language, target=target)
    outcome: ReplyTranslation
    if result.state == "translated":
        outcome = "translated"
    elif result.state == "not_needed":
        outcome = "not_needed"
    else:
        outcome = "off" if translator.translator is None else "failed"
    return Reply(template=template, text=result.original, language=agent_language,
                 buyer_text=result.text or result.original,
                 buyer_language=target if outcome == "translated" else agent_language,
                 translation=outcome)


def register_action_views(
    app: Any, settings: Settings, model: ReadModel, *, regions: RegionsConfig = REGIONS,
    translator: ResilientTranslator | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Add the action endpoint and the team list to the worker's web server."""
    topics = TopicNames(settings.topic_prefix)
    # One attempt: the agent waits for the answer; a reply the provider fails is sent untranslated.
    replies = translator or ResilientTranslator(
        translator_from_settings(settings), timeout=settings.translation_timeout_seconds,
        retries=0)
    answered: RecentMap[str, dict[str, str]] = RecentMap(ANSWERS_REMEMBERED)
    producer: list[AIOKafkaProducer] = []

    async def send(record: ActionRecord) -> None:
        if not producer:
            started = acked_producer(settings.bootstrap_servers,
                                     **kafka_client_options(settings))
            await started.start()
            producer.append(started)
        await (await producer[0].send(topics.case_actions, key=record.case_id.encode(),
                                      value=record.model_dump_json().encode()))

    def teammates_of(request: aioweb.Request, region: str) -> list[AgentRef]:
        access = access_of(request)
        return access.agents(region) if access is not None else []

    async def act(request: aioweb.Request, principal: Principal, case_id: str) -> dict[str, str]:
        agent = principal.agent
        if agent is None:
            raise ActionRefused(403, "forbidden", "only an agent's token may act on cases")
        document = model.case(case_id)
        if document is None:
            raise ActionRefused(404, "not_found", f"no case {case_id!r}")
        try:
            case = CASE.validate_python(document)
        except ValidationError:
            raise ActionRefused(404, "not_found", f"no case {case_id!r}") from None
        routed = [region.code for region in regions.routes_for(case)]
        if agent.region not in routed:
            raise ActionRefused(403, "forbidden",
                                f"the case is not {agent.region}'s: agents act on their region's")
        if not case.order_id:
            raise ActionRefused(409, "conflict", "the case has no order yet: try again later")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise ActionRefused(413, "too_large", f"an action is at most {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ActionRefused(400, "bad_request", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ActionRefused(400, "bad_request", "the body is a JSON object")
        action_id = body.get("action_id")
        remembered = answered.get(f"{case_id}\x1f{action_id}") if isinstance(action_id, str) \
            else None
        if remembered is not None:
            return remembered
        team = {mate.agent_id: mate for mate in teammates_of(request, agent.region)}
        reply = None
        if body.get("kind") == "reply":
            text, template = body.get("text"), body.get("template")
            if template is not None and template not in REPLY_TEMPLATE:
                raise ActionRefused(400, "bad_request", f"no reply template {template!r}")
            if not isinstance(text, str) or not text.strip() or len(text) > 4000:
                raise ActionRefused(400, "bad_request", "a reply has text (1-4000 characters)")
            reply = await translated_reply(replies, text.strip(), template,
                                           agent_language=regions.region(agent.region).language,
                                           case=case)
        action = action_from_request(body, agent, teammates=team.get, reply=reply)
        record = ActionRecord(case_id=case_id, order_id=case.order_id, region=agent.region,
                              at=clock(), action=action)
        await send(record)
        answer = {"action_id": action.action_id, "event_id": action_event_id(action.action_id),
                  "case_id": case_id}
        answered.put(f"{case_id}\x1f{action.action_id}", answer)
        return answer

    class CaseActions(View):
        """POST /cases/{case_id}/actions: one agent action."""

        async def post(self, request: aioweb.Request, case_id: str) -> aioweb.Response:
            principal = authenticate(request)
            if isinstance(principal, aioweb.Response):
                return principal
            try:
                answer = await act(request, principal, case_id)
            except ActionRefused as refused:
                return error_response(refused.status, refused.error, refused.detail)
            return aioweb.json_response(answer, status=202,
                                        headers={"Cache-Control": "no-store"})

    async def list_agents(web: Any, request: aioweb.Request) -> aioweb.Response:
        principal = authenticate(request)
        if isinstance(principal, aioweb.Response):
            return principal
        mine = principal.agent
        agents = teammates_of(request, mine.region) if mine is not None else []
        return aioweb.json_response(
            {"me": mine.model_dump() if mine else None,
             "agents": [agent.model_dump() for agent in agents]},
            dumps=lambda obj: json.dumps(obj, ensure_ascii=False),
            headers={"Cache-Control": "no-store"})

    async def on_shutdown(_: aioweb.Application) -> None:
        for started in producer:
            await started.stop()

    app.page("/cases/{case_id}/actions")(CaseActions)
    app.page("/agents")(list_agents)
    app.web.web_app.on_shutdown.append(on_shutdown)
