"""The real Apache Kafka broker (KRaft) that the integration tests run against.

The session starts one broker of its own with `hub.local_kafka` on free ports, with its data in a
temporary directory, and stops it at the end. Broker jars come from the hub's cache (fetched
from Maven Central on first use). Each test uses topics with a unique prefix.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from hub.local_kafka import LocalKafka
from schemas.settings import DEFAULT_KAFKA_VERSION, load_settings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A running single-node broker for the whole test session."""
    broker = LocalKafka(
        version=DEFAULT_KAFKA_VERSION,
        port=free_port(),
        controller_port=free_port(),
        data_dir=tmp_path_factory.mktemp("kafka"),
        cache_dir=load_settings().cache_dir,
        heap="512m",
        partitions=4,
        log_level="WARN",
    )
    broker.start(timeout=180)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def bootstrap(kafka_broker: LocalKafka) -> str:
    return kafka_broker.bootstrap
