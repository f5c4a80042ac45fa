"""`hub topics apply` on the real broker, and a worker that refuses a broken co-partitioning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.errors import ConfigurationError
from schemas.settings import load_settings
from streams.provisioning import apply_topics, current_plan, topic_specs
from tests.support.workers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
HUB = str(Path(sys.executable).with_name("hub"))
DAY_MS = 86_400_000


async def layout(bootstrap: str, names: list[str]) -> dict[str, tuple[int, str]]:
    """Partitions and retention.ms of each topic, straight from the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()
                      if t["topic"] in names}
        if not partitions:
            return {}
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None})
             for name in partitions])
        retention = {r["resource_name"]: r["config_entries"][0]["config_value"]
                     for r in response.to_object()["resources"]}
        return {name: (partitions[name], retention[name]) for name in partitions}
    finally:
        await admin.close()


async def test_apply_creates_every_topic_then_grows_and_reconfigures_in_place(
    bootstrap: str, topic_prefix: str
) -> None:
    settings = load_settings(broker_url=bootstrap, topic_prefix=topic_prefix, partitions=2)
    names = [spec.name for spec in topic_specs(settings)]
    await apply_topics(settings)
    created = await layout(bootstrap, names)
    assert set(created) == set(names)
    raw, inbox = f"{topic_prefix}raw.dhl", f"{topic_prefix}case.inbox"
    assert created[raw] == (2, str(14 * DAY_MS)) and created[inbox] == (2, str(7 * DAY_MS))

    changed = load_settings(broker_url=bootstrap, topic_prefix=topic_prefix, partitions=3,
                            retention_raw_days=5, retention_case_inbox_days=9)
    refused = await current_plan(changed)
    assert {c.spec.name for c in refused.changes if c.action == "refuse"} == {
        spec.name for spec in topic_specs(changed) if spec.co_partitioned}
    with pytest.raises(ConfigurationError, match="--repartition"):
        await apply_topics(changed)
    assert await layout(bootstrap, names) == created  # a refused plan changes nothing

    await apply_topics(changed, repartition=True)
    after = await layout(bootstrap, names)
    assert after[raw] == (3, str(5 * DAY_MS)) and after[inbox] == (3, str(9 * DAY_MS))
    assert after[f"{topic_prefix}cases"] == (3, str(730 * DAY_MS))
    assert all(c.action == "keep" for c in (await current_plan(changed)).changes)


async def test_worker_refuses_to_start_when_co_partitioned_topics_disagree(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{topic_prefix}case.state", 2, 1)])
    finally:
        await admin.close()
    env = {**os.environ, "HUB_BROKER_URL": bootstrap, "HUB_TOPIC_PREFIX": topic_prefix,
           "HUB_APP_ID": f"hub-{topic_prefix}", "HUB_PARTITIONS": "4",
           "HUB_STATE_DIR": str(tmp_path), "HUB_WEB_PORT": str(free_port()),
           "HUB_LOG_LEVEL": "warning"}
    result = subprocess.run([HUB, "worker"], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "break co-partitioning" in result.stderr
    assert f"{topic_prefix}case.state has 2 partitions, HUB_PARTITIONS is 4" in result.stderr
    # It refused before creating anything: the other topics are still missing.
    assert list(await layout(bootstrap, [f"{topic_prefix}case.inbox"])) == []
