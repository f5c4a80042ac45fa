"""`/livez` and `/readyz` of real worker processes: a second worker joining the groups makes the
first one's readiness fail for the rebalance and come back, while it stays alive throughout;
`/health` answers as `/readyz` does."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.workers import HubWorker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def probe(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_a_rebalance_fails_readiness_but_never_liveness(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    def worker(name: str) -> HubWorker:
        return HubWorker(bootstrap=bootstrap, topic_prefix=topic_prefix,
                         state_dir=tmp_path / name, app_id=f"hub-{topic_prefix}")

    with worker("first") as first:
        assert probe(first.web_port, "/livez")[0] == 200
        status, ready = probe(first.web_port, "/readyz")
        assert status == 200 and ready["ready"] is True
        assert ready["stages_ready"] == {"ingest": True, "case_step": True, "feeds": True}
        assert ready["faust_consumer_started"] is True and ready["stages_rebalancing"] == []
        health_status, health = probe(first.web_port, "/health")
        assert health_status == 200 and health["ready"] is True

        readiness: list[int] = []
        liveness: list[int] = []
        stop = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                readiness.append((await asyncio.to_thread(probe, first.web_port, "/readyz"))[0])
                liveness.append((await asyncio.to_thread(probe, first.web_port, "/livez"))[0])
                await asyncio.sleep(0.05)

        watching = asyncio.create_task(watch())
        second = await asyncio.to_thread(worker("second").start, timeout=120)
        try:
            async def settled() -> None:
                # Not ready at some point, then ready again.
                while not (503 in readiness and readiness[-1] == 200
                           and readiness.index(503) < len(readiness) - 1):
                    await asyncio.sleep(0.2)

            await asyncio.wait_for(settled(), 90)
        finally:
            stop.set()
            await watching
            second.stop()

    assert 503 in readiness and readiness[-1] == 200
    assert set(liveness) == {200}
