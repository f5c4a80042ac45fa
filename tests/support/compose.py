"""The deployment files as a compose implementation resolves them, and `.env.example` read.

There is no container engine on a test machine, but `docker compose config` (v2) and
`docker-compose config` (Debian's v1) validate and resolve a project without one: interpolation,
anchors, defaults and `${VAR:?}` checks are theirs, not ours. A missing tool fails the test that
needs it (scripts/bootstrap installs Debian's docker-compose), it never skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

_ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
_DOCUMENTED = re.compile(r"^#\s+-\s+(HUB_[A-Z0-9_]+):\s+\S")


def compose_tool() -> list[str]:
    """The command of the compose implementation on this machine; fails the test without one."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail(
        "no compose implementation (docker compose or docker-compose): the deployment files "
        "cannot be checked; run scripts/bootstrap (it installs Debian's docker-compose)"
    )


def run_compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`<compose> --env-file ENV -f docker-compose.yml ARGS`, with no variable of this process
    leaking into the interpolation (the shell environment would win over the env file)."""
    return subprocess.run(
        [*compose_tool(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(env_file.parent)},
        timeout=120,
    )


def resolved_model(env_file: Path) -> dict[str, Any]:
    """The project as the compose implementation resolves it with `env_file`."""
    result = run_compose(env_file, "config")
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = yaml.safe_load(result.stdout)
    return model


@dataclass(frozen=True)
class EnvExample:
    """`.env.example`: its variables (set or commented out) and the settings it documents as not
    set there (`# - HUB_NAME: why`)."""

    values: dict[str, str]
    commented: dict[str, str]
    documented: frozenset[str]

    @property
    def names(self) -> set[str]:
        return set(self.values) | set(self.commented)

    @property
    def required(self) -> list[str]:
        """Variables left empty: the operator must fill them in."""
        return sorted(name for name, value in self.values.items() if not value)


def read_env_example(path: Path = ENV_EXAMPLE) -> EnvExample:
    values: dict[str, str] = {}
    commented: dict[str, str] = {}
    documented: set[str] = set()
    for line in path.read_text().splitlines():
        if (listed := _DOCUMENTED.match(line)) is not None:
            documented.add(listed.group(1))
        elif (assignment := _ASSIGNMENT.match(line)) is not None:
            target = commented if assignment.group(1) else values
            target[assignment.group(2)] = _unquote(assignment.group(3))
    return EnvExample(values, commented, frozenset(documented))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def filled_env_file(directory: Path, **extra: str) -> Path:
    """`.env.example` with every required value filled in (`test-<name>` unless `extra` gives
    it) and `extra` added: what an operator who followed it has."""
    values = {name: f"test-{name.lower()}" for name in read_env_example().required} | extra
    lines = [f"{name}='{value}'" for name, value in values.items()]
    path = directory / "filled.env"
    path.write_text("\n".join(lines) + "\n")
    return path
