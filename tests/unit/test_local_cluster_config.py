"""The local cluster's nodes are configured as one durable KRaft cluster (no broker started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.local_kafka import LocalKafka, LocalKafkaCluster
from schemas.errors import BrokerError


def properties(node: LocalKafka) -> dict[str, str]:
    text = node._write_config().read_text()  # noqa: SLF001 - the file the JVM reads
    return dict(line.split("=", 1) for line in text.splitlines())


def cluster(tmp_path: Path) -> LocalKafkaCluster:
    return LocalKafkaCluster(version="4.1.1", ports=[19092, 19094, 19096],
                             controller_ports=[19093, 19095, 19097], data_dir=tmp_path,
                             cache_dir=tmp_path / "cache")


def test_three_nodes_are_three_voters_of_one_cluster_with_their_own_ports_and_data(
    tmp_path: Path,
) -> None:
    nodes = [properties(node) for node in cluster(tmp_path).nodes]
    assert [n["node.id"] for n in nodes] == ["1", "2", "3"]
    voters = "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"
    assert {n["controller.quorum.voters"] for n in nodes} == {voters}
    assert [n["advertised.listeners"] for n in nodes] == [
        "PLAINTEXT://127.0.0.1:19092", "PLAINTEXT://127.0.0.1:19094",
        "PLAINTEXT://127.0.0.1:19096"]
    assert len({n["log.dirs"] for n in nodes}) == 3
    assert len({node.cluster_id for node in cluster(tmp_path).nodes}) == 1


def test_cluster_nodes_replicate_three_ways_and_keep_two_in_sync(tmp_path: Path) -> None:
    for node in cluster(tmp_path).nodes:
        config = properties(node)
        assert config["default.replication.factor"] == "3"
        assert config["min.insync.replicas"] == "2"
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["transaction.state.log.replication.factor"] == "3"
        assert config["transaction.state.log.min.isr"] == "2"
        assert config["unclean.leader.election.enable"] == "false"
        assert config["group.initial.rebalance.delay.ms"] == "0"


def test_single_node_keeps_one_replica(tmp_path: Path) -> None:
    config = properties(LocalKafka(version="4.1.1", port=19092, controller_port=19093,
                                   data_dir=tmp_path, cache_dir=tmp_path / "cache"))
    assert config["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert config["offsets.topic.replication.factor"] == "1"
    assert config["min.insync.replicas"] == "1"
    assert config["group.initial.rebalance.delay.ms"] == "0"


def test_colliding_ports_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="collide"):
        LocalKafkaCluster(version="4.1.1", ports=[19092, 19093], controller_ports=[19093, 19095],
                          data_dir=tmp_path, cache_dir=tmp_path)


def test_a_broker_dumps_its_class_archive_once_and_later_brokers_map_it(tmp_path: Path) -> None:
    first = LocalKafka(version="4.1.1", port=19092, controller_port=19093,
                       data_dir=tmp_path / "a", cache_dir=tmp_path / "cache")
    [dump, quiet] = first._class_archive_options()  # noqa: SLF001
    assert dump == f"-XX:ArchiveClassesAtExit={tmp_path / 'a' / 'classes.jsa'}"
    assert quiet == "-Xlog:cds=off"
    assert first._class_archive_options(dump=False) == []  # noqa: SLF001
    # What the JVM wrote at a clean exit moves next to the jars, for every later broker.
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "classes.jsa").write_bytes(b"archive")
    first._keep_class_archive()  # noqa: SLF001
    assert not (tmp_path / "a" / "classes.jsa").exists()
    [shared] = list((tmp_path / "cache" / "kafka" / "4.1.1").glob("classes-*.jsa"))
    assert shared.read_bytes() == b"archive"
    second = LocalKafka(version="4.1.1", port=19094, controller_port=19095,
                        data_dir=tmp_path / "b", cache_dir=tmp_path / "cache")
    assert second._class_archive_options() == [f"-XX:SharedArchiveFile={shared}"]  # noqa: SLF001
