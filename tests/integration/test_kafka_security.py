"""The hub on a broker that requires SASL: a worker logs in with PLAIN and runs a story end to
end, a SCRAM-SHA-512 client reads what it made, and a wrong password is refused.

The module starts a broker of its own with an extra SASL_PLAINTEXT listener
(`hub.local_kafka.SaslListener`); every client below uses only that listener.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.local_kafka import LocalKafka, SaslListener
from hub.sample_traffic import generate
from schemas.settings import DEFAULT_KAFKA_VERSION, load_settings
from streams.cases import case_id_for_order
from streams.kafka_clients import kafka_client_options
from tests.support.kafka import read_until
from tests.support.stories import all_done, expected_cases, indexed, latest_cases, produce_payloads
from tests.support.workers import HubWorker, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

WORKER_USER, WORKER_PASSWORD = "hub-worker", "worker-secret-1f3a"
SCRAM_USER, SCRAM_PASSWORD = "hub-tools", "tools-secret-77c2"
OPERATOR_TOKEN = "tok-operator-sasl"


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    broker = LocalKafka(
        version=DEFAULT_KAFKA_VERSION,
        port=free_port(),
        controller_port=free_port(),
        data_dir=tmp_path_factory.mktemp("kafka-sasl"),
        cache_dir=load_settings().cache_dir,
        heap="384m",
        partitions=2,
        log_level="WARN",
        sasl=SaslListener(port=free_port(), plain_users={WORKER_USER: WORKER_PASSWORD},
                          scram_users={SCRAM_USER: SCRAM_PASSWORD}),
    )
    broker.start(timeout=180)
    try:
        yield broker
    finally:
        broker.stop()


def client_options(mechanism: str, user: str, password: str) -> dict[str, Any]:
    """What the hub's own clients would use with these settings."""
    return kafka_client_options(load_settings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism=mechanism,
        kafka_sasl_username=user, kafka_sasl_password=password,
    ))


async def test_a_worker_runs_a_story_through_sasl_and_a_scram_client_reads_it(
    sasl_broker: LocalKafka, topic_prefix: str, state_dir: Path
) -> None:
    bootstrap = sasl_broker.sasl_bootstrap
    tools = client_options("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD)
    stories = generate(1)
    expected = expected_cases(stories)
    worker = HubWorker(
        bootstrap=bootstrap, topic_prefix=topic_prefix, state_dir=state_dir,
        app_id=f"hub-{topic_prefix}", extra_env={
            "HUB_PARTITIONS": "2",
            "HUB_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "HUB_KAFKA_SASL_MECHANISM": "PLAIN",
            "HUB_KAFKA_SASL_USERNAME": WORKER_USER,
            "HUB_KAFKA_SASL_PASSWORD": WORKER_PASSWORD,
            "HUB_OPERATOR_TOKENS": json.dumps([OPERATOR_TOKEN]),
        },
    )
    # Ready means every stage and follower (ingest, case step, feeds, read model) is connected.
    with worker:
        await produce_payloads(bootstrap, topic_prefix, indexed(stories), client_options=tools)
        records = await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected),
                                   client_options=tools, timeout=120)
        assert latest_cases(records) == expected
        case_id = case_id_for_order(stories[0].order_id)
        request = urllib.request.Request(f"http://127.0.0.1:{worker.web_port}/cases/{case_id}",
                                         headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            assert json.loads(response.read())["case_id"] == case_id
        assert "SaslAuthenticationFailed" not in worker.log_tail(400)


@pytest.mark.parametrize("mechanism, user, password", [
    ("PLAIN", WORKER_USER, WORKER_PASSWORD), ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD)])
async def test_a_client_with_a_wrong_password_is_refused(
    sasl_broker: LocalKafka, mechanism: str, user: str, password: str
) -> None:
    refused = AIOKafkaProducer(bootstrap_servers=sasl_broker.sasl_bootstrap,
                               request_timeout_ms=5000,
                               **client_options(mechanism, user, "not-the-password"))
    with pytest.raises(KafkaError):
        await refused.start()
    await refused.stop()
    # The same client with the right password gets in: the refusal was the password.
    admitted = AIOKafkaProducer(bootstrap_servers=sasl_broker.sasl_bootstrap,
                                **client_options(mechanism, user, password))
    await admitted.start()
    await admitted.stop()
