"""Agents act through a real worker and broker: the console's POST becomes a record on
`case.actions`, the ingest stage makes it an event, and the case shows who did what.

A JP agent takes a case, replies (translated into the buyer's language, the original kept) and
notes; a repeated post is applied once; a DE agent is refused on the JP case (403); a team token
without an agent cannot act. Then actions replayed after a worker is killed with SIGKILL are
applied once each.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas.actions import ActionRecord, AgentAction, AgentRef
from schemas.case import CASE, Case
from streams.cases import case_id_for_order
from tests.integration.test_feeds import TOKENS, new_order, return_story
from tests.support.kafka import produce, read_until
from tests.support.libretranslate import FakeLibreTranslate, fake_translate, running_libretranslate
from tests.support.workers import HubWorker

pytestmark = pytest.mark.integration

AGENTS = [
    {"agent_id": "jp-aiko", "name": "佐藤 愛子", "region": "JP", "token": "tok-agent-jp-aiko"},
    {"agent_id": "jp-ken", "name": "鈴木 健", "region": "JP", "token": "tok-agent-jp-ken"},
    {"agent_id": "de-max", "name": "Max Weber", "region": "DE", "token": "tok-agent-de-max"},
    {"agent_id": "sa-layla", "name": "ليلى العتيبي", "region": "SA",
     "token": "tok-agent-sa-layla"},
]
TOKEN = {agent["agent_id"]: agent["token"] for agent in AGENTS}
ACKNOWLEDGE_JA = ("お問い合わせいただきありがとうございます。"
                  "ご依頼を受け付けました。現在確認しております。")


def agents_env(translator: FakeLibreTranslate | None) -> dict[str, str]:
    env = {"HUB_AGENT_TOKENS": json.dumps(AGENTS, ensure_ascii=False),
           **{f"HUB_FEED_TOKENS__{code}": json.dumps([token]) for code, token in TOKENS.items()}}
    if translator is not None:
        env.update({"HUB_TRANSLATION_PROVIDER": "libre", "HUB_TRANSLATION_URL": translator.url,
                    "HUB_TRANSLATION_TIMEOUT_SECONDS": "2"})
    return env


def agents_worker(bootstrap: str, prefix: str, state_dir: Path,
                  translator: FakeLibreTranslate | None, port: int | None = None) -> HubWorker:
    return HubWorker(bootstrap=bootstrap, topic_prefix=prefix, state_dir=state_dir,
                     app_id=f"hub-{prefix}", web_port=port, extra_env=agents_env(translator))


def call(port: int, path: str, token: str, body: dict[str, Any] | None = None
         ) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     method="POST" if body is not None else "GET")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def readable(port: int, case_id: str, token: str, timeout: float = 60.0) -> dict[str, Any]:
    """The case once the worker's read model has it."""
    async def poll() -> dict[str, Any]:
        while True:
            status, body = await asyncio.to_thread(call, port, f"/cases/{case_id}", token)
            if status == 200:
                return dict(body)
            await asyncio.sleep(0.2)
    return await asyncio.wait_for(poll(), timeout)


async def case_where(bootstrap: str, prefix: str, case_id: str,
                     done: Callable[[Case], bool], timeout: float = 60.0) -> Case:
    def cases(records: list[Any]) -> list[Case]:
        return [CASE.validate_json(r.value) for r in records
                if r.key == case_id.encode() and r.value is not None]
    records = await read_until(bootstrap, f"{prefix}cases",
                               lambda rs: any(done(c) for c in cases(rs)), timeout=timeout)
    return next(c for c in reversed(cases(records)) if done(c))


def action_id() -> str:
    return f"test-{uuid.uuid4().hex}"


async def test_a_jp_agent_takes_replies_and_notes_and_a_de_agent_is_refused(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    order = new_order()
    case_id = case_id_for_order(order)
    with running_libretranslate() as translator, agents_worker(
        bootstrap, topic_prefix, state_dir, translator
    ) as worker:
        port = worker.web_port
        await produce(bootstrap, f"{topic_prefix}raw.hub",
                      return_story(order, buyer="JP", seller="JP", marketplace="rakuma-jp"))
        await readable(port, case_id, TOKEN["jp-aiko"])

        take = {"action_id": action_id(), "kind": "take", "assignee": "jp-ken"}
        status, answer = await asyncio.to_thread(
            call, port, f"/cases/{case_id}/actions", TOKEN["jp-aiko"], take)
        assert status == 202, answer
        assert answer["case_id"] == case_id
        # The same action again (a retry): the same answer, and applied once.
        assert await asyncio.to_thread(
            call, port, f"/cases/{case_id}/actions", TOKEN["jp-aiko"], take) == (202, answer)
        reply = {"action_id": action_id(), "kind": "reply", "template": "acknowledge",
                 "text": ACKNOWLEDGE_JA}
        status, _ = await asyncio.to_thread(
            call, port, f"/cases/{case_id}/actions", TOKEN["jp-aiko"], reply)
        assert status == 202
        note = {"action_id": action_id(), "kind": "note", "note": "写真を確認済み"}
        assert (await asyncio.to_thread(
            call, port, f"/cases/{case_id}/actions", TOKEN["jp-ken"], note))[0] == 202

        # Another region's agent, a team token without an agent, an unknown case.
        status, refused = await asyncio.to_thread(
            call, port, f"/cases/{case_id}/actions", TOKEN["de-max"],
            {"action_id": action_id(), "kind": "close"})
        assert status == 403 and refused["code"] == "forbidden"
        assert "DE" in refused["detail"]
        status, refused = await asyncio.to_thread(
            call, port, f"/cases/{case_id}/actions", TOKENS["JP"],
            {"action_id": action_id(), "kind": "close"})
        assert (status, refused["code"]) == (403, "forbidden")
        status, _ = await asyncio.to_thread(
            call, port, "/cases/case-unknown/actions", TOKEN["jp-aiko"],
            {"action_id": action_id(), "kind": "close"})
        assert status == 404

        case = await case_where(bootstrap, topic_prefix, case_id,
                                lambda c: len(c.history) >= 3)
    assert [(e.action.kind, e.action.agent.agent_id) for e in case.history] == [
        ("take", "jp-aiko"), ("reply", "jp-aiko"), ("note", "jp-ken")]
    assert case.assignee is not None and case.assignee.agent_id == "jp-ken"
    sent = case.history[1].action.reply
    assert sent is not None
    # The buyer wrote in English: the Japanese reply is translated for them, the original kept.
    assert (sent.text, sent.language) == (ACKNOWLEDGE_JA, "ja")
    assert (sent.buyer_text, sent.buyer_language) == (
        fake_translate(ACKNOWLEDGE_JA, "ja", "en"), "en")
    assert sent.translation == "translated"
    assert case.milestones.first_reply_at == case.history[1].at


async def test_without_a_translation_provider_a_reply_is_marked_translation_off(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    order = new_order()
    case_id = case_id_for_order(order)
    with agents_worker(bootstrap, topic_prefix, state_dir, None) as worker:
        await produce(bootstrap, f"{topic_prefix}raw.hub",
                      return_story(order, buyer="SA", seller="SA", marketplace="mercadito-sa"))
        await readable(worker.web_port, case_id, TOKEN["sa-layla"])
        status, _ = await asyncio.to_thread(
            call, worker.web_port, f"/cases/{case_id}/actions", TOKEN["sa-layla"],
            {"action_id": action_id(), "kind": "reply", "text": "شكرًا لتواصلك معنا"})
        assert status == 202
        case = await case_where(bootstrap, topic_prefix, case_id, lambda c: bool(c.history))
    sent = case.history[0].action.reply
    assert sent is not None
    assert (sent.translation, sent.buyer_text) == ("off", "شكرًا لتواصلك معنا")


async def test_actions_replayed_after_a_worker_is_killed_apply_once(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Action records (each twice, as a retried post writes them) reach a worker that is
    killed with SIGKILL mid-stream; a new worker replays what was not committed."""
    orders = [new_order() for _ in range(40)]
    raw = [record for order in orders
           for record in return_story(order, buyer="JP", seller="JP", marketplace="rakuma-jp")]
    agent = AgentRef(agent_id="jp-aiko", name="佐藤 愛子", region="JP")
    actions = []
    for number, order in enumerate(orders):
        for minute, (kind, extra) in enumerate((
                ("take", {"assignee": agent}), ("note", {"note": f"note {number}"}),
                ("escalate", {"note": "needs a supervisor"}))):
            action = AgentAction(action_id=f"crash-{number}-{kind}-{topic_prefix}", kind=kind,
                                 agent=agent, **extra)  # type: ignore[arg-type]
            actions.append(ActionRecord(case_id=case_id_for_order(order), order_id=order,
                                        region="JP", at=f"2026-03-15T09:0{minute}:00Z",
                                        action=action))
    values = [(a.case_id.encode(), a.model_dump_json().encode()) for a in actions]
    state = tmp_path / "a"
    first = agents_worker(bootstrap, topic_prefix, state, None).start()
    try:
        await produce(bootstrap, f"{topic_prefix}raw.hub", raw)
        await produce(bootstrap, f"{topic_prefix}case.actions", values + values)
        await read_until(bootstrap, f"{topic_prefix}cases", lambda rs: sum(
            1 for r in rs if r.value and b'"history":[{' in r.value) >= 10, timeout=120)
    finally:
        first.kill()
    with agents_worker(bootstrap, topic_prefix, state, None, port=first.web_port):
        def complete(records: list[Any]) -> bool:
            latest = {r.key: r.value for r in records if r.value is not None}
            return all(len(CASE.validate_json(latest[key]).history) >= 3
                       for key in (case_id_for_order(o).encode() for o in orders)
                       if key in latest) and len(latest) >= len(orders)
        records = await read_until(bootstrap, f"{topic_prefix}cases", complete, timeout=300)
    latest = {r.key.decode(): CASE.validate_json(r.value) for r in records if r.value}
    for order in orders:
        case = latest[case_id_for_order(order)]
        assert [e.action.kind for e in case.history] == ["take", "note", "escalate"], case
        assert case.escalated and case.assignee == agent
