"""The case stream on the real broker: scenarios, arrival order, duplicates, parking, queries."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.sample_traffic import generate
from streams.cases import case_id_for_order
from tests.support.kafka import produce, read_all, read_until, wait_caught_up
from tests.support.stories import (
    all_done,
    conflicting_changes,
    expected_cases,
    indexed,
    latest_cases,
    produce_payloads,
)
from tests.support.workers import HubWorker

pytestmark = pytest.mark.integration


OPERATOR_TOKEN = "tok-operator-3c8f"
"""Reads every region: the stories' cases route to several."""


def worker(bootstrap: str, prefix: str, state_dir: Path, **env: str) -> HubWorker:
    return HubWorker(
        bootstrap=bootstrap,
        topic_prefix=prefix,
        state_dir=state_dir,
        app_id=f"hub-{prefix}",
        extra_env={"HUB_OPERATOR_TOKENS": json.dumps([OPERATOR_TOKEN]), **env},
    )


def get_json(port: int, path: str, token: str | None = OPERATOR_TOKEN) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_return_and_refund_stories_from_three_kinds_of_provider(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    stories = generate(6)
    expected = expected_cases(stories)
    with worker(bootstrap, topic_prefix, state_dir) as running:
        await produce_payloads(bootstrap, topic_prefix, indexed(stories))
        records = await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected))
        latest = latest_cases(records)
        assert latest == expected
        for story in stories:
            case = latest[case_id_for_order(story.order_id)]
            assert case.status == story.expected_status
            assert {m.currency: m.amount for m in case.refunded} == story.expected_refunded

        # The query API answers from any worker's read model.
        shopify_story = stories[0]
        case_id = case_id_for_order(shopify_story.order_id)
        status, body = get_json(running.web_port, f"/cases/{case_id}")
        assert status == 200 and body["status"] == "refunded"
        assert Decimal(body["refunded"][0]["amount"]) == shopify_story.expected_refunded["EUR"]
        status, listed = get_json(running.web_port, f"/cases?order_id={shopify_story.order_id}")
        assert status == 200 and [c["case_id"] for c in listed] == [case_id]
        assert get_json(running.web_port, "/cases/case-unknown")[0] == 404
        assert get_json(running.web_port, "/cases")[0] == 400
        assert get_json(running.web_port, "/cases?order=1")[0] == 400
        assert get_json(running.web_port, "/shipments/NOPE")[0] == 404
        assert get_json(running.web_port, f"/cases/{case_id}", token=None)[0] == 401


async def test_shuffled_arrival_gives_identical_cases(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    stories = generate(8, seed=11)
    expected = expected_cases(stories)
    shuffled = indexed(stories)
    random.Random(2026).shuffle(shuffled)
    with worker(bootstrap, topic_prefix, state_dir):
        await produce_payloads(bootstrap, topic_prefix, shuffled)
        records = await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected))
    assert latest_cases(records) == expected


async def test_duplicate_delivery_changes_nothing(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    stories = generate(4, seed=5)
    expected = expected_cases(stories)
    payloads = indexed(stories)
    with worker(bootstrap, topic_prefix, state_dir):
        # Every webhook delivered twice, the second copy after everything else.
        await produce_payloads(bootstrap, topic_prefix, payloads + payloads)
        records = await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected))
        # Every copy has reached the case step (and anything it would send is on the topic).
        sources = sorted({payload.source for _, payload in payloads})
        raw_topics = [f"{topic_prefix}raw.{source}" for source in sources]
        await wait_caught_up(bootstrap, f"hub-{topic_prefix}-ingest", raw_topics, timeout=60)
        await wait_caught_up(bootstrap, f"hub-{topic_prefix}-case-step",
                             [f"{topic_prefix}case.inbox"], timeout=60)
        changes = await read_all(bootstrap, f"{topic_prefix}case.changes")
    latest = latest_cases(records)
    assert latest == expected
    assert all(case.version == expected[case.case_id].version for case in latest.values())
    assert conflicting_changes(changes) == []


async def test_event_that_never_gets_its_link_expires_to_the_dead_letter_topic(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    orphan = json.dumps(
        {
            "id": "evt_orphan_1",
            "object": "event",
            "api_version": "2024-06-20",
            "created": 1767225600,
            "type": "refund.created",
            "livemode": False,
            "data": {
                "object": {
                    "id": "re_orphan_1",
                    "object": "refund",
                    "amount": 500,
                    "currency": "eur",
                    "charge": "ch_orphan_1",
                    "created": 1767225600,
                    "metadata": {},
                    "status": "succeeded",
                }
            },
        }
    ).encode()
    with worker(
        bootstrap,
        topic_prefix,
        state_dir,
        HUB_PARKED_EVENT_TTL_SECONDS="2",
        HUB_PARKED_CHECK_INTERVAL_SECONDS="0.5",
    ):
        await produce(bootstrap, f"{topic_prefix}raw.stripe", [(b"evt_orphan_1", orphan)])
        dead = await read_until(
            bootstrap, f"{topic_prefix}dlq.cases", lambda found: len(found) >= 1
        )
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert headers["dlq.error"] == "ParkedEventExpired"
    assert "payment:ch_orphan_1" in headers["dlq.reason"]
    assert json.loads(dead[0].value)["refund_id"] == "re_orphan_1"
    # Replaying the letter parks the event again, where a link may exist by then.
    assert headers["dlq.topic"] == f"{topic_prefix}case.inbox"
    assert headers["hub.message"] == "pending"


async def test_parked_event_is_applied_when_its_link_arrives_later(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    stories = generate(2, seed=3)
    expected = expected_cases(stories)
    payloads = indexed(stories)
    # Refunds and return labels first: they name no order and must wait for their links.
    waiting = [
        p for p in payloads if p[1].source in ("stripe",) or b"shipping_deliverable" in p[1].body
    ]
    rest = [p for p in payloads if p not in waiting]
    with worker(bootstrap, topic_prefix, state_dir):
        await produce_payloads(bootstrap, topic_prefix, waiting)
        await produce_payloads(bootstrap, topic_prefix, rest)
        records = await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected))
    assert latest_cases(records) == expected
