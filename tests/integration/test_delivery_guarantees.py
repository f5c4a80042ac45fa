"""Nothing lost, nothing applied twice: kill -9 a worker (also inside a case-step transaction),
share partitions, restart the broker.

Each test streams thousands of raw events through real `hub worker` processes, disturbs the run
in the middle, and compares the final cases with what an undisturbed sequential hub makes of the
same input (`expected_cases`): same status, money, timeline (every event once) and version.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.local_kafka import LocalKafka
from hub.sample_traffic import generate
from schemas.case import Case
from tests.support.kafka import read_all, read_until
from tests.support.stories import (
    all_done,
    conflicting_changes,
    expected_cases,
    indexed,
    latest_cases,
    produce_payloads,
)
from tests.support.workers import HubWorker, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

STORIES = 300  # about 2,000 raw records and 3,200 canonical events
REPO = Path(__file__).resolve().parents[2]


def worker(bootstrap: str, prefix: str, state_dir: Path, port: int | None = None) -> HubWorker:
    return HubWorker(
        bootstrap=bootstrap,
        topic_prefix=prefix,
        state_dir=state_dir,
        app_id=f"hub-{prefix}",
        web_port=port,
    )


def some_done(expected: dict[str, Case], fraction: float):  # type: ignore[no-untyped-def]
    def done(records) -> bool:  # type: ignore[no-untyped-def]
        return len(latest_cases(records)) >= fraction * len(expected)

    return done


async def finish_and_check(bootstrap: str, prefix: str, expected: dict[str, Case]) -> None:
    records = await read_until(bootstrap, f"{prefix}cases", all_done(expected), timeout=420)
    latest = latest_cases(records)
    wrong = [case_id for case_id, case in expected.items() if latest.get(case_id) != case]
    assert wrong == [], (
        f"{len(wrong)} cases differ, e.g. {latest.get(wrong[0])} != {expected[wrong[0]]}"
    )
    assert conflicting_changes(await read_all(bootstrap, f"{prefix}case.changes")) == []


async def test_worker_killed_with_sigkill_mid_stream_recovers_every_case(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stories = generate(STORIES, seed=1)
    expected = expected_cases(stories)
    state = tmp_path / "a"
    first = worker(bootstrap, topic_prefix, state).start()
    try:
        await produce_payloads(bootstrap, topic_prefix, indexed(stories))
        await read_until(bootstrap, f"{topic_prefix}cases", some_done(expected, 0.3), timeout=300)
    finally:
        first.kill()
    started = time.monotonic()
    with worker(bootstrap, topic_prefix, state, port=first.web_port):
        recovery = time.monotonic() - started
        await finish_and_check(bootstrap, topic_prefix, expected)
    print(f"restarted worker ready after {recovery:.1f} s")


async def test_two_workers_share_partitions_and_one_is_killed(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stories = generate(STORIES, seed=2)
    expected = expected_cases(stories)
    with worker(bootstrap, topic_prefix, tmp_path / "a") as survivor:
        doomed = worker(bootstrap, topic_prefix, tmp_path / "b").start()
        try:
            await produce_payloads(bootstrap, topic_prefix, indexed(stories))
            await read_until(
                bootstrap, f"{topic_prefix}cases", some_done(expected, 0.3), timeout=300
            )
        finally:
            doomed.kill()
        await finish_and_check(bootstrap, topic_prefix, expected)
        assert survivor.process is not None and survivor.process.poll() is None


async def test_broker_stopped_and_restarted_mid_stream(
    kafka_broker: LocalKafka, bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stories = generate(STORIES, seed=3)
    expected = expected_cases(stories)
    with worker(bootstrap, topic_prefix, tmp_path / "a"):
        await produce_payloads(bootstrap, topic_prefix, indexed(stories))
        await read_until(bootstrap, f"{topic_prefix}cases", some_done(expected, 0.3), timeout=300)
        await asyncio.to_thread(kafka_broker.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(kafka_broker.start, timeout=120)
        await finish_and_check(bootstrap, topic_prefix, expected)


async def test_worker_killed_inside_a_case_step_transaction_loses_and_repeats_nothing(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stories = generate(STORIES, seed=4)
    expected = expected_cases(stories)
    state, port = tmp_path / "a", free_port()
    await produce_payloads(bootstrap, topic_prefix, indexed(stories))
    crashing = subprocess.run(  # noqa: S603 - our own test module
        [sys.executable, "-m", "tests.support.crashing_pipeline", "3"],
        env={**worker(bootstrap, topic_prefix, state, port).env, "PYTHONPATH": str(REPO)},
        cwd=REPO, capture_output=True, timeout=300, check=False,
    )
    assert crashing.returncode == -signal.SIGKILL, crashing.stderr.decode()[-2000:]
    # The third batch's outputs reached the broker, but its transaction never committed.
    changes = f"{topic_prefix}case.changes"
    seen_by_nobody = len(await read_all(bootstrap, changes, committed_only=False)) - len(
        await read_all(bootstrap, changes))
    assert seen_by_nobody > 0
    # The same worker again (same state directory, same transactional id) fences its dead
    # transaction and does the batch over.
    with worker(bootstrap, topic_prefix, state, port=port):
        await finish_and_check(bootstrap, topic_prefix, expected)
