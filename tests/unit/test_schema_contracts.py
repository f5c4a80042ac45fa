"""The committed JSON Schemas are the contracts: they match the models, keep their `$id`s, and
describe the bytes the hub really writes; a model that breaks a published version is refused."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator

from connectors.registry import connector_for
from schemas.events import CANONICAL_EVENT
from schemas.export import (
    CONTRACTS,
    CONTRACTS_BY_NAME,
    DEFAULT_DIRECTORY,
    SCHEMA_BASE,
    IncompatibleSchemaError,
    check_exported,
    export_json_schemas,
    json_schemas,
    render,
)
from schemas.problems import problem
from streams.case_step import StepSettings, step_case
from streams.dead_letters import DeadLetter
from streams.policy import load_policy
from tests.support.connector_fixtures import RECEIVED_AT, load_fixtures
from tests.support.events import at
from tests.unit.test_case_fold import CASE_ID, scenario

ROOT = Path(__file__).resolve().parents[2]


def committed(name: str) -> dict[str, Any]:
    contract = CONTRACTS_BY_NAME[name]
    return json.loads((DEFAULT_DIRECTORY / contract.relative_path).read_text())


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(committed(name))


def test_committed_schemas_match_the_models() -> None:
    assert DEFAULT_DIRECTORY == ROOT / "schemas" / "json"
    assert check_exported() == []


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.name for c in CONTRACTS])
def test_each_schema_is_valid_json_schema_with_its_versioned_id(contract) -> None:  # type: ignore[no-untyped-def]
    schema = committed(contract.name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{SCHEMA_BASE}/{contract.name}/v{contract.version}.json"


def test_ids_are_unique() -> None:
    ids = [committed(c.name)["$id"] for c in CONTRACTS]
    assert len(ids) == len(set(ids))


VERSIONED = [c for c in CONTRACTS if "schema_version" in getattr(c.model, "model_fields", {})]


def test_records_that_carry_a_schema_version_are_listed() -> None:
    assert {c.name for c in VERSIONED} >= {"canonical-event", "case", "case-policy", "feed-view"}


@pytest.mark.parametrize("contract", VERSIONED, ids=[c.name for c in VERSIONED])
def test_a_models_schema_version_is_its_contracts_version(contract) -> None:  # type: ignore[no-untyped-def]
    annotation = contract.model.model_fields["schema_version"].annotation
    assert get_args(annotation) == (contract.version,)


def test_connector_output_validates_against_the_canonical_event_schema() -> None:
    check = validator("canonical-event")
    checked = 0
    for fixture in load_fixtures():
        parsed = connector_for(fixture.source).parse(
            fixture.body, received_at=RECEIVED_AT, headers=fixture.headers)
        for event in parsed:
            check.validate(json.loads(CANONICAL_EVENT.dump_json(event)))
            checked += 1
    assert checked > 100


def test_case_step_outputs_validate_against_their_topic_schemas() -> None:
    settings = StepSettings(policy=load_policy(), settle=timedelta(0),
                            parked_ttl=timedelta(hours=3))
    state = None
    seen: dict[str, int] = {}
    schema_of_role = {"cases": "case", "changes": "case-change", "policy": "case-policy",
                      "shipments": "shipment"}
    for event in scenario():
        result = step_case(state, CASE_ID, [(CANONICAL_EVENT.dump_json(event), event)],
                           now=at(1000), settings=settings)
        state = result.state
        for output in result.outputs:
            if output.role in schema_of_role and output.value is not None:
                validator(schema_of_role[output.role]).validate(json.loads(output.value))
                seen[output.role] = seen.get(output.role, 0) + 1
    assert set(seen) == set(schema_of_role)


def test_dead_letter_headers_and_problems_validate() -> None:
    letter = DeadLetter(stage="normalize", source="stripe", reason="not JSON", error="X",
                        topic="raw.stripe", partition=3, offset=42, failed_at=at(1), key=None,
                        value=b"{")
    headers = {k.removeprefix("dlq."): v.decode() for k, v in letter.headers()}
    validator("dead-letter-headers").validate(headers)
    validator("problem").validate(problem(404, "not_found", "no case 'c'").model_dump())


def test_a_compatible_model_change_makes_the_file_stale_and_export_rewrites_it(
    tmp_path: Path,
) -> None:
    export_json_schemas(tmp_path)
    path = tmp_path / "case" / "v1.json"
    older = json.loads(path.read_text())
    del older["properties"]["reason_language"]  # the model has since added an optional field
    path.write_text(render(older))
    assert check_exported(tmp_path) == ["case/v1.json: differs from the model (run hub schemas "
                                        "export)"]
    export_json_schemas(tmp_path)
    assert check_exported(tmp_path) == []


def test_an_incompatible_model_change_is_refused_within_a_version(tmp_path: Path) -> None:
    export_json_schemas(tmp_path)
    path = tmp_path / "case" / "v1.json"
    published = json.loads(path.read_text())
    # As if v1 was published with a field the model has since dropped.
    published["properties"]["priority"] = {"type": "integer"}
    path.write_text(render(published))
    assert check_exported(tmp_path) == [
        "case/v1.json: incompatible with the published version: $.priority: field removed; "
        "give the contract a new version"]
    with pytest.raises(IncompatibleSchemaError, match=r"case/v1.json: \$.priority: field removed"):
        export_json_schemas(tmp_path)
    assert json.loads(path.read_text()) == published


def test_a_new_version_leaves_the_published_one_and_is_checked_on_its_own(
    tmp_path: Path,
) -> None:
    published = dict(json_schemas()[Path("case/v1.json")])
    published["properties"] = {**published["properties"], "priority": {"type": "integer"}}
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "v1.json").write_text(render(published))
    bumped = {Path("case/v2.json"): json_schemas()[Path("case/v1.json")]}
    assert check_exported(tmp_path, schemas=lambda: bumped) == [
        "case/v2.json: not exported (run hub schemas export)"]
