"""The deployment description: what `docker compose` would run (no engine on this machine)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_three_kraft_nodes_with_replication_three_and_two_in_sync() -> None:
    services = compose()["services"]
    nodes = {name: s for name, s in services.items() if name.startswith("kafka-")}
    assert len(nodes) == 3
    ids = set()
    for node in nodes.values():
        env = node["environment"]
        assert node["image"].startswith("apache/kafka:")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
        assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3
        assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert len(env["KAFKA_CLUSTER_ID"]) == 22  # base64 of a 16-byte UUID
        ids.add(env["KAFKA_NODE_ID"])
    assert ids == {1, 2, 3}


def test_workers_are_built_here_scale_freely_and_keep_their_own_state() -> None:
    worker = compose()["services"]["worker"]
    assert worker["build"] == "."
    assert "ports" not in worker  # published ports would stop --scale
    assert worker["volumes"] == ["/var/lib/aftersales-hub"]  # anonymous: one per container
    env = worker["environment"]
    assert int(env["HUB_REPLICATION_FACTOR"]) == 3
    assert env["HUB_BROKER_URL"].count("kafka://") == 3


def test_image_runs_the_hub_worker() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["hub"]' in dockerfile and 'CMD ["worker"]' in dockerfile
    for package in ("hub", "streams", "connectors", "schemas", "translations"):
        assert f"COPY {package} {package}" in dockerfile
