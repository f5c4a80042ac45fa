"""`hub kafka up --nodes 3` / status / down / wipe: a local three-node cluster's lifecycle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.local_kafka import _alive
from tests.cluster.conftest import free_port_block

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]
HUB = str(Path(sys.executable).with_name("hub"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUB, *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def test_kafka_up_three_nodes_status_down_wipe(tmp_path: Path) -> None:
    base = free_port_block(6)
    env = {**os.environ, "HUB_STATE_DIR": str(tmp_path), "HUB_KAFKA_PORT": str(base),
           "HUB_KAFKA_CONTROLLER_PORT": str(base + 1), "HUB_LOG_LEVEL": "warning"}
    addresses = [f"127.0.0.1:{base + offset}" for offset in (0, 2, 4)]
    pids: list[int] = []
    try:
        up = run(env, "kafka", "up", "--nodes", "3")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "brokers in metadata [1, 2, 3]" in up.stdout
        assert f"HUB_BROKER_URL='{';'.join(addresses)}' HUB_REPLICATION_FACTOR=3" in up.stdout
        status = run(env, "kafka", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        node_lines = [line for line in status.stdout.splitlines() if "  node " in line]
        assert len(node_lines) == 3
        for address, line in zip(addresses, node_lines, strict=True):
            assert address in line and "ready" in line, line
            pids.append(int(line.split("pid ")[1].split(",")[0]))
        assert len(set(pids)) == 3 and all(_alive(pid) for pid in pids)
        assert {path.name for path in (tmp_path / "kafka" / f"cluster-{base}").glob("node-*")} \
            == {"node-1", "node-2", "node-3"}
    finally:
        down = run(env, "kafka", "down")
    assert down.returncode == 0 and "kafka stopped" in down.stdout
    assert not any(_alive(pid) for pid in pids)
    after = run(env, "kafka", "status")
    assert after.returncode == 1 and "not running" in after.stdout
    assert run(env, "kafka", "wipe").returncode == 0
    assert not (tmp_path / "kafka" / f"cluster-{base}").exists()
