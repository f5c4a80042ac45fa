"""The feed agent under faust's `test_context()`: no broker; topic sends are captured.

One case change routed to DE, JP and SA comes out as three localized views; a dead provider
gives "translation pending" views that the retry timer's body later updates; SLA records are
highlighted; unreadable records are dead-lettered and the agent keeps going. The FeedHub's own
rules (versions, slow subscribers, translation memory) are checked without a loop of records.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import faust
import pytest
from faust.topics import Topic

from hub.settings import load_settings
from schemas.case import Case
from schemas.money import Money
from schemas.records import CaseChangeRecord
from streams.feeds import FeedHub, Feeds, register_feeds
from streams.read_model import ReadModel
from streams.topics import TopicNames
from translations.errors import TranslationUnavailableError
from translations.machine import AUTO, CircuitBreaker, MemoryKey
from translations.views import LocalizedCaseView

PREFIX = "t."
TOPICS = TopicNames(PREFIX)
OPENED = datetime(2026, 3, 14, 14, 30, tzinfo=UTC)


class SwitchableProvider:
    """A `Translator` that answers `[<target>] <text>`, or fails while `up` is False."""

    def __init__(self) -> None:
        self.up = True
        self.calls: list[tuple[str, str, str]] = []

    async def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        if not self.up:
            raise TranslationUnavailableError("cannot connect to the provider", provider="fake")
        return f"[{target}] {text}"


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]


class Outbox:
    """Every `Topic.send` of the test, with a way to wait for some."""

    def __init__(self) -> None:
        self.records: list[Sent] = []
        self._changed = asyncio.Condition()

    async def send(self, topic: Topic, *, key: Any = None, value: Any = None,
                   headers: Any = None, **_: Any) -> None:
        self.records.append(Sent(topic.get_topic_name(), key, value,
                                 {k: v.decode() for k, v in headers or []}))
        async with self._changed:
            self._changed.notify_all()

    def on(self, topic: str) -> list[Sent]:
        return [record for record in self.records if record.topic == topic]

    async def wait_for(self, done: Callable[[list[Sent]], bool], timeout: float = 10.0) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: done(self.records))
        await asyncio.wait_for(wait(), timeout)


class ManualClock:
    """The circuit breaker's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    app: Any
    feeds: Feeds
    read_model: ReadModel
    provider: SwitchableProvider
    outbox: Outbox
    clock: ManualClock


@pytest.fixture
def harness() -> Iterator[Harness]:
    app = faust.App(f"feeds-test-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1",
                    store="memory://", autodiscover=False, web_enabled=False)
    read_model = ReadModel(cases_topic=TOPICS.cases, shipments_topic=TOPICS.shipments,
                           policy_topic=TOPICS.case_policy)
    provider = SwitchableProvider()
    settings = load_settings(topic_prefix=PREFIX, translation_provider="none")
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=5, reset_timeout=30.0, clock=clock)
    feeds = register_feeds(app, settings, TOPICS, read_model, provider=provider, breaker=breaker)
    outbox = Outbox()
    with patch.object(Topic, "send", autospec=True, side_effect=outbox.send):
        yield Harness(app, feeds, read_model, provider, outbox, clock)


def make_case(**overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "case_id": "case-order-DE-JP-SA-1", "order_id": "RKM-1", "marketplace": "rakuma-jp",
        "buyer_country": "DE", "seller_country": "SA", "reason_code": "damaged",
        "reason_text": "The box arrived damaged, call me at +49 30 1234567",
        "reason_language": "en",
        "requested": Money(amount=Decimal("1234.56"), currency="EUR"),
        "opened_at": OPENED, "updated_at": OPENED, "version": 2,
    }
    fields.update(overrides)
    return Case(**fields)


def change(case: Case, *, event_type: str = "return.requested", event_id: str = "evt-1") -> bytes:
    return CaseChangeRecord(case_id=case.case_id, version=case.version, event_id=event_id,
                            event_type=event_type, changed_fields=["status"],
                            case=case).model_dump_json().encode()


def views(sent: list[Sent]) -> dict[str, LocalizedCaseView]:
    return {record.topic.removeprefix(f"{PREFIX}feed."): LocalizedCaseView.model_validate_json(
        record.value) for record in sent if record.topic.startswith(f"{PREFIX}feed.")}


async def test_one_change_becomes_a_localized_view_on_every_region_it_routes_to(
    harness: Harness,
) -> None:
    case = make_case()
    async with harness.app.agents["feeds"].test_context() as agent:
        await agent.put(value=change(case), key=case.case_id.encode())
        await harness.outbox.wait_for(lambda records: len(records) >= 3)
    published = views(harness.outbox.records)
    assert set(published) == {"de", "jp", "sa"}
    assert {r.key for r in harness.outbox.records} == {case.case_id.encode()}
    de, jp, sa = published["de"], published["jp"], published["sa"]
    assert de.requested is not None and de.requested.formatted == "1.234,56\xa0€"
    assert jp.requested is not None and jp.requested.formatted == "€1,234.56"
    assert sa.requested is not None and sa.requested.formatted == "\u200f١٬٢٣٤٫٥٦\xa0€"
    assert (de.status_label, jp.status_label, sa.status_label) == (
        "Beantragt", "申請済み", "تم تقديم الطلب")
    assert (de.direction, sa.direction) == ("ltr", "rtl")
    masked = "The box arrived damaged, call me at [phone]"
    for region, view in published.items():
        assert view.reason is not None and view.reason.state == "translated"
        assert view.reason.original == masked, "personal data is masked before it is shown"
        assert view.reason.translated == f"[{view.locale[:2]}] {masked}", region
        assert view.version == 2
    # The provider never saw the phone number.
    assert all("1234567" not in text for text, _, _ in harness.provider.calls)


async def test_a_dead_provider_gives_pending_views_that_the_retry_updates(
    harness: Harness,
) -> None:
    harness.provider.up = False
    case = make_case()
    async with harness.app.agents["feeds"].test_context() as agent:
        await agent.put(value=change(case), key=case.case_id.encode())
        await harness.outbox.wait_for(lambda records: len(records) >= 3)
        pending = views(harness.outbox.records)
        assert {v.reason.state for v in pending.values() if v.reason} == {"pending"}
        assert pending["de"].reason is not None
        assert pending["de"].reason.state_label == "Übersetzung ausstehend"
        assert pending["de"].reason.translated is None

        # Still down: the retry publishes nothing, and the failures open the circuit...
        assert await harness.feeds.retry_once(lambda case_id: True) == 0
        breaker = harness.feeds.publisher.retry_translator.breaker
        assert breaker.state == "open"
        calls = len(harness.provider.calls)
        harness.provider.up = True
        # ...which keeps the provider alone until its reset time has passed.
        assert await harness.feeds.retry_once(lambda case_id: True) == 0
        assert len(harness.provider.calls) == calls
        harness.clock.now += 30.0
        assert await harness.feeds.retry_once(lambda case_id: True) == 3
        # Nothing is left to retry.
        assert await harness.feeds.retry_once(lambda case_id: True) == 0

    updated = views(harness.outbox.records[3:])
    assert set(updated) == {"de", "jp", "sa"}
    for region, view in updated.items():
        assert view.version == pending[region].version
        assert view.reason is not None and view.reason.state == "translated"
        assert view.reason.translated is not None
        assert view.requested == pending[region].requested
    assert updated["sa"].reason is not None
    assert updated["sa"].reason.state_label == "ترجمة آلية"


async def test_a_worker_that_does_not_own_the_case_does_not_retry_it(harness: Harness) -> None:
    harness.provider.up = False
    case = make_case()
    async with harness.app.agents["feeds"].test_context() as agent:
        await agent.put(value=change(case), key=case.case_id.encode())
        await harness.outbox.wait_for(lambda records: len(records) >= 3)
        harness.provider.up = True
        assert await harness.feeds.retry_once(lambda case_id: False) == 0
    assert harness.feeds.publisher.pending == {}


async def test_sla_breach_records_and_policy_deadlines_are_highlighted(harness: Harness) -> None:
    case = make_case(buyer_country="AT", marketplace=None, seller_country=None)
    harness.read_model.policies[case.case_id] = json.dumps({
        "case_id": case.case_id,
        "deadlines": [
            {"name": "first_response", "due_at": "2026-03-15T14:30:00Z", "state": "open",
             "warn_at": "2026-03-15T10:30:00Z", "met_at": None},
            {"name": "refund", "due_at": "2026-03-10T00:00:00Z", "state": "met",
             "met_at": "2026-03-09T00:00:00Z"},
        ],
    }).encode()
    breach_id = f"{case.case_id}:first_response:breach:2026-03-15T14:30:00Z"
    async with harness.app.agents["feeds"].test_context() as agent:
        await agent.put(value=change(case, event_type="sla.breach", event_id=breach_id),
                        key=case.case_id.encode())
        await harness.outbox.wait_for(lambda records: len(records) >= 1)
    view = views(harness.outbox.records)["de"]
    assert view.alert is not None
    assert (view.alert.kind, view.alert.deadline, view.alert.label) == (
        "breach", "first_response", "SLA überschritten")
    assert view.alert.due.formatted == "15.03.2026, 15:30:00"
    assert view.deadline is not None and view.deadline.at.formatted == "15.03.2026, 15:30:00"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"\xff not json", "not a case change record", id="garbage"),
        pytest.param(b'{"case_id": "c", "version": 1}', "not a case change record: case",
                     id="no-case"),
        pytest.param(
            CaseChangeRecord(case_id="other", version=1, event_id="e", event_type="t",
                             changed_fields=[], case=make_case()).model_dump_json().encode(),
            "differs from the case's", id="key-mismatch"),
    ],
)
async def test_unreadable_records_are_dead_lettered_and_the_agent_goes_on(
    harness: Harness, raw: bytes, reason: str
) -> None:
    case = make_case(reason_text=None, reason_language=None)
    async with harness.app.agents["feeds"].test_context() as agent:
        await agent.put(value=raw, key=b"bad-key", headers=[("trace", b"1")])
        await agent.put(value=change(case), key=case.case_id.encode())
        await harness.outbox.wait_for(lambda records: len(records) >= 4)
    dead = harness.outbox.on(f"{PREFIX}dlq.feeds")
    assert len(dead) == 1
    assert dead[0].value == raw and dead[0].key == b"bad-key"
    assert dead[0].headers["dlq.stage"] == "feeds"
    assert dead[0].headers["trace"] == "1"
    assert reason in dead[0].headers["dlq.reason"]
    assert set(views(harness.outbox.records)) == {"de", "jp", "sa"}


def view_bytes(version: int, *, state: str = "translated", status: str = "requested") -> bytes:
    return json.dumps({
        "case_id": "c1", "version": version, "status": status, "locale": "de_DE",
        "updated": {"utc": f"2026-03-14T1{version}:00:00Z"},
        "reason": {"original": "The box", "language": "en", "translated": "Die Schachtel",
                   "state": state},
    }).encode()


async def test_feed_hub_keeps_the_newest_version_and_learns_translations() -> None:
    hub = FeedHub({"DE": "feed.de"})
    hub.apply("feed.de", b"c1", view_bytes(3, state="pending"))
    hub.apply("feed.de", b"c1", view_bytes(2))
    assert hub.latest("DE", "c1") is not None and hub.latest("DE", "c1").version == 3  # type: ignore[union-attr]
    assert [region for region, _, _ in hub.pending()] == ["DE"]
    hub.apply("feed.de", b"c1", view_bytes(3))
    assert list(hub.pending()) == []
    assert hub.memory.get(MemoryKey.of("The box", "en", "de")) == "Die Schachtel"
    assert MemoryKey.of("The box", AUTO, "de") != MemoryKey.of("The box", "en", "de")
    assert hub.views("DE", status="closed") == [] and len(hub.views("DE")) == 1
    hub.apply("feed.de", b"c1", None)
    assert hub.views("DE") == []


async def test_a_slow_subscriber_is_dropped_and_the_others_keep_receiving() -> None:
    hub = FeedHub({"DE": "feed.de"}, queue_size=2)
    with hub.subscribe("DE") as slow, hub.subscribe("DE") as fast:
        for version in (1, 2):
            hub.apply("feed.de", b"c1", view_bytes(version))
            assert await fast.get(1.0) == view_bytes(version)
        hub.apply("feed.de", b"c1", view_bytes(3))
        assert slow.dropped and await slow.get(1.0) is None
        assert await fast.get(1.0) == view_bytes(3)
        assert hub.subscriber_count("DE") == 1
    assert hub.subscriber_count("DE") == 0
