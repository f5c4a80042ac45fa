"""FeedPublisher without Kafka: the reason text translated once per language, one or several.

A case routed to one language is translated without a task per language; a translator that
breaks its contract (raises) must still leave every region's view published, its reason shown
as pending, whether the case routes to one language or to several.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.case import Case
from streams.feeds import ChangeRecord, FeedHub, FeedPublisher
from streams.read_model import ReadModel
from tests.support.translators import EchoTranslator
from translations.glossary import primary_language
from translations.machine import ResilientTranslator, TranslationResult
from translations.regions import REGIONS

OPENED = datetime(2026, 3, 14, 12, 30, tzinfo=UTC)
NOW = OPENED + timedelta(hours=3)
REASON = "Le colis est arrivé endommagé, appelez-moi au +33 1 23 45 67 89"
MASKED = "Le colis est arrivé endommagé, appelez-moi au [phone]"


class ContractBreaking(ResilientTranslator):
    """A translator that raises for some target languages instead of answering pending."""

    def __init__(self, provider: EchoTranslator, failing: set[str]) -> None:
        super().__init__(provider, retries=0)
        self.failing = failing

    async def translate(self, text: str, *, source: str | None, target: str) -> TranslationResult:
        if primary_language(target) in self.failing:
            raise RuntimeError(f"no {target} today")
        return await super().translate(text, source=source, target=target)


def publisher(translator: ResilientTranslator) -> FeedPublisher:
    return FeedPublisher(
        translator=translator, retry_translator=translator,
        read_model=ReadModel(cases_topic="cases", shipments_topic="shipments"),
        hub=FeedHub({region.code: f"feed.{region.code}" for region in REGIONS.regions}),
        clock=lambda: NOW,
    )


def change(**overrides: Any) -> ChangeRecord:
    fields: dict[str, Any] = {
        "case_id": "case:order:77", "order_id": "77", "buyer_country": "DE",
        "reason_text": REASON, "reason_language": "fr", "opened_at": OPENED,
        "updated_at": OPENED, "version": 4,
    }
    fields.update(overrides)
    case = Case(**fields)
    return ChangeRecord(case_id=case.case_id, version=case.version, case=case)


def reasons(updates: list[Any]) -> dict[str, tuple[str, str | None, str]]:
    return {update.region.code: (update.view.reason.state, update.view.reason.translated,
                                 update.view.reason.original) for update in updates}


async def test_one_language_is_translated_once_and_masked_before_sending() -> None:
    provider = EchoTranslator()
    updates, failures = await publisher(ResilientTranslator(provider)).views_for(change())
    assert failures == []
    assert reasons(updates) == {"DE": ("translated", f"<de> {MASKED}", MASKED)}
    assert provider.sent == [(MASKED, "fr", "de")]


async def test_several_languages_are_each_translated_once() -> None:
    provider = EchoTranslator()
    updates, failures = await publisher(ResilientTranslator(provider)).views_for(
        change(marketplace="shopify"))
    assert failures == []
    assert reasons(updates) == {
        "US": ("translated", f"<en> {MASKED}", MASKED),
        "DE": ("translated", f"<de> {MASKED}", MASKED),
    }
    assert sorted(provider.sent) == [(MASKED, "fr", "de"), (MASKED, "fr", "en")]


@pytest.mark.parametrize(
    ("overrides", "failing", "expected"),
    [
        pytest.param({}, {"de"}, {"DE": "pending"}, id="one-language"),
        pytest.param({"marketplace": "shopify"}, {"en"}, {"US": "pending", "DE": "translated"},
                     id="one-of-two-languages"),
        pytest.param({"marketplace": "shopify"}, {"en", "de"},
                     {"US": "pending", "DE": "pending"}, id="both-languages"),
    ],
)
async def test_a_translator_that_raises_leaves_the_reason_pending(
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any], failing: set[str], expected: dict[str, str],
) -> None:
    translator = ContractBreaking(EchoTranslator(), failing)
    with caplog.at_level(logging.ERROR, logger="streams.feeds"):
        updates, failures = await publisher(translator).views_for(change(**overrides))
    assert failures == []
    assert {code: state for code, (state, _, _) in reasons(updates).items()} == expected
    assert all(original == MASKED for _, _, original in reasons(updates).values())
    raised = [record for record in caplog.records if "translator raised" in record.getMessage()]
    assert len(raised) == len(failing)
    assert all("case:order:77" in record.getMessage() for record in raised)
