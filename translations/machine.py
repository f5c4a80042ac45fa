"""Machine translation of case free text, resilient to a slow or dead provider.

    Translator (Protocol)           async translate(text, source, target) -> str; raises
    │                               TranslationUnavailableError and nothing else
    └── DeepTranslatorAdapter       deep-translator (LibreTranslate, DeepL, Google) in a thread
    ResilientTranslator             masks personal data, detects the language, asks the
                                    TranslationMemory, protects glossary terms, then calls the
                                    Translator with a timeout, bounded retries with exponential
                                    backoff and a CircuitBreaker -> TranslationResult

A feed never waits on or fails because of the provider: when it is down, slow, or the circuit is
open, the result is `pending` and the view shows the original text marked "translation
pending". Text already in the region's language is `not_needed`. Build the pair from the
settings with `resilient_translator_from_settings(settings)`.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from schemas.case import Case
from schemas.errors import ConfigurationError
from schemas.recent import RecentMap
from schemas.settings import Settings
from translations.errors import TranslationUnavailableError
from translations.glossary import GLOSSARY, Glossary, primary_language, restore_terms
from translations.language import detect_language
from translations.privacy import masked
from translations.regions import Region

log = logging.getLogger(__name__)

TranslationState = Literal["translated", "pending", "not_needed"]
CircuitState = Literal["closed", "open", "half_open"]
AUTO = "auto"


class TranslationResult(BaseModel):
    """What became of one text for one target language."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: TranslationState
    original: str
    """The source text as shown and sent: personal data already masked."""
    text: str | None = None
    """The translation (state `translated`), else None."""
    source_language: str | None = None
    target_language: str
    detail: str | None = None
    """Why a translation is pending (provider error, circuit open, no provider)."""
    from_memory: bool = False


class Translator(Protocol):
    """A machine translation provider."""

    async def translate(self, text: str, source: str, target: str) -> str:
        """Translate `text` from `source` (a BCP 47 primary tag or "auto") to `target`.

        Raises:
            TranslationUnavailableError: the provider could not translate (any cause).
        """
        ...


@dataclass(frozen=True, slots=True)
class MemoryKey:
    """Identity of a translation: a hash of the exact source text, and the language pair."""

    text_hash: str
    source: str
    target: str

    @classmethod
    def of(cls, text: str, source: str, target: str) -> MemoryKey:
        """The key of a text (hashed: the memory never holds buyer text as a key)."""
        return cls(hashlib.sha256(text.encode()).hexdigest(), source, target)


class TranslationMemory(Protocol):
    """Translations already made; a faust table or a cache can implement it."""

    def get(self, key: MemoryKey) -> str | None:
        """The stored translation, or None."""
        ...

    def put(self, key: MemoryKey, translated: str) -> None:
        """Store a translation."""
        ...


class InMemoryTranslationMemory(RecentMap[MemoryKey, str]):
    """A bounded least-recently-used translation memory in the process."""

    def __init__(self, max_entries: int = 10_000) -> None:
        super().__init__(max_entries)


class CircuitBreaker:
    """closed -> (failure_threshold consecutive failures) -> open -> (reset_timeout) -> half_open.

    In half-open one probe call is let through: its success closes the circuit, its failure opens
    it again for another `reset_timeout`. `clock` returns seconds (monotonic); tests inject one.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout <= 0:
            raise ValueError("failure_threshold >= 1 and reset_timeout > 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> CircuitState:
        """The current state (open turns half-open once `reset_timeout` has passed)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_timeout:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go to the provider now (claims the probe when half-open)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        """A call succeeded: close the circuit."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """A call failed: open the circuit at the threshold, or again after a failed probe."""
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._probing = False


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff between attempts: `base * factor**(retry - 1)`, at most `max_delay`."""

    base: float = 0.2
    factor: float = 2.0
    max_delay: float = 2.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry)."""
        return float(min(self.max_delay, self.base * self.factor ** (retry - 1)))


class ResilientTranslator:
    """Translates free text for a region without ever blocking or failing the feed."""

    def __init__(
        self,
        translator: Translator | None,
        *,
        memory: TranslationMemory | None = None,
        glossary: Glossary = GLOSSARY,
        breaker: CircuitBreaker | None = None,
        timeout: float = 3.0,
        retries: int = 2,
        backoff: Backoff = Backoff(),  # noqa: B008  # frozen dataclass: a safe shared default
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        detect: Callable[[str], str | None] = detect_language,
    ) -> None:
        if retries < 0 or timeout <= 0:
            raise ValueError("retries >= 0 and timeout > 0")
        self.translator = translator
        self.memory: TranslationMemory = (
            memory if memory is not None else InMemoryTranslationMemory()
        )
        self.glossary = glossary
        self.breaker = breaker or CircuitBreaker()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._detect = detect
        self.outcomes: collections.Counter[str] = collections.Counter()
        """Results since start by outcome (translated, memory, pending, not_needed): /metrics."""

    async def translate(self, text: str, *, source: str | None, target: str) -> TranslationResult:
        """Mask, then translate `text` into `target` (a BCP 47 tag); never raises for the provider.

        `source` is the language the provider of the text stated, if any; otherwise it is
        detected (and "auto" is sent when detection is unsure).
        """
        original = masked(text)
        target_lang = primary_language(target) or target
        source_lang = primary_language(source) or self._detect(original)

        def result(state: TranslationState, **fields: Any) -> TranslationResult:
            self.outcomes["memory" if fields.get("from_memory") else state] += 1
            return TranslationResult(state=state, original=original, source_language=source_lang,
                                     target_language=target_lang, **fields)

        if not original.strip() or source_lang == target_lang:
            return result("not_needed")
        if self.translator is None:
            return result("pending", detail="no translation provider is configured")
        key = MemoryKey.of(original, source_lang or AUTO, target_lang)
        remembered = self.memory.get(key)
        if remembered is not None:
            return result("translated", text=remembered, from_memory=True)
        protected = (self.glossary.protect_terms(original, source_lang, target_lang)
                     if source_lang else None)
        outcome = await self._call(protected.text if protected else original,
                                   source_lang or AUTO, target_lang)
        if isinstance(outcome, _Failure):
            return result("pending", detail=outcome.reason)
        translated = restore_terms(outcome, protected) if protected else outcome
        self.memory.put(key, translated)
        return result("translated", text=translated)

    async def _call(self, text: str, source: str, target: str) -> str | _Failure:
        assert self.translator is not None
        reason = "circuit open: the translation provider failed recently"
        for attempt in range(self.retries + 1):
            if not self.breaker.allow():
                return _Failure(reason)
            if attempt:
                await self._sleep(self.backoff.delay(attempt))
            try:
                translated = await asyncio.wait_for(
                    self.translator.translate(text, source, target), self.timeout
                )
            except TimeoutError:
                reason = f"no answer within {self.timeout:g}s"
            except TranslationUnavailableError as exc:
                reason = str(exc)
                if not exc.retriable:
                    return _Failure(reason)
            except Exception as exc:  # a Translator broke its contract: never fail the feed
                log.exception("translator raised a foreign error")
                reason = f"{type(exc).__name__}: {exc}"
            else:
                self.breaker.record_success()
                return translated
            self.breaker.record_failure()
            log.warning("translation attempt %d failed: %s", attempt + 1, reason)
        return _Failure(reason)

    async def translate_reason(self, case: Case, region: Region) -> TranslationResult | None:
        """The case's reason text translated for the region; None when the case has none."""
        if not case.reason_text:
            return None
        return await self.translate(
            case.reason_text, source=case.reason_language, target=region.language
        )


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: str


# Hub language -> provider language codes, where they differ from the primary tag.
_PROVIDER_CODES: dict[str, dict[str, str]] = {
    "google": {"zh": "zh-CN"},
}


class DeepTranslatorAdapter:
    """A deep-translator class as a `Translator`.

    deep-translator is synchronous and its HTTP calls have no timeout, so each call runs in its
    own daemon thread and the caller's timeout bounds the wait: a hung call is abandoned (its
    thread ends when the connection does) and cannot block the event loop or process exit.
    Every foreign error becomes `TranslationUnavailableError` here, once.
    """

    def __init__(self, provider: str, factory: Callable[[str, str], Any]) -> None:
        self.provider = provider
        self._factory = factory
        self._codes = _PROVIDER_CODES.get(provider, {})

    @classmethod
    def libre(cls, url: str, *, api_key: str | None = None) -> DeepTranslatorAdapter:
        """LibreTranslate at `url` (its base URL); the key is sent when given."""
        from deep_translator import LibreTranslator

        base = url if url.endswith("/") else f"{url}/"
        # deep-translator refuses an empty key; a server without keys ignores the field.
        key = api_key or "-"
        return cls("libre", lambda source, target: LibreTranslator(
            source=source, target=target, api_key=key, custom_url=base, use_free_api=False
        ))

    @classmethod
    def deepl(cls, api_key: str, *, free_api: bool = True) -> DeepTranslatorAdapter:
        """DeepL's API (deep-translator 1.11 knows no Arabic for it: such calls are refused)."""
        from deep_translator import DeeplTranslator

        return cls("deepl", lambda source, target: DeeplTranslator(
            source=source, target=target, api_key=api_key, use_free_api=free_api
        ))

    @classmethod
    def google(cls) -> DeepTranslatorAdapter:
        """Google Translate's public web endpoint, as deep-translator reaches it."""
        from deep_translator import GoogleTranslator

        return cls("google", lambda source, target: GoogleTranslator(source=source, target=target))

    async def translate(self, text: str, source: str, target: str) -> str:
        """Translate in a daemon thread.

        Raises:
            TranslationUnavailableError: any failure of the provider or of the library.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        source_code = self._codes.get(source, source)
        target_code = self._codes.get(target, target)

        def settle(outcome: str | TranslationUnavailableError) -> None:
            if future.done():
                return  # abandoned after a timeout
            if isinstance(outcome, TranslationUnavailableError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        def work() -> None:
            outcome: str | TranslationUnavailableError
            try:
                outcome = self._translate_sync(text, source_code, target_code)
            except TranslationUnavailableError as exc:
                outcome = exc
            try:
                loop.call_soon_threadsafe(settle, outcome)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting any more

        threading.Thread(target=work, name=f"translate-{self.provider}", daemon=True).start()
        return await future

    def _translate_sync(self, text: str, source: str, target: str) -> str:
        try:
            translated = self._factory(source, target).translate(text)
        except Exception as exc:  # the one place foreign errors are mapped
            raise _map_error(exc, self.provider) from exc
        if not isinstance(translated, str):
            raise TranslationUnavailableError(
                "the provider answered no text", provider=self.provider
            )
        return translated


def _map_error(exc: Exception, provider: str) -> TranslationUnavailableError:
    """deep-translator and requests errors -> TranslationUnavailableError (retriable or not).

    The reason is a fixed phrase: the libraries' messages carry the request URL, where
    deep-translator puts the API key and the text, and must not reach logs or feeds.
    """
    import requests
    from deep_translator import exceptions as dt

    def error(reason: str, *, retriable: bool = True) -> TranslationUnavailableError:
        return TranslationUnavailableError(reason, provider=provider, retriable=retriable)

    if isinstance(exc, dt.LanguageNotSupportedException | dt.InvalidSourceOrTargetLanguage):
        return error("language pair not supported by the provider", retriable=False)
    if isinstance(exc, dt.NotValidPayload | dt.NotValidLength):
        return error("text refused by the provider (type or length)", retriable=False)
    if isinstance(exc, dt.ApiKeyException | dt.AuthorizationException):
        return error("API key missing or refused", retriable=False)
    if isinstance(exc, dt.TooManyRequests):
        return error("rate limited by the provider")
    if isinstance(exc, dt.ServerException):
        return error(f"server error {exc.args[0] if exc.args else ''}".strip())
    if isinstance(exc, dt.TranslationNotFound):
        return error("the provider answered no translation")
    if isinstance(exc, requests.Timeout):
        return error("the provider timed out")
    if isinstance(exc, requests.ConnectionError | ConnectionError):
        return error("cannot connect to the provider")
    if isinstance(exc, ValueError | KeyError | TypeError):
        return error("unreadable answer from the provider")
    return error(f"{type(exc).__name__} from the provider")


def translator_from_settings(settings: Settings) -> Translator | None:
    """The configured provider as a `Translator`; None for `translation_provider = "none"`.

    Raises:
        ConfigurationError: the provider lacks its URL or key.
    """
    key = settings.translation_api_key.get_secret_value() if settings.translation_api_key else None
    provider = settings.translation_provider
    if provider == "none":
        return None
    if provider == "libre":
        if not settings.translation_url:
            raise ConfigurationError("HUB_TRANSLATION_URL is required for the libre provider")
        return DeepTranslatorAdapter.libre(settings.translation_url, api_key=key)
    if provider == "deepl":
        if not key:
            raise ConfigurationError("HUB_TRANSLATION_API_KEY is required for the deepl provider")
        return DeepTranslatorAdapter.deepl(key)
    return DeepTranslatorAdapter.google()


def resilient_translator_from_settings(
    settings: Settings,
    *,
    memory: TranslationMemory | None = None,
    breaker: CircuitBreaker | None = None,
) -> ResilientTranslator:
    """The feed's translator: the configured provider behind memory, glossary and breaker.

    Raises:
        ConfigurationError: the provider lacks its URL or key.
    """
    return ResilientTranslator(
        translator_from_settings(settings),
        memory=memory,
        breaker=breaker,
        timeout=settings.translation_timeout_seconds,
    )
