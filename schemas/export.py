"""The hub's data contracts as versioned JSON Schemas (`hub schemas export`).

Every record the hub publishes or takes in has one `Contract` here: a name, a version and the
pydantic model it is generated from. Its JSON Schema (draft 2020-12) is committed at
`schemas/json/<name>/v<version>.json` with the `$id`

    https://aftersales-hub.example/schemas/<name>/v<version>.json

Published versions stay committed: a consumer pins the `$id` it was built against.

Within a version a contract may only change compatibly (`schemas.compat`: every document the
committed schema accepts, the model still accepts). `check_exported` compares the committed
files with the models: a file that differs is stale (`hub schemas export` rewrites it); a model
that no longer accepts what its committed version accepted needs a new version, and the export
refuses to overwrite the committed one. A new version also bumps the model's `schema_version`
where it has one (a test holds them equal).

This module sits above the models it lists, which live where they are produced (`schemas`,
`streams.policy`, `translations.views`); nothing below imports it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from schemas.actions import ActionRecord
from schemas.case import Case
from schemas.compat import breaking_changes
from schemas.errors import HubError
from schemas.events import CanonicalEvent
from schemas.hub_protocol import HUB_PROTOCOL_ADAPTER
from schemas.problems import Problem
from schemas.records import (
    CaseChangeRecord,
    DeadLetterHeaders,
    EraseMessage,
    LinkMessage,
    ShipmentRecord,
)
from streams.policy.steps import CasePolicy
from translations.views import LocalizedCaseView, LocalizedRegion


class IncompatibleSchemaError(HubError):
    """A model no longer accepts what the published version of its contract accepted."""


SCHEMA_BASE = "https://aftersales-hub.example/schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "json"


@dataclass(frozen=True, slots=True)
class Contract:
    """One published record shape: where it travels, and the model its schema comes from."""

    name: str
    version: int
    title: str
    where: str
    model: type[BaseModel] | TypeAdapter[Any]
    mode: Literal["validation", "serialization"] = "serialization"
    """`serialization` for what the hub writes, `validation` for what it takes in."""

    @property
    def schema_id(self) -> str:
        return f"{SCHEMA_BASE}/{self.name}/v{self.version}.json"

    @property
    def relative_path(self) -> Path:
        return Path(self.name) / f"v{self.version}.json"

    def json_schema(self) -> dict[str, Any]:
        """The contract's JSON Schema document, `$id` first."""
        adapter = self.model if isinstance(self.model, TypeAdapter) else TypeAdapter(self.model)
        schema = adapter.json_schema(mode=self.mode)
        description = schema.pop("description", None)
        schema.pop("title", None)
        header = {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": self.schema_id,
            "title": self.title,
            "description": f"{self.where}." + (f" {description}" if description else ""),
        }
        return {**header, **schema}


CONTRACTS: tuple[Contract, ...] = (
    Contract("canonical-event", 1, "Canonical event",
             "case.inbox (hub.message event and pending): one fact from one provider",
             CanonicalEvent),
    Contract("case-inbox-link", 1, "Case inbox link message",
             "case.inbox (hub.message link), keyed by the reference it links", LinkMessage),
    Contract("case-inbox-erase", 1, "Case inbox erase message",
             "case.inbox (hub.message erase), keyed by a case id or one of its references",
             EraseMessage),
    Contract("case", 1, "Case", "cases (compacted, keyed by case id) and GET /cases", Case),
    Contract("case-change", 1, "Case change", "case.changes, keyed by case id",
             CaseChangeRecord),
    Contract("shipment", 1, "Return shipment",
             "shipments (compacted, keyed by tracking number) and GET /shipments",
             ShipmentRecord),
    Contract("case-policy", 1, "Case policy", "case.policy (compacted, keyed by case id)",
             CasePolicy),
    Contract("feed-view", 1, "Localized case view",
             "feed.<region> (compacted, keyed by case id), GET /feeds/{region} and its stream",
             LocalizedCaseView),
    Contract("feed-region", 1, "Feed region", "GET /feeds: a region a token reads",
             LocalizedRegion),
    Contract("dead-letter-headers", 1, "Dead letter headers",
             "dlq.<stage>: the dlq.* headers of a dead letter (the value is the original record)",
             DeadLetterHeaders),
    Contract("problem", 1, "Problem details",
             "every HTTP error answer of the hub, as application/problem+json", Problem),
    Contract("hub-protocol", 1, "Aftersales hub marketplace protocol",
             "raw.hub: one JSON object per marketplace fact (see docs/hub-protocol.md)",
             HUB_PROTOCOL_ADAPTER, mode="validation"),
    Contract("agent-action", 1, "Agent action",
             "case.actions (keyed by case id): an agent's action on a case, as the worker "
             "writes it for POST /cases/{case_id}/actions", ActionRecord),
)
CONTRACTS_BY_NAME: dict[str, Contract] = {contract.name: contract for contract in CONTRACTS}


def json_schemas() -> dict[Path, dict[str, Any]]:
    """Relative path (`<name>/v<N>.json`) -> JSON Schema of every contract's current version."""
    return {contract.relative_path: contract.json_schema() for contract in CONTRACTS}


def render(schema: dict[str, Any]) -> str:
    """A schema file's exact text: stable, so a diff shows what changed."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def check_exported(
    directory: Path = DEFAULT_DIRECTORY, *, schemas: Callable[[], dict[Path, dict[str, Any]]] =
    json_schemas,
) -> list[str]:
    """What is wrong with the committed schemas in `directory` (empty: they match the models).

    Each problem is one line: a missing file, a stale file (`hub schemas export` fixes it), or
    an incompatible change within a version (give the contract a new version).
    """
    problems: list[str] = []
    for relative, schema in schemas().items():
        path = directory / relative
        if not path.exists():
            problems.append(f"{relative}: not exported (run hub schemas export)")
            continue
        committed = json.loads(path.read_text())
        breaking = breaking_changes(committed, schema)
        if breaking:
            problems += [f"{relative}: incompatible with the published version: {change}; "
                         "give the contract a new version" for change in breaking]
        elif path.read_text() != render(schema):
            problems.append(f"{relative}: differs from the model (run hub schemas export)")
    return problems


def export_json_schemas(directory: Path = DEFAULT_DIRECTORY) -> list[Path]:
    """Write every contract's current schema; published versions are left as they are.

    Raises:
        IncompatibleSchemaError: a model changed incompatibly within a published version.
    """
    current = json_schemas()
    incompatible = [
        f"{relative}: {change}" for relative, schema in current.items()
        if (directory / relative).exists()
        for change in breaking_changes(json.loads((directory / relative).read_text()), schema)
    ]
    if incompatible:
        raise IncompatibleSchemaError("\n".join(incompatible))
    written = []
    for relative, schema in current.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(schema)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
