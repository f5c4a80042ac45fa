"""Shared test configuration: the fixtures every broker-backed tier uses."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest


@pytest.fixture
def topic_prefix() -> str:
    """A prefix that keeps one test's topics and consumer groups apart from every other's."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
