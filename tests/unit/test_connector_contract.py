"""The contract every registered connector keeps, run over every recorded payload.

A new connector gets these checks by being registered and having fixtures: output validates and
matches what a person read off the payload, parsing is deterministic, event ids are stable and
unique, and truncated, garbage or wrong-type input raises the hub's skippable record error.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.boundary import Ignored
from connectors.registry import CONNECTORS, connector_for
from schemas.errors import SkippableRecordError
from schemas.events import CANONICAL_EVENT, SOURCE_KINDS, ShipmentStatus
from tests.support.connector_fixtures import FIXTURES as FIXTURES_DIR
from tests.support.connector_fixtures import RECEIVED_AT, load_fixtures, mismatches

FIXTURES = load_fixtures()
FIXTURE_IDS = [fixture.id for fixture in FIXTURES]
REGISTERED = [connector.source for connector in CONNECTORS]


def test_every_contract_source_is_registered() -> None:
    assert sorted(REGISTERED) == sorted(SOURCE_KINDS)


@pytest.mark.parametrize("source", REGISTERED)
def test_every_connector_has_fixtures_with_expectations(source: str) -> None:
    mine = [fixture for fixture in FIXTURES if fixture.source == source]
    assert len(mine) >= 3, f"{source} needs recorded payloads in tests/fixtures/{source}/"
    assert all(fixture.expected is not None for fixture in mine)


@pytest.mark.parametrize("source", REGISTERED)
def test_descriptor_is_consistent(source: str) -> None:
    connector = connector_for(source)
    assert connector.kind == SOURCE_KINDS[source]
    assert connector.raw_topic == f"raw.{source}"
    assert (FIXTURES_DIR / connector.fixtures_folder).is_dir()
    # Only a carrier maps provider status codes to shipment statuses.
    assert bool(connector.status_table) == (connector.kind == "carrier")
    assert set(connector.status_table.values()) <= set(get_args(ShipmentStatus))
    http = connector.http
    assert (http is None) == (connector.signature_scheme == "kafka-direct")
    if http is not None:
        headers = (*http.signature_headers, *http.kept_headers)
        assert all(name == name.lower().strip() and name for name in headers)
        assert http.signature_headers or connector.signature_scheme == "adyen-hmac-item"
        assert http.retry_window >= timedelta(0)


def test_every_fixture_folder_belongs_to_a_registered_connector() -> None:
    folders = {path.name for path in FIXTURES_DIR.iterdir() if path.is_dir()}
    assert folders == {connector.fixtures_folder for connector in CONNECTORS}


@pytest.mark.parametrize("fixture", FIXTURES, ids=FIXTURE_IDS)
def test_fixture_normalizes_to_what_the_payload_says(fixture) -> None:  # type: ignore[no-untyped-def]
    connector = connector_for(fixture.source)
    events = connector.parse(fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)
    as_json = [json.loads(CANONICAL_EVENT.dump_json(event)) for event in events]
    for event in events:
        assert event.source == fixture.source
        assert CANONICAL_EVENT.validate_json(CANONICAL_EVENT.dump_json(event)) == event
    assert fixture.expected is not None
    problems = mismatches(fixture.expected, as_json, "events")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("fixture", FIXTURES, ids=FIXTURE_IDS)
def test_parse_is_deterministic_with_unique_stable_ids(fixture) -> None:  # type: ignore[no-untyped-def]
    connector = connector_for(fixture.source)
    first = connector.parse(fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)
    again = connector.parse(fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)
    assert first == again
    ids = [event.event_id for event in first]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("fixture", FIXTURES, ids=FIXTURE_IDS)
def test_truncated_payload_is_a_skippable_record_error(fixture) -> None:  # type: ignore[no-untyped-def]
    connector = connector_for(fixture.source)
    for cut in (1, len(fixture.body) // 2, len(fixture.body) - 2):
        with pytest.raises(SkippableRecordError) as caught:
            connector.parse(fixture.body[:cut], received_at=RECEIVED_AT, headers=fixture.headers)
        assert caught.value.source == fixture.source
        assert caught.value.reason


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("source", REGISTERED)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_JSON)
def test_arbitrary_json_never_leaks_a_foreign_exception(source: str, document: object) -> None:
    connector = connector_for(source)
    raw = json.dumps(document).encode()
    try:
        events = connector.parse(raw, received_at=RECEIVED_AT, headers={})
    except SkippableRecordError as exc:
        assert exc.source == source and exc.reason
    else:
        assert isinstance(events, list)


@pytest.mark.parametrize("source", REGISTERED)
@settings(max_examples=40, deadline=None)
@given(garbage=st.binary(max_size=64))
def test_garbage_bytes_are_a_skippable_record_error(source: str, garbage: bytes) -> None:
    connector = connector_for(source)
    try:
        events = connector.parse(garbage, received_at=RECEIVED_AT, headers={})
    except SkippableRecordError as exc:
        assert exc.source == source
    else:
        assert isinstance(events, list)


@pytest.mark.parametrize("fixture", FIXTURES, ids=FIXTURE_IDS)
def test_wrong_types_in_a_real_payload_are_skippable(fixture) -> None:  # type: ignore[no-untyped-def]
    """Every top-level field given a value of another type: a record error or a valid parse."""
    connector = connector_for(fixture.source)
    document = json.loads(fixture.body)
    if not isinstance(document, dict):
        pytest.skip("payload is not an object")
    for key in document:
        for wrong in ([], {"x": 1}, "not-a-value", 12345, None):
            mutated = json.dumps({**document, key: wrong}).encode()
            try:
                events = connector.parse(mutated, received_at=RECEIVED_AT, headers=fixture.headers)
            except SkippableRecordError as exc:
                assert exc.source == fixture.source
            else:
                assert all(CANONICAL_EVENT.validate_python(e) == e for e in events)


@pytest.mark.parametrize("source", REGISTERED)
def test_another_sources_payload_is_dead_lettered_never_dropped(source: str) -> None:
    """Every other source's recorded payload on this source's topic raises the skippable
    error (mostly "unrecognized payload: ..."); none vanishes as [] or as ignored."""
    connector = connector_for(source)
    unrecognized = 0
    foreign = [fixture for fixture in FIXTURES if fixture.source != source]
    for fixture in foreign:
        with pytest.raises(SkippableRecordError) as caught:
            connector.parse(fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)
        assert caught.value.source == source and caught.value.reason
        unrecognized += caught.value.reason.startswith("unrecognized payload: ")
    assert unrecognized >= len(foreign) - 3, f"{unrecognized} of {len(foreign)}"


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.expected == []], ids=lambda f: f.id
)
def test_a_payload_giving_no_events_says_why(fixture) -> None:  # type: ignore[no-untyped-def]
    events = connector_for(fixture.source).parse(
        fixture.body, received_at=RECEIVED_AT, headers=fixture.headers
    )
    assert isinstance(events, Ignored) and events == []
    assert events.source == fixture.source and events.kind and events.reason
