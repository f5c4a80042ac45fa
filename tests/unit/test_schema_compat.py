"""The compatibility checker on hand-written schema pairs: what it must call breaking, and
what it must let through (a new optional field, a new enum value, a wider type)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.compat import breaking_changes

MONEY = {
    "type": "object",
    "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
    "required": ["amount", "currency"],
    "additionalProperties": False,
}


def record(properties: dict[str, Any], required: list[str] | None = None,
           **defs: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return schema


NULLABLE_MONEY = {"anyOf": [{"$ref": "#/$defs/Money"}, {"type": "null"}], "default": None}
STATUS = {"type": "string", "enum": ["requested", "approved", "closed"]}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            record({"id": {"type": "string"}, "note": {"type": "string"}}, ["id"]),
            record({"id": {"type": "string"}}, ["id"]),
            ["$.note: field removed"],
            id="removed-field",
        ),
        pytest.param(
            record({"id": {"type": "string"}}),
            record({"id": {"type": "integer"}}),
            ["$.id: type string no longer accepted"],
            id="changed-type",
        ),
        pytest.param(
            record({"note": {"anyOf": [{"type": "string"}, {"type": "null"}]}}),
            record({"note": {"type": "string"}}),
            ["$.note: type null no longer accepted"],
            id="nullable-made-required-value",
        ),
        pytest.param(
            record({"id": {"type": "string"}}, ["id"]),
            record({"id": {"type": "string"}, "region": {"type": "string"}}, ["id", "region"]),
            ["$.region: new required field"],
            id="new-required-field",
        ),
        pytest.param(
            record({"status": STATUS}),
            record({"status": {"type": "string", "enum": ["requested", "closed"]}}),
            ["$.status: enum value 'approved' removed"],
            id="removed-enum-value",
        ),
        pytest.param(
            record({"kind": {"const": "link", "type": "string"}}),
            record({"kind": {"const": "erase", "type": "string"}}),
            ["$.kind: enum value 'link' removed"],
            id="changed-const",
        ),
        pytest.param(
            record({"text": {"type": "string"}}),
            record({"text": {"type": "string", "maxLength": 100}}),
            ["$.text: maxLength tightened to 100"],
            id="new-max-length",
        ),
        pytest.param(
            record({"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
            record({"code": {"type": "string", "pattern": "^[A-Z]{2}$"}}),
            ["$.code: pattern changed to '^[A-Z]{2}$'"],
            id="changed-pattern",
        ),
        pytest.param(
            record({"money": NULLABLE_MONEY}, Money=MONEY),
            record({"money": NULLABLE_MONEY}, Money={
                **MONEY, "properties": {"amount": {"type": "string"}}, "required": ["amount"]}),
            ["$.money.currency: field removed"],
            id="removed-field-behind-a-reference",
        ),
        pytest.param(
            record({"ids": {"type": "array", "items": {"type": ["string", "integer"]}}}),
            record({"ids": {"type": "array", "items": {"type": "string"}}}),
            ["$.ids[]: type narrowed, integer no longer accepted"],
            id="narrowed-array-items",
        ),
        pytest.param(
            record({"at": {"type": "string"}}),
            record({"at": {"type": "string", "format": "date-time"}}),
            ["$.at: format changed to 'date-time'"],
            id="new-format",
        ),
        pytest.param(
            {"type": "object", "properties": {"id": {"type": "string"}}},
            {"type": "object", "properties": {"id": {"type": "string"}},
             "additionalProperties": False},
            ["$: unknown fields no longer accepted"],
            id="closed-object",
        ),
        pytest.param(
            {"oneOf": [record({"kind": {"const": "a"}}), record({"kind": {"const": "b"}})]},
            {"oneOf": [record({"kind": {"const": "a"}})]},
            ["$.kind: enum value 'b' removed"],
            id="removed-union-member",
        ),
        pytest.param(
            record({"n": {"type": "integer", "minimum": 0}}),
            record({"n": {"type": "integer", "minimum": 1}}),
            ["$.n: minimum tightened to 1"],
            id="raised-minimum",
        ),
    ],
)
def test_breaking_changes_are_named_with_their_path(
    old: dict[str, Any], new: dict[str, Any], expected: list[str]
) -> None:
    assert breaking_changes(old, new) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            record({"id": {"type": "string"}}, ["id"]),
            record({"id": {"type": "string"}, "note": {"type": "string", "default": ""}}, ["id"]),
            id="new-optional-field",
        ),
        pytest.param(
            record({"status": STATUS}),
            record({"status": {**STATUS, "enum": [*STATUS["enum"], "disputed"]}}),
            id="new-enum-value",
        ),
        pytest.param(
            record({"note": {"type": "string"}}),
            record({"note": {"anyOf": [{"type": "string"}, {"type": "null"}]}}),
            id="made-nullable",
        ),
        pytest.param(
            record({"n": {"type": "integer"}}),
            record({"n": {"type": "number"}}),
            id="integer-widened-to-number",
        ),
        pytest.param(
            record({"id": {"type": "string"}, "region": {"type": "string"}}, ["id", "region"]),
            record({"id": {"type": "string"}, "region": {"type": "string"}}, ["id"]),
            id="required-made-optional",
        ),
        pytest.param(
            record({"text": {"type": "string", "maxLength": 100}}),
            record({"text": {"type": "string", "maxLength": 200, "description": "longer"}}),
            id="looser-bound-and-new-description",
        ),
        pytest.param(
            {"oneOf": [record({"kind": {"const": "a"}})]},
            {"oneOf": [record({"kind": {"const": "a"}}), record({"kind": {"const": "b"}})]},
            id="new-union-member",
        ),
        pytest.param(
            record({"money": {"$ref": "#/$defs/Money"}}, Money=MONEY),
            record({"money": NULLABLE_MONEY}, Money=MONEY),
            id="reference-made-nullable",
        ),
    ],
)
def test_compatible_changes_pass(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert breaking_changes(old, new) == []


def test_a_schema_is_compatible_with_itself() -> None:
    schema = record({"money": NULLABLE_MONEY, "status": STATUS}, ["status"], Money=MONEY)
    assert breaking_changes(schema, schema) == []
