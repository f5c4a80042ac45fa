"""Hostile payloads against every registered connector: no crash, a reason for every rejection.

Derived from each connector's recorded payloads (`tests.support.fuzz`): fields dropped or of
another type, huge numbers and exponents, deep nesting, lone surrogates, megabyte strings, other
encodings, absurd dates, negative, sub-minor-unit and fake-currency amounts. The only exception
allowed out of a connector is the hub's `SkippableRecordError` with a non-empty reason, and
every event a connector accepts serializes and reads back equal. Seeded, about 6,000 payloads
plus 300 drawn by hypothesis, a few seconds in all.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.boundary import FREE_TEXT_LIMIT
from connectors.registry import CONNECTORS, connector_for
from schemas.errors import SkippableRecordError
from tests.support.connector_fixtures import RECEIVED_AT, ConnectorFixture, load_fixtures
from tests.support.fuzz import (
    Mutant,
    dumped,
    mutants,
    outcome,
    paths_of,
    replaced,
    value_mutations,
)

SEED = 20260305
PER_FIXTURE = 60
FIXTURES = load_fixtures()
REGISTERED = [connector.source for connector in CONNECTORS]
KINDS = {
    "dropped field", "wrong type", "huge number", "huge exponent", "deep nesting",
    "lone surrogate", "huge string", "wrong encoding", "absurd date", "negative amount",
    "sub-minor-unit amount", "fake currency",
}


def _mutants_of(source: str) -> list[Mutant]:
    rng = random.Random(f"{SEED}:{source}")
    return [m for f in FIXTURES if f.source == source for m in mutants(f, rng, PER_FIXTURE)]


@pytest.mark.parametrize("source", REGISTERED)
def test_hostile_payloads_are_accepted_whole_or_rejected_with_a_reason(source: str) -> None:
    verdicts: dict[str, int] = {"accepted": 0, "rejected": 0, "crashed": 0}
    crashes: list[str] = []
    for mutant in _mutants_of(source):
        result = outcome(mutant)
        verdicts[result.verdict] += 1
        if result.verdict == "crashed":
            crashes.append(f"{mutant.fixture.name} / {mutant.kind}: {result.detail}")
    assert not crashes, f"{len(crashes)} crashes:\n" + "\n".join(crashes[:20])
    assert verdicts["accepted"] and verdicts["rejected"], verdicts


def test_every_kind_of_hostile_input_is_generated() -> None:
    made = {m.kind for source in REGISTERED for m in _mutants_of(source)}
    assert made == KINDS


_FIXTURE_PATHS = [
    (fixture, path, value)
    for fixture in FIXTURES
    for path, value in paths_of(json.loads(fixture.body))
    if path
]


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_single_hostile_value_anywhere_in_any_payload(data: st.DataObject) -> None:
    fixture, path, value = data.draw(st.sampled_from(_FIXTURE_PATHS), label="field")
    kind, replacement = data.draw(st.sampled_from(value_mutations(path, value)), label="value")
    body = dumped(replaced(json.loads(fixture.body), path, replacement))
    result = outcome(Mutant(fixture, kind, body))
    assert result.verdict != "crashed", result.detail


def _grown(node: Any, texts: set[str]) -> Any:
    if isinstance(node, dict):
        return {key: _grown(value, texts) for key, value in node.items()}
    if isinstance(node, list):
        return [_grown(value, texts) for value in node]
    if isinstance(node, str) and node in texts:
        return node + " " + "x" * 20_000
    return node


def _free_texts(fixture: ConnectorFixture) -> set[str]:
    connector = connector_for(fixture.source)
    events = connector.parse(fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)
    return {
        text
        for event in events
        for text in (event.text, event.shipment.raw_description if event.shipment else None)
        if text
    }


WITH_FREE_TEXT = [fixture for fixture in FIXTURES if _free_texts(fixture)]


@pytest.mark.parametrize("fixture", WITH_FREE_TEXT, ids=[f.id for f in WITH_FREE_TEXT])
def test_free_text_of_any_length_is_kept_capped_and_marked(fixture: ConnectorFixture) -> None:
    """Every free text an event carries, grown by 20,000 characters (five caps) in the payload."""
    connector = connector_for(fixture.source)
    texts = _free_texts(fixture)
    body = json.loads(fixture.body)
    raw = json.dumps(_grown(body, texts), ensure_ascii=False).encode()
    if fixture.source == "hub":
        # The hub's own protocol bounds its texts (docs/hub-protocol.md): a sender's error.
        with pytest.raises(SkippableRecordError, match=f"at most {FREE_TEXT_LIMIT} characters"):
            connector.parse(raw, received_at=RECEIVED_AT, headers=fixture.headers)
        return
    grown = connector.parse(raw, received_at=RECEIVED_AT, headers=fixture.headers)
    kept = [
        text
        for event in grown
        for text in (event.text, event.raw_reason,
                     event.shipment.raw_description if event.shipment else None)
        if text
    ]
    assert any("[truncated: " in text for text in kept)
    assert all(len(text) <= FREE_TEXT_LIMIT + 80 for text in kept)
