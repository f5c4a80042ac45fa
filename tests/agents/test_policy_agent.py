"""The `policy` agent with faust's `test_context()`: snapshots and ticks in, records out.

Sends are captured (faust's `Topic.send` replaced for the test); the `policy_clocks` table is a
`memory://` store; no settle window unless a test says otherwise. Cases are German Shopify
returns requested at T0: first response due at T0 + 48 h, warned at T0 + 36 h.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
import pytest

from hub.settings import load_settings
from schemas.case import CASE, Case, CaseMilestones
from streams.case_stream import CaseChangeRecord, partition_of
from streams.policy import load_policy
from streams.policy.steps import POLICY_TICK, PolicyTick, decode_state
from streams.policy_stream import TICK_KEY, register_policy_stream
from streams.topics import TopicNames

PARTITIONS = 4
PREFIX = "t."
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
DUE = T0 + timedelta(hours=48)


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def case_factory(case_id: str = "case-a", version: int = 1, **milestones: Any) -> Case:
    return Case(
        case_id=case_id, order_id=f"o-{case_id}", marketplace="shopify", buyer_country="DE",
        version=version, opened_at=T0, updated_at=max([T0, *milestones.values()]),
        milestones=CaseMilestones(return_requested_at=T0, **milestones),
    )


class Harness:
    def __init__(self, agent: Any, app: Any, sent: list[Sent]) -> None:
        self.agent = agent
        self.app = app
        self.sent = sent

    async def snapshot(self, case: Case) -> None:
        key = case.case_id.encode()
        await self.agent.put(key=key, value=CASE.dump_json(case),
                             partition=partition_of(key, PARTITIONS))

    async def tick(self, at: datetime, partition: int) -> None:
        await self.agent.put(key=TICK_KEY, value=POLICY_TICK.dump_json(PolicyTick(at=at)),
                             partition=partition)

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == PREFIX + topic]

    def sla_records(self) -> list[CaseChangeRecord]:
        return [CaseChangeRecord.model_validate_json(s.value) for s in self.on("case.changes")]

    def latest_policy(self, case_id: str) -> dict[str, Any]:
        found = [s for s in self.on("case.policy") if s.key == case_id.encode()]
        assert found, f"no case.policy record for {case_id}"
        document: dict[str, Any] = json.loads(found[-1].value)
        return document


@asynccontextmanager
async def running_agent(
    monkeypatch: pytest.MonkeyPatch, *, settle: float
) -> AsyncIterator[Harness]:
    sent: list[Sent] = []

    async def capture(self: Any, *, key: Any = None, value: Any = None, partition: Any = None,
                      headers: Any = None, **_: Any) -> None:
        sent.append(Sent(self.get_topic_name(), key, value, dict(headers or [])))

    monkeypatch.setattr(faust.Topic, "send", capture)
    settings = load_settings(partitions=PARTITIONS, topic_prefix=PREFIX)
    app = faust.App("test-policy-agent", broker="kafka://127.0.0.1:1", store="memory://",
                    autodiscover=False)
    register_policy_stream(app, settings, TopicNames(PREFIX), load_policy(),
                           settle_seconds=settle)
    async with app.agents["policy"].test_context() as agent:
        yield Harness(agent, app, sent)


@pytest.fixture
async def harness(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    """The agent without a settle window: ticks judge cases at once."""
    async with running_agent(monkeypatch, settle=0) as running:
        yield running


def partition(case_id: str) -> int:
    return partition_of(case_id.encode(), PARTITIONS)


async def test_a_snapshot_is_assessed_and_published_to_case_policy(harness: Harness) -> None:
    await harness.snapshot(case_factory())

    policy = harness.latest_policy("case-a")
    assert policy["case_version"] == 1
    assert [(d["name"], d["state"], d["due_at"]) for d in policy["deadlines"]] == [
        ("first_response", "open", "2026-03-04T10:00:00Z")
    ]
    assert policy["window"]["state"] and policy["responsibility"]["resolution"]
    assert "first-response-default" in policy["rule_ids"]
    assert harness.sla_records() == []
    stored = harness.app.tables["policy_clocks"][b"case-a"]
    assert decode_state(stored).case.version == 1


async def test_ticks_fire_warning_and_breach_once_as_case_changes(harness: Harness) -> None:
    await harness.snapshot(case_factory())
    for at in (hours(10), hours(37), hours(49), hours(60)):
        await harness.tick(at, partition("case-a"))

    records = harness.sla_records()
    assert [(r.event_type, r.event_id) for r in records] == [
        ("sla.warning", "case-a:first_response:warning:2026-03-04T10:00:00Z"),
        ("sla.breach", "case-a:first_response:breach:2026-03-04T10:00:00Z"),
    ]
    assert all(r.changed_fields == ["sla"] and r.case.version == 1 for r in records)
    policy = harness.latest_policy("case-a")
    assert policy["breached"] == ["first_response"]
    assert policy["deadlines"][0]["state"] == "breached"
    assert policy["notifications"] == [r.event_id for r in records]


async def test_a_tick_only_touches_the_cases_of_its_partition(harness: Harness) -> None:
    other = next(p for p in range(PARTITIONS) if p != partition("case-a"))
    await harness.snapshot(case_factory())

    await harness.tick(hours(49), other)
    assert harness.sla_records() == []

    await harness.tick(hours(49), partition("case-a"))
    assert len(harness.sla_records()) == 2


async def test_a_replayed_tick_resends_the_same_ids_and_never_new_ones(harness: Harness) -> None:
    await harness.snapshot(case_factory())
    await harness.tick(hours(49), partition("case-a"))
    await harness.tick(hours(49), partition("case-a"))  # the same tick, redelivered
    await harness.tick(hours(50), partition("case-a"))

    ids = [r.event_id for r in harness.sla_records()]
    assert len(set(ids)) == 2
    assert ids[2:] == ids[:2]  # the redelivered tick sent the very same records again


async def test_old_events_give_the_same_breach_on_the_next_tick(harness: Harness) -> None:
    await harness.snapshot(case_factory())
    await harness.snapshot(case_factory(version=2, responded_at=hours(60)))
    assert harness.sla_records() == []  # the deadline still exists: a tick judges it

    await harness.tick(datetime.now(UTC), partition("case-a"))

    assert [r.event_type for r in harness.sla_records()] == ["sla.warning", "sla.breach"]
    policy = harness.latest_policy("case-a")
    assert policy["breached"] == ["first_response"]
    assert policy["deadlines"][0]["state"] == "met_late"


async def test_a_deadline_ended_by_a_change_fires_without_a_tick(harness: Harness) -> None:
    # A return parcel scanned at T0 + 10 h and next at T0 + 178 h: the first scan's 5-day
    # scan-gap deadline ended breached, replaced by the new scan's.
    await harness.snapshot(case_factory(responded_at=hours(1), last_return_scan_at=hours(10)))
    await harness.snapshot(case_factory(version=2, responded_at=hours(1),
                                        last_return_scan_at=hours(178)))

    assert [(r.event_type, r.event_id.split(":")[1]) for r in harness.sla_records()] == [
        ("sla.warning", "return_scan_gap"), ("sla.breach", "return_scan_gap"),
    ]
    assert all(r.case.version == 2 for r in harness.sla_records())


async def test_a_case_is_judged_only_once_it_has_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_agent(monkeypatch, settle=3600) as running:
        await running.snapshot(case_factory())
        now = datetime.now(UTC)

        await running.tick(now, partition("case-a"))
        assert running.sla_records() == []

        await running.tick(now + timedelta(hours=2), partition("case-a"))
        assert [r.event_type for r in running.sla_records()] == ["sla.warning", "sla.breach"]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        pytest.param(b"case-x", b"not json", "cannot apply the policy", id="garbage"),
        pytest.param(b"case-other", CASE.dump_json(case_factory()), "is not the case id",
                     id="key-mismatch"),
        pytest.param(TICK_KEY, b'{"kind": "policy.tick"}', "cannot apply the policy",
                     id="tick-without-time"),
    ],
)
async def test_bad_records_go_to_dlq_policy_and_the_agent_goes_on(
    harness: Harness, key: bytes, value: bytes, reason: str
) -> None:
    await harness.agent.put(key=key, value=value, partition=0)
    await harness.snapshot(case_factory())

    dead = harness.on("dlq.policy")
    assert len(dead) == 1
    assert (dead[0].key, dead[0].value) == (key, value)
    assert dead[0].headers["dlq.stage"] == b"policy"
    assert reason in dead[0].headers["dlq.reason"].decode()
    assert harness.latest_policy("case-a")["case_version"] == 1
