"""The intake as docker-compose.yml runs it: `hub ingest` with exactly the environment the compose
implementation resolves for the `ingest` service from an operator's `.env` (only the broker,
topic prefix and port moved to this test's), against the session's real broker.

A source whose secret the operator set answers and is on Kafka; one without answers 503.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.test_webhook_intake import (
    SHOPIFY_SECRET,
    create_topics,
    read_partition,
    shopify_refund,
    stripe_event,
)
from tests.support.compose import filled_env_file, resolved_model
from tests.support.workers import free_port

pytestmark = pytest.mark.integration

TIMEOUT = 30.0
HUB = str(Path(sys.executable).with_name("hub"))


@pytest.fixture
def compose_intake_env(tmp_path: Path) -> dict[str, str]:
    """The intake's environment, resolved by compose from `.env.example` filled in as the README
    says, with the Shopify secret set."""
    env_file = filled_env_file(
        tmp_path,
        HUB_OPERATOR_TOKENS='["operator"]',
        HUB_WEBHOOK_SECRETS__SHOPIFY=f'["{SHOPIFY_SECRET}"]',
    )
    intake = resolved_model(env_file)["services"]["ingest"]
    assert intake["command"][:2] == ["ingest", "--port"]
    return {name: str(value) for name, value in intake["environment"].items() if value is not None}


@pytest.fixture
def intake_process(
    compose_intake_env: dict[str, str], bootstrap: str, topic_prefix: str, tmp_path: Path
) -> Iterator[str]:
    port = free_port()
    env = compose_intake_env | {
        "HUB_BROKER_URL": bootstrap,
        "HUB_TOPIC_PREFIX": topic_prefix,
        "HUB_WEB_HOST": "127.0.0.1",
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    process = subprocess.Popen(
        [HUB, "ingest", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "intake.log").open("wb"),
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def client(intake_process: str, tmp_path: Path) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        await asyncio.wait_for(_until_up(session, intake_process, tmp_path), 60)
        yield session


async def _until_up(session: aiohttp.ClientSession, url: str, tmp_path: Path) -> None:
    while True:
        try:
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        log = (tmp_path / "intake.log").read_text(errors="replace")
        assert "Traceback" not in log and "hub:" not in log, log
        await asyncio.sleep(0.2)


async def test_a_source_with_its_secret_in_env_is_answered_and_on_kafka(
    client: aiohttp.ClientSession, intake_process: str, bootstrap: str, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}raw.shopify"
    await asyncio.wait_for(create_topics(bootstrap, [topic]), TIMEOUT)
    body, headers = shopify_refund()
    async with client.post(
        f"{intake_process}/webhooks/shopify", data=body, headers=headers
    ) as response:
        assert response.status == 200, await response.text()
    (record,) = await asyncio.wait_for(read_partition(bootstrap, topic), TIMEOUT)
    assert record.value == body


async def test_a_source_without_its_secret_is_503_not_configured(
    client: aiohttp.ClientSession, intake_process: str
) -> None:
    body, headers = stripe_event()
    async with client.post(
        f"{intake_process}/webhooks/stripe", data=body, headers=headers
    ) as response:
        assert response.status == 503
        assert (await response.json())["code"] == "not_configured"
