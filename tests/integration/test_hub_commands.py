"""The platform engineer's commands: the embedded broker's lifecycle and the one-command demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.local_kafka import _alive
from tests.support.workers import free_port
from translations.regions import load_regions

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
HUB = str(Path(sys.executable).with_name("hub"))


def hub_env(state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_STATE_DIR": str(state),
        "HUB_KAFKA_PORT": str(free_port()),
        "HUB_KAFKA_CONTROLLER_PORT": str(free_port()),
        "HUB_WEB_PORT": str(free_port()),
        "HUB_LOG_LEVEL": "warning",
    }


def run(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUB, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_kafka_up_status_down_leaves_no_process(tmp_path: Path) -> None:
    env = hub_env(tmp_path)
    try:
        up = run(env, "kafka", "up")
        assert up.returncode == 0, up.stderr
        assert "ready" in up.stdout
        status = run(env, "kafka", "status")
        assert status.returncode == 0
        assert f"127.0.0.1:{env['HUB_KAFKA_PORT']}" in status.stdout and "RSS" in status.stdout
        pid = int(status.stdout.split("pid ")[1].split(",")[0])
        assert _alive(pid)
    finally:
        down = run(env, "kafka", "down")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not _alive(pid)
    after = run(env, "kafka", "status")
    assert after.returncode == 1 and "not running" in after.stdout


def test_hub_run_brings_up_broker_worker_and_traffic_then_stops_them(tmp_path: Path) -> None:
    env = hub_env(tmp_path)
    result = run(env, "run", "--duration", "20", "--batch", "4", "--interval", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broker" in result.stdout and "worker" in result.stdout
    assert "sample cases produced" in result.stdout
    produced = int(result.stdout.split("done: ")[1].split()[0])
    assert produced >= 4
    # A working console link per region, its demo team token in the fragment, never the query.
    for code in load_regions().codes:
        assert f"/console?region={code}#token=" in result.stdout, code
    assert "?token=" not in result.stdout
    assert run(env, "kafka", "status").returncode == 1  # the broker it started is gone
