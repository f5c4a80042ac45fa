"""Helpers for the broker-failure tests: who leads what, waiting for a whole ISR, steady traffic,
and hub workers pointed at a three-node cluster."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from hub.local_kafka import LocalKafkaCluster
from hub.sample_traffic import SamplePayload
from tests.support.stories import produce_payloads
from tests.support.workers import HubWorker

INTERNAL = ("__consumer_offsets", "__transaction_state")


def cluster_worker(cluster: LocalKafkaCluster, prefix: str, state_dir: Path) -> HubWorker:
    """A `hub worker` on the cluster: every broker in its URL, topics with 3 replicas."""
    return HubWorker(
        bootstrap=cluster.bootstrap.replace(",", ";"),
        topic_prefix=prefix,
        state_dir=state_dir,
        app_id=f"hub-{prefix}",
        extra_env={"HUB_REPLICATION_FACTOR": "3"},
    )


async def partition_state(
    bootstrap: str, prefix: str
) -> dict[tuple[str, int], tuple[int, tuple[int, ...]]]:
    """(topic, partition) -> (leader, ISR) of the test's topics and the brokers' internal ones
    (group offsets, transaction state), as the metadata of a live broker says."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        return {
            (topic["topic"], p["partition"]): (p["leader"], tuple(sorted(p["isr"])))
            for topic in await admin.describe_topics()
            if topic["topic"].startswith(prefix) or topic["topic"] in INTERNAL
            for p in topic["partitions"]
        }
    finally:
        await admin.close()


async def busiest_leader(bootstrap: str, prefix: str) -> int:
    """The broker that leads the most partitions (lowest id on a tie)."""
    leaders = Counter(leader for leader, _ in (await partition_state(bootstrap, prefix)).values())
    return min(leaders, key=lambda node: (-leaders[node], node))


async def wait_for(
    condition: Callable[[], object], what: Callable[[], str], *, timeout: float,
    interval: float = 0.5,
) -> None:
    """Poll the async `condition` until it is true; fail with `what()` after `timeout` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if await condition():  # type: ignore[misc]
                return
        except Exception:  # noqa: BLE001, S110 - a broker in failover may not answer yet
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what()}")
        await asyncio.sleep(interval)


async def wait_fully_in_sync(
    bootstrap: str, prefix: str, nodes: Sequence[int], *, timeout: float = 120.0
) -> None:
    """Wait until every partition of the test's and the internal topics has every node in its
    ISR."""
    lagging: list[str] = []

    async def whole() -> bool:
        state = await partition_state(bootstrap, prefix)
        lagging[:] = [f"{topic}-{p} isr={list(isr)}" for (topic, p), (_, isr) in state.items()
                      if set(isr) != set(nodes)]
        return bool(state) and not lagging

    await wait_for(whole, lambda: f"partitions not in sync on {list(nodes)}: {lagging[:8]}",
                   timeout=timeout)


async def steady_traffic(
    bootstrap: str, prefix: str, ordered: Sequence[tuple[int, SamplePayload]], *,
    slices: int, pause: float,
) -> None:
    """Produce the payloads in `slices` parts, `pause` seconds apart (acks=all, idempotent)."""
    size = -(-len(ordered) // slices)
    for start in range(0, len(ordered), size):
        await produce_payloads(bootstrap, prefix, ordered[start:start + size])
        await asyncio.sleep(pause)
