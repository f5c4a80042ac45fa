"""Exports the JSON Schema of every canonical model (`hub schemas export`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.case import Case
from schemas.events import SCHEMA_VERSION, CanonicalEvent
from schemas.money import Money


def json_schemas() -> dict[str, dict[str, Any]]:
    """Name -> JSON Schema (serialization mode: what is on the wire)."""
    models: dict[str, type[BaseModel]] = {
        "money": Money,
        "canonical-event": CanonicalEvent,
        "case": Case,
    }
    schemas = {
        f"{name}.v{SCHEMA_VERSION}": model.model_json_schema(mode="serialization")
        for name, model in models.items()
    }
    try:
        from schemas.hub_protocol import export_json_schema
    except ImportError:
        pass
    else:
        schemas["hub-marketplace-protocol.v1"] = export_json_schema()
    return schemas


def export_json_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written
