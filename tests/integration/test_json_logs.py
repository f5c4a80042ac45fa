"""`HUB_LOG_FORMAT=json` on a real worker process: every line it writes is one JSON object, and
the dead letter of a bad record names the record (topic, partition, offset, source, stage)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.kafka import produce
from tests.support.workers import HubWorker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def log_lines(worker: HubWorker) -> list[str]:
    return [line for line in worker.log_path.read_text(errors="replace").splitlines() if line]


async def wait_for_line(worker: HubWorker, wanted: Any, *, timeout: float) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while True:
            for line in log_lines(worker):
                document = json.loads(line)
                if wanted(document):
                    return dict(document)
            await asyncio.sleep(0.25)

    return await asyncio.wait_for(poll(), timeout)


async def test_a_dead_letter_is_logged_as_json_with_the_record_it_came_from(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    with HubWorker(bootstrap=bootstrap, topic_prefix=topic_prefix, state_dir=state_dir,
                   app_id=f"hub-{topic_prefix}", extra_env={"HUB_LOG_FORMAT": "json"}) as worker:
        [(partition, offset)] = await produce(bootstrap, f"{topic_prefix}raw.hub",
                                              [(b"bad", b"{not json")])
        letter = await wait_for_line(
            worker, lambda d: d["logger"] == "streams.ingest" and d["level"] == "WARNING",
            timeout=60)
        lines = log_lines(worker)

    assert letter["message"].startswith(f"dead letter from {topic_prefix}raw.hub[{partition}]")
    assert (letter["topic"], letter["partition"], letter["offset"]) == (
        f"{topic_prefix}raw.hub", partition, offset)
    assert (letter["source"], letter["stage"]) == ("hub", "normalize")
    assert letter["time"].endswith("Z")
    # Not one line of another shape: faust's banner and the libraries' lines are JSON too.
    documents = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= d.keys() for d in documents)
    assert len(documents) > 5
