"""Broker failures under traffic, on a real three-node cluster (replication 3, min.insync 2).

A `hub worker` process streams sample stories while brokers are killed and brought back; the
final cases are compared with what an undisturbed sequential hub makes of the same input
(`expected_cases`): nothing lost, nothing applied twice, and the worker never restarted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hub.local_kafka import LocalKafkaCluster
from hub.sample_traffic import generate
from schemas.case import Case
from tests.support.cluster import (
    busiest_leader,
    cluster_worker,
    partition_state,
    steady_traffic,
    wait_fully_in_sync,
)
from tests.support.kafka import read_all, read_until
from tests.support.stories import (
    all_done,
    conflicting_changes,
    expected_cases,
    indexed,
    latest_cases,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

STORIES = 200  # about 1,300 raw records


def cases_done(expected: dict[str, Case], count: int):  # type: ignore[no-untyped-def]
    def done(records) -> bool:  # type: ignore[no-untyped-def]
        return len(latest_cases(records)) >= count

    return done


async def finish_and_check(bootstrap: str, prefix: str, expected: dict[str, Case]) -> None:
    records = await read_until(bootstrap, f"{prefix}cases", all_done(expected), timeout=300)
    latest = latest_cases(records)
    wrong = [case_id for case_id, case in expected.items() if latest.get(case_id) != case]
    assert wrong == [], (
        f"{len(wrong)} cases differ, e.g. {latest.get(wrong[0])} != {expected[wrong[0]]}"
    )
    assert conflicting_changes(await read_all(bootstrap, f"{prefix}case.changes")) == []


async def test_busiest_leader_killed_and_back_loses_and_repeats_nothing(
    kafka_cluster: LocalKafkaCluster, topic_prefix: str, tmp_path: Path
) -> None:
    bootstrap = kafka_cluster.bootstrap
    stories = generate(STORIES, seed=11)
    expected = expected_cases(stories)
    with cluster_worker(kafka_cluster, topic_prefix, tmp_path / "a") as worker:
        pid = worker.process.pid if worker.process else None
        await wait_fully_in_sync(bootstrap, topic_prefix, [1, 2, 3])
        traffic = asyncio.create_task(steady_traffic(
            bootstrap, topic_prefix, indexed(stories), slices=12, pause=1.0))
        try:
            await read_until(bootstrap, f"{topic_prefix}cases",
                             cases_done(expected, len(expected) // 5), timeout=180)
            victim = await busiest_leader(bootstrap, topic_prefix)
            await asyncio.to_thread(kafka_cluster.node(victim).kill)
            # The two others go on: cases keep coming while the victim is down.
            survivors = ",".join(n.bootstrap for n in kafka_cluster.nodes if n.node_id != victim)
            before = len(latest_cases(await read_all(survivors, f"{topic_prefix}cases")))
            await read_until(survivors, f"{topic_prefix}cases",
                             cases_done(expected, min(len(expected), before + 20)), timeout=180)
            leaders = {leader for leader, _ in
                       (await partition_state(survivors, topic_prefix)).values()}
            assert victim not in leaders, "the killed broker still leads partitions"
            await asyncio.to_thread(kafka_cluster.node(victim).start, timeout=120)
            await asyncio.wait_for(traffic, 180)
        finally:
            traffic.cancel()
        await finish_and_check(bootstrap, topic_prefix, expected)
        # The returning broker caught up and is back in every ISR.
        await wait_fully_in_sync(bootstrap, topic_prefix, [1, 2, 3])
        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
        assert worker.process.pid == pid


async def probe_outcome(delivery: asyncio.Future[object], *, wait: float) -> str:
    """What an acks=all send got within `wait` seconds: "acknowledged", the error it failed
    with, or "blocked" (still waiting)."""
    done, _ = await asyncio.wait([delivery], timeout=wait)
    if not done:
        return "blocked"
    error = delivery.exception()
    return type(error).__name__ if error is not None else "acknowledged"


async def test_two_of_three_brokers_down_acknowledges_nothing_and_recovers(
    kafka_cluster: LocalKafkaCluster, topic_prefix: str, tmp_path: Path
) -> None:
    bootstrap = kafka_cluster.bootstrap
    stories = generate(STORIES, seed=12)
    expected = expected_cases(stories)
    ordered = indexed(stories)
    half = len(ordered) // 2
    probe_topic = f"{topic_prefix}probe"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(probe_topic, 1, 3,
                                            topic_configs={"min.insync.replicas": "2"})])
    finally:
        await admin.close()
    with cluster_worker(kafka_cluster, topic_prefix, tmp_path / "a") as worker:
        pid = worker.process.pid if worker.process else None
        await wait_fully_in_sync(bootstrap, topic_prefix, [1, 2, 3])
        await steady_traffic(bootstrap, topic_prefix, ordered[:half], slices=4, pause=0.5)
        await read_until(bootstrap, f"{topic_prefix}cases",
                         cases_done(expected, len(expected) // 5), timeout=180)

        # The survivor leads the probe's partition: it takes the write but cannot replicate it.
        survivor = await busiest_leader(bootstrap, probe_topic)
        victims = [n for n in (1, 2, 3) if n != survivor]
        await asyncio.gather(*(asyncio.to_thread(kafka_cluster.node(n).kill) for n in victims))
        producer = AIOKafkaProducer(bootstrap_servers=kafka_cluster.node(survivor).bootstrap,
                                    acks="all", enable_idempotence=True, request_timeout_ms=5000)
        await producer.start()
        try:
            delivery = asyncio.ensure_future(producer.send_and_wait(probe_topic, b"probe"))
            outcome = await probe_outcome(delivery, wait=15)
            assert outcome != "acknowledged", "a write was acknowledged by one live broker of 3"
            assert outcome == "blocked" or outcome.endswith("Error"), outcome
            assert worker.process is not None and worker.process.poll() is None, (
                worker.log_tail())
            await asyncio.to_thread(kafka_cluster.start, timeout=180)
        finally:
            await asyncio.wait_for(producer.stop(), 60)
        await steady_traffic(bootstrap, topic_prefix, ordered[half:], slices=4, pause=0.5)
        await finish_and_check(bootstrap, topic_prefix, expected)
        await wait_fully_in_sync(bootstrap, topic_prefix, [1, 2, 3])
        assert worker.process.poll() is None and worker.process.pid == pid, worker.log_tail()
    print(f"probe producer with 2 of 3 brokers down: {outcome}")
