"""Hostile variants of the recorded provider payloads, and what each connector makes of them.

`mutants(fixture, rng)` derives broken payloads from a real one: a field dropped or given another
type, huge numbers and exponents, JSON nested thousands deep, lone surrogates, megabyte strings,
other encodings, absurd dates, negative, sub-minor-unit or fake-currency amounts. `outcome`
runs one through its connector and says whether it was accepted (every event serializes),
rejected (the hub's `SkippableRecordError` with a reason) or crashed (anything else).

`python -m tests.support.fuzz` prints the counts per connector.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from connectors.boundary import FREE_TEXT_LIMIT, TRUNCATION_MARK
from connectors.registry import connector_for
from schemas.errors import SkippableRecordError
from schemas.events import CANONICAL_EVENT, CanonicalEvent
from tests.support.connector_fixtures import RECEIVED_AT, ConnectorFixture, load_fixtures

Verdict = Literal["accepted", "rejected", "crashed"]
Path = tuple[str | int, ...]

_NESTING = "\x00nest\x00"  # replaced by deep JSON after dumping
_HUGE_TEXT = "x" * 300_000
_LONGEST_FREE_TEXT = FREE_TEXT_LIMIT + len(TRUNCATION_MARK.format(omitted=10**9))


@dataclass(frozen=True)
class Mutant:
    """One hostile payload and how it was made."""

    fixture: ConnectorFixture
    kind: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    detail: str
    events: tuple[CanonicalEvent, ...] = ()


def paths_of(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths_of(value, (*path, index))


def replaced(document: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(document, dict):
        return {**document, head: replaced(document[head], tuple(rest), value)}
    copy = list(document)
    copy[head] = replaced(copy[head], tuple(rest), value)  # type: ignore[index]
    return copy


def _dropped(document: Any, path: Path) -> Any:
    head, *rest = path
    if rest:
        if isinstance(document, dict):
            return {**document, head: _dropped(document[head], tuple(rest))}
        copy = list(document)
        copy[head] = _dropped(copy[head], tuple(rest))  # type: ignore[index]
        return copy
    if isinstance(document, dict):
        return {key: value for key, value in document.items() if key != head}
    return [value for index, value in enumerate(document) if index != head]


def dumped(document: Any) -> bytes:
    text = json.dumps(document, default=str)  # ensure_ascii: a lone surrogate stays "\ud800"
    deep = "[" * 3_000 + "]" * 3_000
    return text.replace(json.dumps(_NESTING), deep).encode()


def _looks_like_time(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[:4].isdigit()


def _key(path: Path) -> str:
    return str(path[-1]).lower() if path else ""


def _is_amount(path: Path, value: Any) -> bool:
    key = _key(path)
    named = any(word in key for word in ("amount", "value", "total", "price"))
    return named and isinstance(value, int | float | str) and not isinstance(value, bool)


_WRONG_TYPES: tuple[Any, ...] = ([], {}, "not-a-value", 12345, True, None, 1.5, "")
_ABSURD_TIMES = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-13-45T99:99:99Z",
                 "1970-01-01T00:00:00+14:00", "2026-02-30", "now")
_FAKE_CURRENCIES = ("XXX", "XTS", "ABC", "usd ", "", "EURO", "€")


def value_mutations(path: Path, value: Any) -> list[tuple[str, Any]]:
    """(kind, replacement) pairs that make sense for the value at `path`."""
    found: list[tuple[str, Any]] = [("wrong type", wrong) for wrong in _WRONG_TYPES]
    found += [("huge number", 10**4000), ("huge exponent", Decimal("1e999999999")),
              ("deep nesting", _NESTING), ("huge string", _HUGE_TEXT)]
    if isinstance(value, str):
        found += [("lone surrogate", value + "\ud800"), ("lone surrogate", "\udfff" + value),
                  ("huge string", value + _HUGE_TEXT)]
    if _looks_like_time(value):
        found += [("absurd date", stamp) for stamp in _ABSURD_TIMES]
    if isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**11:
        found += [("absurd date", seconds) for seconds in (0, -1, 253402300800, 10**20)]
    if _is_amount(path, value):
        text = str(value)
        found += [("negative amount", f"-{text}" if isinstance(value, str) else -value),
                  ("huge exponent", "1e99999999"), ("huge exponent", "-1e999999999"),
                  ("sub-minor-unit amount", f"{text}001" if "." in text else f"{text}.001"),
                  ("sub-minor-unit amount", Decimal(text) + Decimal("0.0001")
                   if text.replace(".", "").lstrip("-").isdigit() else "0.0001")]
    if "currency" in _key(path):
        found += [("fake currency", code) for code in _FAKE_CURRENCIES]
    return found


def mutants(fixture: ConnectorFixture, rng: random.Random, count: int) -> list[Mutant]:
    """`count` hostile variants of one recorded payload, chosen by `rng` (seed it)."""
    document = json.loads(fixture.body)
    paths = [(path, value) for path, value in paths_of(document) if path]
    found: list[Mutant] = []
    encodings = [("wrong encoding", fixture.body.decode().encode("utf-16")),
                 ("wrong encoding", fixture.body.decode().encode("latin-1", "replace")),
                 ("wrong encoding", b"\xff\xfe" + fixture.body),
                 ("wrong encoding", fixture.body[: len(fixture.body) // 2] + b"\xc3\x28")]
    found += [Mutant(fixture, kind, body) for kind, body in encodings]
    while len(found) < count and paths:
        path, value = rng.choice(paths)
        if rng.random() < 0.15:
            found.append(Mutant(fixture, "dropped field", dumped(_dropped(document, path))))
            continue
        kind, replacement = rng.choice(value_mutations(path, value))
        found.append(Mutant(fixture, kind, dumped(replaced(document, path, replacement))))
    return found


def outcome(mutant: Mutant) -> Outcome:
    """What the connector of the mutant's source makes of it (see the module docstring)."""
    connector = connector_for(mutant.fixture.source)
    try:
        events = connector.parse(
            mutant.body, received_at=RECEIVED_AT, headers=mutant.fixture.headers
        )
    except SkippableRecordError as exc:
        if not exc.reason or exc.source != mutant.fixture.source:
            return Outcome("crashed", f"rejection without reason or source: {exc!r}")
        return Outcome("rejected", exc.reason)
    except Exception as exc:  # every escape is what the suite counts
        return Outcome("crashed", f"{type(exc).__name__}: {str(exc)[:200]}")
    for event in events:
        problem = _unserializable(event)
        if problem:
            return Outcome("crashed", problem)
    return Outcome("accepted", f"{len(events)} events", tuple(events))


def _unserializable(event: CanonicalEvent) -> str | None:
    try:
        again = CANONICAL_EVENT.validate_json(CANONICAL_EVENT.dump_json(event))
    except Exception as exc:  # a crash of dump_json is a finding, not a test error
        return f"accepted event does not serialize: {type(exc).__name__}: {str(exc)[:200]}"
    if again != event:
        return "accepted event changes in a JSON round trip"
    texts = [event.text, event.raw_reason]
    if event.shipment is not None:
        texts += [event.shipment.raw_description, event.shipment.location]
    if any(text is not None and len(text) > _LONGEST_FREE_TEXT for text in texts):
        return "accepted event carries free text beyond the cap"
    return None


def all_mutants(seed: int, per_fixture: int) -> list[Mutant]:
    """Mutants of every recorded payload of every registered connector, reproducible."""
    rng = random.Random(seed)
    return [m for fixture in load_fixtures() for m in mutants(fixture, rng, per_fixture)]


def tally(items: list[Mutant], run: Callable[[Mutant], Outcome] = outcome) -> dict[str, Counter]:
    """Verdict counts per source."""
    counts: dict[str, Counter] = {}
    for mutant in items:
        counts.setdefault(mutant.fixture.source, Counter())[run(mutant).verdict] += 1
    return counts


if __name__ == "__main__":
    table = tally(all_mutants(seed=20260305, per_fixture=60))
    print(f"{'connector':14} {'accepted':>9} {'rejected':>9} {'crashed':>8}")
    for source, counts in sorted(table.items()):
        print(f"{source:14} {counts['accepted']:9} {counts['rejected']:9} {counts['crashed']:8}")
