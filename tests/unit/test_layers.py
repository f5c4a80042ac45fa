"""The core sits below the app: nothing in connectors/, streams/, schemas/ or translations/
imports from hub/ (the app layer: wiring, CLI, web, intake)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("connectors", "streams", "schemas", "translations")


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", CORE)
def test_the_core_does_not_import_the_app_layer(package: str) -> None:
    offending = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / package).rglob("*.py")
        for module in imported_modules(path)
        if module == "hub" or module.startswith("hub.")
    )
    assert offending == []
