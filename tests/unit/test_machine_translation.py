"""Machine translation against a local LibreTranslate stand-in: success, memory, outage, recovery.

The provider is `tests.support.libretranslate`, a real HTTP server on 127.0.0.1 started by each
test; the circuit breaker's clock and the backoff's sleep are injected, so no test waits on the
wall clock beyond the explicit small timeouts of the hang test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from unittest.mock import Mock

import pytest
import requests
from deep_translator import exceptions as dt

from schemas.case import Case
from schemas.errors import ConfigurationError
from schemas.settings import load_settings
from tests.support.libretranslate import FakeLibreTranslate, running_libretranslate
from tests.support.translators import EchoTranslator
from translations.errors import TranslationUnavailableError
from translations.glossary import GLOSSARY, Glossary
from translations.machine import (
    Backoff,
    CircuitBreaker,
    DeepTranslatorAdapter,
    InMemoryTranslationMemory,
    MemoryKey,
    ResilientTranslator,
    _map_error,
    resilient_translator_from_settings,
    translator_from_settings,
)
from translations.privacy import MASK_CACHE_SIZE, mask_personal_data, masked
from translations.regions import region

API_KEY = "s3cret-key-4711"


def state(breaker: CircuitBreaker) -> str:
    """The breaker's state, read afresh (it changes with the injected clock)."""
    return breaker.state


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """An injected `sleep` that records the backoff delays and does not wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class CountingTranslator:
    """Wraps a Translator and counts the calls that reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def translate(self, text: str, source: str, target: str) -> str:
        self.calls += 1
        result: str = await self.inner.translate(text, source, target)
        return result


@pytest.fixture
def libre() -> Iterator[FakeLibreTranslate]:
    with running_libretranslate(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def resilient(server: FakeLibreTranslate, clock: FakeClock, **kwargs: Any) -> ResilientTranslator:
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("breaker", CircuitBreaker(failure_threshold=3, reset_timeout=30, clock=clock))
    kwargs.setdefault("timeout", 2.0)
    return ResilientTranslator(
        CountingTranslator(DeepTranslatorAdapter.libre(server.url, api_key=API_KEY)), **kwargs
    )


async def test_adapter_speaks_the_libretranslate_api(libre: FakeLibreTranslate) -> None:
    adapter = DeepTranslatorAdapter.libre(libre.url.rstrip("/"), api_key=API_KEY)
    assert await adapter.translate("Das Paket kam beschädigt an", "de", "en") == (
        "the parcel arrived damaged")
    [call] = libre.translate_calls()
    assert call.params == {"q": "Das Paket kam beschädigt an", "source": "de", "target": "en",
                           "format": "text", "api_key": API_KEY}


async def test_translated_with_glossary_terms(libre: FakeLibreTranslate, clock: FakeClock) -> None:
    translator = resilient(libre, clock)
    result = await translator.translate(
        "Bitte senden Sie das Rücksendeetikett und die RMA", source="de", target="en")
    assert result.state == "translated"
    assert result.text == "please send the return label and die RMA"
    # The provider saw placeholders, not the terms.
    [call] = libre.translate_calls()
    assert call.params["q"] == "Bitte senden Sie das [[G0]] und die [[G1]]"


async def test_memory_hit_calls_the_provider_once(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    memory = InMemoryTranslationMemory()
    translator = resilient(libre, clock, memory=memory)
    first = await translator.translate("商品破损", source="zh", target="en")
    second = await translator.translate("商品破损", source="zh-Hans", target="en-US")
    damaged = "the item is damaged"
    assert (first.state, first.text, first.from_memory) == ("translated", damaged, False)
    assert (second.state, second.text, second.from_memory) == ("translated", damaged, True)
    assert len(libre.translate_calls("商品破损")) == 1
    assert memory.get(MemoryKey.of("商品破损", "zh", "en")) == "the item is damaged"


async def test_a_memory_hit_does_no_glossary_work_and_calls_no_provider() -> None:
    provider = EchoTranslator()
    glossary = Mock(spec=Glossary, wraps=GLOSSARY)
    translator = ResilientTranslator(provider, glossary=glossary)
    text = "Bitte senden Sie das Rücksendeetikett, Tel. +49 30 1234567"
    first = await translator.translate(text, source="de", target="en")
    second = await translator.translate(text, source="de", target="en")
    assert glossary.protect_terms.call_count == 1
    [(sent, _, _)] = provider.sent
    assert "1234567" not in sent
    assert first.from_memory is False and first.state == "translated"
    assert (second.text, second.original, second.from_memory) == (first.text, first.original, True)


async def test_texts_that_differ_never_share_a_translation() -> None:
    texts = ["Das Paket ist kaputt", "Das Paket ist kaputt.", "das Paket ist kaputt",
             "Das Paket ist kaputt!"]
    alone = [(await ResilientTranslator(EchoTranslator()).translate(
        text, source="de", target="en")).text for text in texts]
    translator = ResilientTranslator(EchoTranslator())
    together = [await translator.translate(text, source="de", target="en") for text in texts]
    assert [result.text for result in together] == alone
    assert len(set(alone)) == len(texts)
    assert not any(result.from_memory for result in together)


async def test_texts_that_mask_alike_share_the_translation_of_the_masked_text() -> None:
    provider = EchoTranslator()
    translator = ResilientTranslator(provider)
    first = await translator.translate("Write to anna@example.de", source="en", target="de")
    second = await translator.translate("Write to bob@example.com", source="en", target="de")
    assert provider.sent == [("Write to [email]", "en", "de")]
    assert (second.original, second.text, second.from_memory) == (
        "Write to [email]", first.text, True)


def test_masking_is_remembered_and_bounded() -> None:
    text = "Ruf mich an: +49 30 1234567, anna@example.de"
    assert masked(text) == mask_personal_data(text) == "Ruf mich an: [phone], [email]"
    hits = masked.cache_info().hits
    assert masked(text) == "Ruf mich an: [phone], [email]"
    assert masked.cache_info().hits == hits + 1
    assert masked.cache_info().maxsize == MASK_CACHE_SIZE


async def test_personal_data_is_masked_before_sending(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    result = await resilient(libre, clock).translate(
        "The box arrived damaged, write to bob@example.com", source="en", target="ja")
    assert result.original == "The box arrived damaged, write to [email]"
    assert "bob@" not in str(libre.calls)


async def test_undetectable_language_is_sent_as_auto(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    result = await resilient(libre, clock).translate("RMA 4711", source=None, target="ja")
    assert (result.state, result.source_language) == ("translated", None)
    assert libre.translate_calls()[0].params["source"] == "auto"


@pytest.mark.parametrize(
    ("text", "source", "target"),
    [("Das Paket ist beschädigt", "de", "de"), ("Das Paket ist beschädigt angekommen", None, "de"),
     ("", "en", "de"), ("   ", None, "ja")],
)
async def test_not_needed(
    libre: FakeLibreTranslate, clock: FakeClock, text: str, source: str | None, target: str
) -> None:
    result = await resilient(libre, clock).translate(text, source=source, target=target)
    assert (result.state, result.text) == ("not_needed", None)
    assert libre.translate_calls() == []


async def test_provider_down_gives_pending_fast_and_opens_the_circuit(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    sleeps = Sleeps()
    translator = resilient(libre, clock, sleep=sleeps, retries=2)
    libre.go_down()
    started = time.monotonic()
    result = await translator.translate("The box arrived damaged", source="en", target="de")
    assert time.monotonic() - started < 2
    assert (result.state, result.text, result.original) == (
        "pending", None, "The box arrived damaged")
    assert result.detail == "libre: cannot connect to the provider"
    assert sleeps.delays == [0.2, 0.4]
    assert state(translator.breaker) == "open"
    counting = translator.translator
    assert isinstance(counting, CountingTranslator) and counting.calls == 3
    # While open, nothing reaches the provider.
    again = await translator.translate("Another text", source="en", target="de")
    assert again.state == "pending" and again.detail is not None
    assert again.detail.startswith("circuit open")
    assert counting.calls == 3


async def test_provider_back_half_open_probe_closes_the_circuit(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    translator = resilient(libre, clock, retries=0)
    libre.go_down()
    for _ in range(3):
        assert (await translator.translate("The box arrived damaged", source="en", target="de")
                ).state == "pending"
    assert state(translator.breaker) == "open"
    libre.come_back()
    clock.advance(29)
    assert state(translator.breaker) == "open"
    clock.advance(1)
    assert state(translator.breaker) == "half_open"
    result = await translator.translate("The box arrived damaged", source="en", target="de")
    assert (result.state, result.text) == ("translated", "die Schachtel kam beschädigt an")
    assert state(translator.breaker) == "closed"
    assert (await translator.translate("商品破损", source="zh", target="en")).state == "translated"


async def test_failed_probe_opens_the_circuit_again(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    translator = resilient(libre, clock, retries=2)
    libre.go_down()
    await translator.translate("one", source="en", target="de")
    clock.advance(30)
    assert state(translator.breaker) == "half_open"
    result = await translator.translate("two", source="en", target="de")
    assert result.state == "pending"
    assert state(translator.breaker) == "open"
    counting = translator.translator
    assert isinstance(counting, CountingTranslator) and counting.calls == 4  # 3 + one probe


async def test_hanging_provider_times_out(libre: FakeLibreTranslate, clock: FakeClock) -> None:
    translator = resilient(libre, clock, timeout=0.3, retries=0,
                           breaker=CircuitBreaker(failure_threshold=1, clock=clock))
    libre.hang()
    started = time.monotonic()
    result = await translator.translate("The box arrived damaged", source="en", target="de")
    assert time.monotonic() - started < 1.5
    assert (result.state, result.detail) == ("pending", "no answer within 0.3s")
    assert state(translator.breaker) == "open"
    libre.release()


async def test_refused_key_is_pending_without_retry_and_never_leaks_the_key(
    libre: FakeLibreTranslate, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = CountingTranslator(DeepTranslatorAdapter.libre(libre.url, api_key="wrong-key-0815"))
    translator = ResilientTranslator(adapter, sleep=Sleeps(),
                                     breaker=CircuitBreaker(failure_threshold=1, clock=clock))
    result = await translator.translate("The box arrived damaged", source="en", target="de")
    assert (result.state, result.detail) == ("pending", "libre: API key missing or refused")
    assert adapter.calls == 1
    assert state(translator.breaker) == "closed"
    assert "wrong-key" not in caplog.text


async def test_a_translator_breaking_its_contract_does_not_fail_the_feed(clock: FakeClock) -> None:
    class Broken:
        async def translate(self, text: str, source: str, target: str) -> str:
            raise RuntimeError("boom")

    translator = ResilientTranslator(Broken(), retries=0, sleep=Sleeps(),
                                     breaker=CircuitBreaker(clock=clock))
    result = await translator.translate("The box arrived damaged", source="en", target="de")
    assert (result.state, result.detail) == ("pending", "RuntimeError: boom")


async def test_translate_reason_of_a_case(libre: FakeLibreTranslate, clock: FakeClock) -> None:
    translator = resilient(libre, clock)
    case = Case(case_id="c", reason_text="サイズが合わない", reason_language="ja")
    result = await translator.translate_reason(case, region("US"))
    assert result is not None and result.text == "the size does not fit"
    assert await translator.translate_reason(Case(case_id="c"), region("US")) is None


FOREIGN_ERRORS = [
    pytest.param(requests.ConnectionError(f"http://x/?api_key={API_KEY}&q=secret"), True,
                 "cannot connect to the provider", id="requests-connection"),
    pytest.param(requests.Timeout(f"http://x/?api_key={API_KEY}"), True,
                 "the provider timed out", id="requests-timeout"),
    pytest.param(ConnectionRefusedError(111, "refused"), True,
                 "cannot connect to the provider", id="os-connection"),
    pytest.param(dt.ServerException(503), True, "server error ERR_SERVICE_NOT_AVAIBLE",
                 id="server-error"),
    pytest.param(dt.TooManyRequests(), True, "rate limited by the provider", id="rate-limited"),
    pytest.param(dt.TranslationNotFound("q"), True, "the provider answered no translation",
                 id="no-translation"),
    pytest.param(dt.AuthorizationException(API_KEY), False, "API key missing or refused",
                 id="auth"),
    pytest.param(dt.ApiKeyException("LIBRE_API_KEY"), False, "API key missing or refused",
                 id="no-key"),
    pytest.param(dt.LanguageNotSupportedException("xx"), False,
                 "language pair not supported by the provider", id="language"),
    pytest.param(dt.NotValidLength("q", 0, 5), False,
                 "text refused by the provider (type or length)", id="length"),
    pytest.param(requests.JSONDecodeError("Expecting value", "<html>", 0), True,
                 "unreadable answer from the provider", id="json"),
    pytest.param(KeyError("translatedText"), True, "unreadable answer from the provider",
                 id="key-error"),
    pytest.param(OSError("disk"), True, "OSError from the provider", id="other"),
]


@pytest.mark.parametrize(("error", "retriable", "reason"), FOREIGN_ERRORS)
def test_every_foreign_error_is_mapped(error: Exception, retriable: bool, reason: str) -> None:
    mapped = _map_error(error, "libre")
    assert isinstance(mapped, TranslationUnavailableError)
    assert (mapped.retriable, mapped.reason, mapped.provider) == (retriable, reason, "libre")
    assert API_KEY not in str(mapped) and "secret" not in str(mapped)


def test_circuit_breaker_states(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock)
    assert state(breaker) == "closed" and breaker.allow()
    breaker.record_failure()
    assert state(breaker) == "closed"
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert state(breaker) == "open" and not breaker.allow()
    clock.advance(10)
    assert breaker.allow()  # the one probe
    assert not breaker.allow()
    breaker.record_success()
    assert state(breaker) == "closed"


def test_backoff_is_exponential_and_bounded() -> None:
    backoff = Backoff(base=0.5, factor=2, max_delay=3)
    assert [backoff.delay(retry) for retry in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_memory_is_bounded_lru() -> None:
    memory = InMemoryTranslationMemory(max_entries=2)
    a, b, c = (MemoryKey.of(text, "en", "de") for text in "abc")
    memory.put(a, "A")
    memory.put(b, "B")
    assert memory.get(a) == "A"
    memory.put(c, "C")
    assert (memory.get(a), memory.get(b), memory.get(c), len(memory)) == ("A", None, "C", 2)
    assert a.text_hash != "a" and len(a.text_hash) == 64


async def test_no_provider_configured() -> None:
    settings = load_settings(translation_provider="none")
    assert translator_from_settings(settings) is None
    translator = resilient_translator_from_settings(settings)
    pending = await translator.translate("Das Paket ist beschädigt angekommen", source="de",
                                         target="en")
    assert (pending.state, pending.detail) == ("pending", "no translation provider is configured")
    same = await translator.translate("The box arrived damaged", source="en", target="en")
    assert same.state == "not_needed"


def test_providers_from_settings() -> None:
    libre = translator_from_settings(load_settings(
        translation_provider="libre", translation_url="http://127.0.0.1:5000",
        translation_api_key=API_KEY))
    assert isinstance(libre, DeepTranslatorAdapter) and libre.provider == "libre"
    deepl = translator_from_settings(load_settings(translation_provider="deepl",
                                                   translation_api_key=API_KEY))
    assert isinstance(deepl, DeepTranslatorAdapter) and deepl.provider == "deepl"
    translator = resilient_translator_from_settings(load_settings(
        translation_provider="libre", translation_url="http://127.0.0.1:5000",
        translation_timeout_seconds=1.5))
    assert translator.timeout == 1.5


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"translation_provider": "libre"}, "HUB_TRANSLATION_URL"),
        ({"translation_provider": "deepl"}, "HUB_TRANSLATION_API_KEY"),
    ],
)
def test_incomplete_provider_settings(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        translator_from_settings(load_settings(**overrides))


async def test_concurrent_translations_do_not_block_the_loop(
    libre: FakeLibreTranslate, clock: FakeClock
) -> None:
    translator = resilient(libre, clock)
    texts = ["商品破损", "未收到", "The box arrived damaged"]
    results = await asyncio.gather(*(
        translator.translate(text, source=None, target="en" if i < 2 else "ar")
        for i, text in enumerate(texts)))
    assert [result.text for result in results] == [
        "the item is damaged", "not received", "وصل الصندوق تالفًا"]


async def test_results_are_counted_by_outcome_for_the_metrics() -> None:
    translator = ResilientTranslator(EchoTranslator(), detect=lambda text: "fr")

    await translator.translate("Colis abîmé", source="fr", target="de")
    await translator.translate("Colis abîmé", source="fr", target="de")
    await translator.translate("Colis abîmé", source="fr", target="fr")

    assert translator.outcomes == {"translated": 1, "memory": 1, "not_needed": 1}
