"""The intake's webhook secrets, checked against the sources it serves before it starts.

Secrets arrive as `HUB_WEBHOOK_SECRETS__<SOURCE>` (the environment lower-cases the source) or as
one JSON map in `HUB_WEBHOOK_SECRETS` (which keeps the operator's spelling). A source named
wrongly, or one without HTTP intake, would otherwise be ignored without a word while its real
source answered 503 `not_configured` to every delivery; an empty secret would make a header
credential (DHL, UPS, Amazon) match an empty header. Both stop the start instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pydantic import SecretStr

from schemas.errors import ConfigurationError


def intake_secrets(
    configured: Mapping[str, Sequence[SecretStr]], sources: Collection[str]
) -> dict[str, list[str]]:
    """Source -> its secrets in clear, for every configured source (names lower-cased).

    Args:
        configured: the `webhook_secrets` setting.
        sources: the sources with an HTTP intake.

    Raises:
        ConfigurationError: a configured name is not such a source, two spellings name the same
            source, or a secret is empty; every problem is listed.
    """
    problems: list[str] = []
    secrets: dict[str, list[str]] = {}
    for name, values in configured.items():
        source = name.strip().lower()
        if source not in sources:
            problems.append(
                f"HUB_WEBHOOK_SECRETS names {name!r}, which is no source with an HTTP intake "
                f"(known: {', '.join(sorted(sources))})"
            )
            continue
        if source in secrets:
            problems.append(f"HUB_WEBHOOK_SECRETS names source {source!r} twice")
            continue
        clear = [value.get_secret_value() for value in values]
        if any(not value.strip() for value in clear):
            problems.append(f"HUB_WEBHOOK_SECRETS__{source.upper()} holds an empty secret")
            continue
        secrets[source] = clear
    if problems:
        raise ConfigurationError("invalid webhook secrets:\n  " + "\n  ".join(problems))
    return secrets
