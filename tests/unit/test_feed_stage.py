"""The feeds stage's batch without a broker: `render_batch` over records, and the publisher.

One case change routed to DE, JP and SA comes out as three localized views; a dead provider
gives "translation pending" views that the retry later updates, on the worker that owns the case
only; SLA records and the change's own policy deadlines are highlighted; unreadable records and
failed renders are dead-lettered and the rest of the batch goes on. Of several changes of one
case in a batch only the latest is rendered; every case of the batch is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from schemas.case import Case
from schemas.money import Money
from schemas.records import CaseChangeRecord
from schemas.settings import load_settings
from streams.feed_stage import FeedBatch, render_batch
from streams.feeds import ChangeRecord, FeedHub, FeedPublisher, FeedUpdate, build_translators
from streams.read_model import ReadModel
from translations.errors import TranslationUnavailableError
from translations.machine import CircuitBreaker
from translations.regions import REGIONS
from translations.views import LocalizedCaseView

TOPIC = "t.case.changes"
OPENED = datetime(2026, 3, 14, 14, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
"""The renders' clock: past the first-response deadline of `POLICY`."""
POLICY = {
    "deadlines": [
        {"name": "first_response", "due_at": "2026-03-15T14:30:00Z", "state": "open",
         "warn_at": "2026-03-15T10:30:00Z", "met_at": None},
        {"name": "refund", "due_at": "2026-03-10T00:00:00Z", "state": "met",
         "met_at": "2026-03-09T00:00:00Z"},
    ],
}


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


class ManualClock:
    """The circuit breaker's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Record:
    """A `case.changes` record as the consumer gives it."""

    value: bytes | None
    key: bytes | None = None
    offset: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()
    topic: str = TOPIC
    partition: int = 0


@dataclass
class Harness:
    publisher: FeedPublisher
    provider: SwitchableProvider
    clock: ManualClock

    async def batch(self, *records: Record) -> FeedBatch:
        return await render_batch(records, self.publisher)


@pytest.fixture
def harness() -> Harness:
    provider = SwitchableProvider()
    clock = ManualClock()
    hub = FeedHub({region.code: f"t.feed.{region.code.lower()}" for region in REGIONS.regions})
    inline, retrying = build_translators(
        load_settings(translation_provider="none"), hub.memory, provider=provider,
        breaker=CircuitBreaker(failure_threshold=5, reset_timeout=30.0, clock=clock),
    )
    # An empty read model: a view is rendered from its change alone.
    publisher = FeedPublisher(
        translator=inline, retry_translator=retrying, hub=hub, clock=lambda: NOW,
        read_model=ReadModel(cases_topic="t.cases", shipments_topic="t.shipments"),
    )
    return Harness(publisher, provider, clock)


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


def change(case: Case, *, event_type: str = "return.requested", event_id: str = "evt-1",
           policy: dict[str, Any] | None = None, offset: int = 0) -> Record:
    value = CaseChangeRecord(case_id=case.case_id, version=case.version, event_id=event_id,
                             event_type=event_type, changed_fields=["status"], case=case,
                             policy=policy).model_dump_json().encode()
    return Record(value, key=case.case_id.encode(), offset=offset)


def by_region(updates: list[FeedUpdate]) -> dict[str, LocalizedCaseView]:
    published = {update.region.code: update.view for update in updates}
    assert len(published) == len(updates), "one view per region"
    return published


async def test_one_change_becomes_a_localized_view_on_every_region_it_routes_to(
    harness: Harness,
) -> None:
    case = make_case()
    batch = await harness.batch(change(case))
    assert batch.dead_letters == []
    published = by_region(batch.updates)
    assert set(published) == {"DE", "JP", "SA"}
    assert {update.key for update in batch.updates} == {case.case_id.encode()}
    de, jp, sa = published["DE"], published["JP"], published["SA"]
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
    pending = by_region((await harness.batch(change(make_case()))).updates)
    assert {v.reason.state for v in pending.values() if v.reason} == {"pending"}
    assert pending["DE"].reason is not None
    assert pending["DE"].reason.state_label == "Übersetzung ausstehend"
    assert pending["DE"].reason.translated is None

    publisher = harness.publisher
    # Still down: the retry publishes nothing, and the failures open the circuit...
    assert await publisher.retry_pending(lambda case_id: True) == []
    assert publisher.retry_translator.breaker.state == "open"
    calls = len(harness.provider.calls)
    harness.provider.up = True
    # ...which keeps the provider alone until its reset time has passed.
    assert await publisher.retry_pending(lambda case_id: True) == []
    assert len(harness.provider.calls) == calls
    harness.clock.now += 30.0
    updated = by_region(await publisher.retry_pending(lambda case_id: True))
    # Nothing is left to retry.
    assert await publisher.retry_pending(lambda case_id: True) == []

    assert set(updated) == {"DE", "JP", "SA"}
    for region, view in updated.items():
        assert view.version == pending[region].version
        assert view.reason is not None and view.reason.state == "translated"
        assert view.reason.translated is not None
        assert view.requested == pending[region].requested
    assert updated["SA"].reason is not None
    assert updated["SA"].reason.state_label == "ترجمة آلية"


async def test_a_worker_that_does_not_own_the_case_does_not_retry_it(harness: Harness) -> None:
    harness.provider.up = False
    await harness.batch(change(make_case()))
    harness.provider.up = True
    calls = len(harness.provider.calls)
    assert await harness.publisher.retry_pending(lambda case_id: False) == []
    assert harness.publisher.pending == {}
    assert len(harness.provider.calls) == calls


async def test_sla_breach_records_and_policy_deadlines_are_highlighted(harness: Harness) -> None:
    case = make_case(buyer_country="AT", marketplace=None, seller_country=None)
    breach_id = f"{case.case_id}:first_response:breach:2026-03-15T14:30:00Z"
    batch = await harness.batch(change(case, event_type="sla.breach", event_id=breach_id,
                                       policy=POLICY))
    view = by_region(batch.updates)["DE"]
    assert view.alert is not None
    assert (view.alert.kind, view.alert.deadline, view.alert.label) == (
        "breach", "first_response", "SLA überschritten")
    assert view.alert.due.formatted == "15.03.2026, 15:30:00"
    assert view.deadline is not None and view.deadline.at.formatted == "15.03.2026, 15:30:00"


async def test_a_breach_followed_by_another_change_in_the_batch_is_still_highlighted(
    harness: Harness,
) -> None:
    case = make_case(buyer_country="AT", marketplace=None, seller_country=None)
    breach_id = f"{case.case_id}:first_response:breach:2026-03-15T14:30:00Z"
    later = make_case(buyer_country="AT", marketplace=None, seller_country=None, version=3)
    batch = await harness.batch(
        change(case, event_type="sla.breach", event_id=breach_id, policy=POLICY, offset=0),
        change(later, event_type="message.received", policy=POLICY, offset=1),
    )
    view = by_region(batch.updates)["DE"]
    assert view.version == 3
    assert view.alert is not None and (view.alert.kind, view.alert.deadline) == (
        "breach", "first_response"), "recomputed from the latest change's policy"


async def test_several_changes_of_a_case_in_a_batch_give_one_view_per_region_the_latest(
    harness: Harness,
) -> None:
    cases = [make_case(version=version, status=status) for version, status in
             [(2, "requested"), (3, "approved"), (4, "refunded")]]
    other = make_case(case_id="case-order-DE-2", order_id="RKM-2", marketplace=None,
                      seller_country=None)
    batch = await harness.batch(
        change(cases[0], offset=0), change(other, offset=1), change(cases[1], offset=2),
        change(cases[2], offset=3),
    )
    assert batch.dead_letters == []
    views = [(update.region.code, update.view.case_id, update.view.version, update.view.status)
             for update in batch.updates]
    assert sorted(views) == [
        ("DE", "case-order-DE-2", 2, "requested"),
        ("DE", "case-order-DE-JP-SA-1", 4, "refunded"),
        ("JP", "case-order-DE-JP-SA-1", 4, "refunded"),
        ("SA", "case-order-DE-JP-SA-1", 4, "refunded"),
    ]
    # Only the latest change was rendered: one translation per language of each case.
    assert len(harness.provider.calls) == 4


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
async def test_unreadable_records_are_dead_lettered_and_the_batch_goes_on(
    harness: Harness, raw: bytes | None, reason: str
) -> None:
    case = make_case(reason_text=None, reason_language=None)
    bad = Record(raw, key=b"bad-key", offset=7, headers=(("trace", b"1"),))
    batch = await harness.batch(bad, change(case, offset=8))
    assert len(batch.dead_letters) == 1
    letter = batch.dead_letters[0]
    assert (letter.key, letter.value, letter.offset) == (b"bad-key", raw or b"", 7)
    headers = {name: value.decode() for name, value in letter.headers()}
    assert headers["dlq.stage"] == "feeds" and headers["dlq.source"] == "case.changes"
    assert headers["dlq.topic"] == TOPIC and headers["dlq.offset"] == "7"
    assert headers["trace"] == "1"
    assert reason in headers["dlq.reason"]
    assert set(by_region(batch.updates)) == {"DE", "JP", "SA"}


async def test_a_keyless_tombstone_is_dead_lettered(harness: Harness) -> None:
    batch = await harness.batch(Record(None, key=None, offset=3))
    assert [letter.offset for letter in batch.dead_letters] == [3]
    assert "the record has no value" in dict(batch.dead_letters[0].headers())["dlq.reason"].decode()
    assert batch.erased == []


async def test_an_erased_case_is_tombstoned_and_its_earlier_changes_are_not_rendered(
    harness: Harness,
) -> None:
    erased, kept = make_case(), make_case(case_id="case-order-kept", order_id="RKM-2")
    batch = await harness.batch(change(erased, offset=1), change(kept, offset=2),
                                Record(None, key=erased.case_id.encode(), offset=3))
    assert batch.dead_letters == []
    assert batch.erased == [erased.case_id]
    assert {update.view.case_id for update in batch.updates} == {kept.case_id}


async def test_a_case_started_again_after_its_erasure_is_rendered_after_the_tombstones(
    harness: Harness,
) -> None:
    case = make_case()
    batch = await harness.batch(Record(None, key=case.case_id.encode(), offset=1),
                                change(make_case(version=1), offset=2))
    assert batch.erased == [case.case_id]
    assert set(by_region(batch.updates)) == {"DE", "JP", "SA"}


async def test_an_erased_case_has_no_pending_translation_left_to_retry(harness: Harness) -> None:
    harness.provider.up = False
    case = make_case()
    await harness.batch(change(case))
    assert harness.publisher.pending
    await harness.batch(Record(None, key=case.case_id.encode()))
    assert harness.publisher.pending == {}
    harness.provider.up = True
    harness.clock.now += 60.0
    assert await harness.publisher.retry_pending(lambda case_id: True) == []


class FailingFor(FeedPublisher):
    """A publisher whose render of one case raises (a bug, a region's broken catalog)."""

    failing_case: str = ""

    async def views_for(self, change: ChangeRecord) -> tuple[list[FeedUpdate], list[str]]:
        if change.case_id == self.failing_case:
            raise RuntimeError("renderer broke")
        return await super().views_for(change)


async def test_a_change_that_cannot_be_rendered_is_dead_lettered_and_the_batch_goes_on(
    harness: Harness,
) -> None:
    publisher = FailingFor(
        translator=harness.publisher.translator, hub=harness.publisher.hub, clock=lambda: NOW,
        retry_translator=harness.publisher.retry_translator,
        read_model=harness.publisher.read_model,
    )
    publisher.failing_case = "case-order-DE-2"
    broken = make_case(case_id="case-order-DE-2", order_id="RKM-2")
    batch = await render_batch([change(broken, offset=0), change(make_case(), offset=1)],
                               publisher)
    assert [(letter.offset, letter.reason, letter.error) for letter in batch.dead_letters] == [
        (0, "cannot publish feeds: renderer broke", "RuntimeError")]
    assert set(by_region(batch.updates)) == {"DE", "JP", "SA"}


class SlowProvider(SwitchableProvider):
    """A provider that takes its time, and counts the calls it answers at once."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most_at_once = 0

    async def translate(self, text: str, source: str, target: str) -> str:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.01)
            return await super().translate(text, source, target)
        finally:
            self.running -= 1


async def test_cases_are_rendered_concurrently_but_no_more_than_the_bound(
    harness: Harness,
) -> None:
    provider = SlowProvider()
    inline, retrying = build_translators(load_settings(translation_provider="none"),
                                         harness.publisher.hub.memory, provider=provider)
    publisher = FeedPublisher(translator=inline, retry_translator=retrying,
                              read_model=harness.publisher.read_model,
                              hub=harness.publisher.hub, clock=lambda: NOW)
    cases = [make_case(case_id=f"case-order-DE-{n}", order_id=f"RKM-{n}", marketplace=None,
                       seller_country=None, reason_text=f"Broken, parcel {n}")
             for n in range(5)]
    batch = await render_batch([change(case, offset=n) for n, case in enumerate(cases)],
                               publisher, concurrency=2)
    assert [update.view.case_id for update in batch.updates] == [c.case_id for c in cases]
    assert provider.most_at_once == 2
