"""A real three-node Apache Kafka cluster (KRaft) for the broker-failure tests.

The tier starts it with `hub.local_kafka.LocalKafkaCluster` on free ports chosen at run time
(apart from the single-node test broker and any other broker on the machine), its data in a
temporary directory, and stops it after its last test. Every node is a broker and a controller
voter; topics get 3 replicas and `min.insync.replicas=2`. Tests kill and restart nodes: each
test waits until every node is back and in sync before it ends, so the next one starts from a
whole cluster.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator

import pytest

from hub.local_kafka import LocalKafkaCluster
from schemas.settings import DEFAULT_KAFKA_VERSION, load_settings

pytestmark = pytest.mark.cluster


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_block(size: int) -> int:
    """The first of `size` consecutive free ports (the CLI derives a cluster's node ports from
    one base port)."""
    rng = random.Random()  # noqa: S311 - port choice, not security
    for _ in range(200):
        base = rng.randrange(20_000, 60_000)
        if all(_bindable(port) for port in range(base, base + size)):
            return base
    raise RuntimeError(f"no {size} consecutive free ports found")


def free_ports(count: int) -> list[int]:
    base = free_port_block(count)
    return list(range(base, base + count))


@pytest.fixture(scope="package")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafkaCluster]:
    """A running three-node cluster for the tests of this folder (stopped after them, so its
    three JVMs do not run beside the other tiers)."""
    ports = free_ports(6)
    cluster = LocalKafkaCluster(
        version=DEFAULT_KAFKA_VERSION,
        ports=ports[0::2],
        controller_ports=ports[1::2],
        data_dir=tmp_path_factory.mktemp("kafka-cluster"),
        cache_dir=load_settings().cache_dir,
        heap="384m",
        partitions=4,
        log_level="WARN",
    )
    cluster.start(timeout=240)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_bootstrap(kafka_cluster: LocalKafkaCluster) -> str:
    return kafka_cluster.bootstrap
