"""Errors of the localization core, placed in the hub's one exception tree.

    HubError
    ├── ConfigurationError
    │   └── LocalizationConfigError   regions.toml or glossary.toml is invalid; cannot start
    ├── UnknownRegionError            no region has the code asked for
    └── TranslationUnavailableError   the translation provider failed (down, timeout, refused)

`TranslationUnavailableError` never reaches a feed: `machine.ResilientTranslator` turns it into a
"translation pending" result, so the case still flows with its original text.
"""

from __future__ import annotations

from schemas.errors import ConfigurationError, HubError


class LocalizationConfigError(ConfigurationError):
    """A localization data file (regions, glossary) is invalid; every problem is listed."""

    def __init__(self, source: str, *, problems: list[str]) -> None:
        super().__init__(f"invalid {source}:\n" + "\n".join(f"  {line}" for line in problems))
        self.source = source
        self.problems = problems


class UnknownRegionError(HubError, LookupError):
    """No configured region has this code."""

    def __init__(self, code: str, *, known: list[str]) -> None:
        super().__init__(f"unknown region {code!r} (known: {', '.join(known)})")
        self.code = code
        self.known = known


class TranslationUnavailableError(HubError):
    """The provider could not translate now (connection refused, timeout, 5xx, bad answer)."""

    def __init__(self, reason: str, *, provider: str, retriable: bool = True) -> None:
        super().__init__(f"{provider}: {reason}")
        self.reason = reason
        self.provider = provider
        self.retriable = retriable
        """False when asking again cannot help (unsupported language, refused key)."""
