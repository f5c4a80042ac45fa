"""Recorded provider payloads under `tests/fixtures/<folder>/` and their hand-written expectations.

Each registered connector names its folder (`Connector.fixtures_folder`, the source name unless
it says otherwise); the loader reads the folders of `connectors.registry`, so a new connector's
payloads are picked up by registering it.

Layout per fixture `NAME`:
    NAME.json            the body exactly as the provider delivers it
    NAME.headers.json    optional: the HTTP headers the connector needs (lower-case names)
    NAME.expected.json   {"events": [partial event, ...]}: what a person read off the payload
                         and the provider's docs; each partial lists only the fields it checks

Partial events are compared field by field: money by Decimal value and currency, timestamps as
instants, nested objects recursively as partials, everything else by equality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.registry import CONNECTORS, connector_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# After the latest fact of any fixture (2026-03-04): webhooks arrive after what they report.
RECEIVED_AT = datetime(2026, 3, 5, 12, 0, 0, tzinfo=UTC)
_SIDE_FILES = (".expected.json", ".headers.json")


@dataclass(frozen=True)
class ConnectorFixture:
    source: str
    name: str
    body: bytes
    headers: dict[str, str]
    expected: list[dict[str, Any]] | None

    @property
    def id(self) -> str:
        return f"{self.source}/{self.name}"


def load_fixtures(source: str | None = None) -> list[ConnectorFixture]:
    """Every recorded payload (of one source, or of every registered connector)."""
    connectors = [connector_for(source)] if source else list(CONNECTORS)
    found: list[ConnectorFixture] = []
    for connector in connectors:
        folder = FIXTURES / connector.fixtures_folder
        for body_path in sorted(folder.glob("*.json")):
            if body_path.name.endswith(_SIDE_FILES):
                continue
            stem = body_path.name.removesuffix(".json")
            headers_path = folder / f"{stem}.headers.json"
            expected_path = folder / f"{stem}.expected.json"
            found.append(
                ConnectorFixture(
                    source=connector.source,
                    name=stem,
                    body=body_path.read_bytes(),
                    headers=json.loads(headers_path.read_text()) if headers_path.exists() else {},
                    expected=(
                        json.loads(expected_path.read_text())["events"]
                        if expected_path.exists()
                        else None
                    ),
                )
            )
    return found


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` (an event in JSON mode) differs from a hand-written partial."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) == {"amount", "currency"} and set(actual) >= {"amount", "currency"}:
            if Decimal(str(expected["amount"])) != Decimal(str(actual["amount"])) or (
                expected["currency"] != actual["currency"]
            ):
                return [f"{path}: expected {expected}, got {actual}"]
            return []
        problems: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += mismatches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}: {actual}"]
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in mismatches(e, a, f"{path}[{i}]")
        ]
    if isinstance(expected, str) and isinstance(actual, str) and _looks_like_time(expected):
        if _instant(expected) != _instant(actual) or _offset(expected) != _offset(actual):
            return [f"{path}: expected {expected}, got {actual}"]
        return []
    if expected != actual:
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return []


def _looks_like_time(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[10] == "T"


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _offset(text: str) -> Any:
    parsed = _instant(text)
    return parsed.utcoffset() if parsed else None
