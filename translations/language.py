"""Offline language detection of buyers' free text.

Uses lingua (`lingua-language-detector`, the Rust implementation with its n-gram models inside
the wheel: no download, no network) restricted to the languages the hub serves, which is both
faster and more accurate than asking among 75 languages. Short or ambiguous text gives None
rather than a guess: the caller then keeps the provider's language or leaves the text as is.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

# The languages of the regions' locales and of the glossary.
SERVED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "pt", "ja", "zh", "ar")

MIN_LETTERS = 3
"""Fewer letters than this is no evidence of a language ("ok", "??", an order number)."""

MIN_CONFIDENCE = 0.5
"""The most likely language must have at least this confidence (0..1) among the served ones."""

MIN_RELATIVE_DISTANCE = 0.1
"""lingua's own guard: the top two languages must differ this much, else no answer."""


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    codes = [IsoCode639_1.from_str(code) for code in SERVED_LANGUAGES]
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        .build()
    )


def _letters(text: str) -> int:
    return sum(1 for char in text if unicodedata.category(char).startswith("L"))


DETECTION_CACHE_SIZE = 4096
"""Texts whose detected language is remembered: every region and every version of a case asks
again about the same reason text, and lingua's two passes are the costly part of rendering."""


# Callers pass the masked text (translations.machine, translations.views): the cache keeps no
# personal data the masking removes.
@lru_cache(maxsize=DETECTION_CACHE_SIZE)
def detect_language(text: str) -> str | None:
    """The BCP 47 primary language tag of the text (`de`, `ja`...), or None when unsure."""
    text = unicodedata.normalize("NFKC", text)
    if _letters(text) < MIN_LETTERS:
        return None
    detector = _detector()
    language = detector.detect_language_of(text)
    if language is None:
        return None
    if detector.compute_language_confidence(text, language) < MIN_CONFIDENCE:
        return None
    return language.iso_code_639_1.name.lower()
