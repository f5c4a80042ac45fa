"""The after-sales glossary: reason phrases per language, and domain terms kept in translation.

`classify_reason(text, language)` gives the hub's reason code for a buyer's free text ("zu
klein" -> size_fit, "未收到" -> lost_in_transit); the case builder calls it for returns that
came without a reason code. `protect_terms` / `restore_terms` wrap a machine translation: domain
terms (RMA, customs clearance, chargeback...) are swapped for placeholders before the text is
sent, and the placeholders are replaced by the target language's glossary term afterwards.

The data is `glossary.toml`, validated once at import: a bad file raises a
`LocalizationConfigError` listing every problem.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from schemas.events import ReasonCode
from translations.errors import LocalizationConfigError

GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")

# Latin-script phrases match from the start of a word; these scripts have no spaces between
# words (CJK) or attach prefixes to words (Arabic), so their phrases match anywhere.
_UNSPACED = re.compile(r"[\u0600-\u06ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_FOLD_MAP = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None, "\u2019": "'", "\u2018": "'"})
_PLACEHOLDER = re.compile(r"\[\s*\[\s*[Gg]\s*(\d+)\s*\]\s*\]")


def normalize(text: str) -> str:
    """NFKC (full-width and compatibility forms to their plain form) and collapsed spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def fold(text: str) -> str:
    """The matching form of a text: normalized, case-folded, without accents or diacritics.

    Accents and Arabic harakat are combining marks, dropped after canonical decomposition;
    Arabic letter variants are unified (alef maqsura, taa marbuta, tatweel), and typographic
    apostrophes become ASCII ones.
    """
    decomposed = unicodedata.normalize("NFD", normalize(text).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", stripped).translate(_FOLD_MAP)


def primary_language(tag: str | None) -> str | None:
    """The primary subtag of a BCP 47 tag or POSIX locale id (`pt-BR`, `zh_Hans_CN` -> pt, zh)."""
    if not tag:
        return None
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower() or None


def _phrase_pattern(phrase: str) -> str:
    folded = re.escape(fold(phrase))
    return folded if _UNSPACED.search(phrase) else rf"(?<!\w){folded}"


class Glossary(BaseModel):
    """The validated glossary: languages, reason phrases and domain terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    languages: tuple[str, ...]
    reasons: dict[ReasonCode, dict[str, tuple[str, ...]]]
    terms: dict[str, dict[str, tuple[str, ...]]]

    @model_validator(mode="after")
    def _complete(self) -> Glossary:
        problems: list[str] = []
        languages = set(self.languages)
        for section, entries in (("reasons", self.reasons), ("terms", self.terms)):
            for key, by_language in entries.items():
                missing = sorted(languages - set(by_language))
                extra = sorted(set(by_language) - languages)
                empty = sorted(lang for lang, phrases in by_language.items()
                               if not any(phrase.strip() for phrase in phrases))
                for what, languages_found in (("no phrases for", missing),
                                              ("unknown languages", extra),
                                              ("empty phrases for", empty)):
                    if languages_found:
                        problems.append(f"{section}.{key}: {what} {', '.join(languages_found)}")
        uncovered = sorted(set(get_args(ReasonCode)) - {"other"} - set(self.reasons))
        if uncovered:
            problems.append(f"reasons: no phrases for {', '.join(uncovered)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def _reason_patterns(self) -> dict[str, list[tuple[re.Pattern[str], ReasonCode]]]:
        by_language: dict[str, list[tuple[re.Pattern[str], ReasonCode]]] = {}
        for code, phrases_by_language in self.reasons.items():
            for language, phrases in phrases_by_language.items():
                by_language.setdefault(language, []).extend(
                    (re.compile(_phrase_pattern(phrase)), code) for phrase in phrases
                )
        return by_language

    @cached_property
    def _term_patterns(self) -> dict[str, list[tuple[re.Pattern[str], str]]]:
        by_language: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for term_id, phrases_by_language in self.terms.items():
            for language, phrases in phrases_by_language.items():
                for phrase in phrases:
                    text = re.escape(normalize(phrase))
                    pattern = text if _UNSPACED.search(phrase) else rf"(?<!\w){text}(?!\w)"
                    by_language.setdefault(language, []).append(
                        (re.compile(pattern, re.IGNORECASE), term_id)
                    )
        for patterns in by_language.values():
            # Longest phrase first, so "return shipping label" wins over "return label".
            patterns.sort(key=lambda item: -len(item[0].pattern))
        return by_language

    def classify_reason(self, text: str, language: str | None) -> ReasonCode | None:
        """The reason code a buyer's text names, or None when no phrase matches."""
        folded = fold(text)
        if not folded:
            return None
        primary = primary_language(language)
        if primary in self._reason_patterns:
            found = _best_reason(folded, self._reason_patterns[primary])
            if found is not None:
                return found
        every = [item for patterns in self._reason_patterns.values() for item in patterns]
        return _best_reason(folded, every)

    def term(self, term_id: str, language: str) -> str | None:
        """The glossary term for a language (its first phrase), or None."""
        phrases = self.terms.get(term_id, {}).get(language)
        return phrases[0] if phrases else None

    def protect_terms(self, text: str, source_lang: str, target_lang: str) -> ProtectedText:
        """Replace the source language's domain terms by placeholders for machine translation.

        Each placeholder is restored to the target language's term; a term the target language
        lacks is restored as it was written.
        """
        source = primary_language(source_lang) or ""
        target = primary_language(target_lang) or ""
        normalized = normalize(text)
        spans: list[tuple[int, int, str]] = []
        for pattern, term_id in self._term_patterns.get(source, []):
            for match in pattern.finditer(normalized):
                if any(start < match.end() and match.start() < end for start, end, _ in spans):
                    continue
                spans.append(
                    (match.start(), match.end(), self.term(term_id, target) or match.group(0))
                )
        replacements: dict[str, str] = {}
        pieces: list[str] = []
        cursor = 0
        for number, (start, end, term) in enumerate(sorted(spans)):
            placeholder = f"[[G{number}]]"
            replacements[placeholder] = term
            pieces += [normalized[cursor:start], placeholder]
            cursor = end
        pieces.append(normalized[cursor:])
        return ProtectedText(text="".join(pieces), replacements=replacements)


def _best_reason(
    folded: str, patterns: list[tuple[re.Pattern[str], ReasonCode]]
) -> ReasonCode | None:
    best: tuple[int, int, ReasonCode] | None = None
    for pattern, code in patterns:
        match = pattern.search(folded)
        if match is None:
            continue
        rank = (-(match.end() - match.start()), match.start(), code)
        if best is None or rank[:2] < best[:2]:
            best = rank
    return best[2] if best else None


@dataclass(frozen=True, slots=True)
class ProtectedText:
    """A text with domain terms swapped for placeholders, and what each placeholder becomes."""

    text: str
    replacements: dict[str, str] = field(default_factory=dict)


def restore_terms(translated: str, protected: ProtectedText) -> str:
    """Put the target-language terms back in place of the placeholders of a translation.

    Placeholders a provider spaced or re-cased (`[[ g0 ]]`) are still recognized; a placeholder
    it dropped is lost with its term (the rest of the translation is kept).
    """

    def replace(match: re.Match[str]) -> str:
        return protected.replacements.get(f"[[G{match.group(1)}]]", match.group(0))

    return _PLACEHOLDER.sub(replace, translated)


def parse_glossary(raw: Mapping[str, Any]) -> Glossary:
    """Validate a parsed glossary document.

    Raises:
        LocalizationConfigError: listing every problem found.
    """
    try:
        return Glossary.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'glossary'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise LocalizationConfigError("glossary", problems=problems) from exc


def load_glossary(path: Path = GLOSSARY_FILE) -> Glossary:
    """Read and validate a glossary TOML file.

    Raises:
        LocalizationConfigError: the file is unreadable, not TOML, or invalid.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LocalizationConfigError("glossary", problems=[f"{path}: {exc}"]) from exc
    return parse_glossary(raw)


GLOSSARY: Glossary = load_glossary()
"""The shipped glossary, validated at import."""


def classify_reason(text: str, language: str | None) -> ReasonCode | None:
    """The reason code named by a buyer's free text in any glossary language, or None.

    `language` (a BCP 47 tag, may be None or wrong) is tried first; then every language.
    """
    return GLOSSARY.classify_reason(text, language)


def protect_terms(text: str, source_lang: str, target_lang: str) -> ProtectedText:
    """Swap the shipped glossary's domain terms for placeholders before machine translation."""
    return GLOSSARY.protect_terms(text, source_lang, target_lang)
