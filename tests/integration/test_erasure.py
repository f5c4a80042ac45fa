"""`hub erase` against a running worker: of two orders, the erased one is gone from every
compacted topic (committed reads) and from the query API; the other one is intact."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hub.sample_traffic import generate
from schemas.settings import load_settings
from streams.cases import case_id_for_order
from streams.provisioning import hub_topics
from tests.support.kafka import Record, read_all, read_until, wait_caught_up
from tests.support.stories import all_done, expected_cases, indexed, produce_payloads
from tests.support.workers import HUB, HubWorker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

OPERATOR_TOKEN = "tok-operator-erase"


def latest(records: list[Record]) -> dict[bytes, bytes | None]:
    """The value each key keeps once the topic is compacted (None: a tombstone)."""
    found: dict[bytes, bytes | None] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        if record.key is not None:
            found[record.key] = record.value
    return found


async def compacted(bootstrap: str, prefix: str) -> dict[str, dict[bytes, bytes | None]]:
    """Every compacted topic of the deployment, as compaction will leave it."""
    topics = [name for name, config in hub_topics(load_settings(topic_prefix=prefix)).items()
              if "compact" in config["cleanup.policy"]]
    return {topic.removeprefix(prefix): latest(await read_all(bootstrap, topic))
            for topic in topics}


def status_of(port: int, path: str) -> tuple[int, object]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


async def eventually(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not within the timeout"
        await asyncio.sleep(0.3)


async def test_erasing_one_order_removes_it_everywhere_and_keeps_the_other(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    stories = generate(2)  # a Shopify story and a hub-protocol story, each with a parcel
    expected = expected_cases(stories)
    erased_order, kept_order = stories[0].order_id, stories[1].order_id
    erased, kept = case_id_for_order(erased_order), case_id_for_order(kept_order)
    app_id = f"hub-{topic_prefix}"
    worker = HubWorker(bootstrap=bootstrap, topic_prefix=topic_prefix, state_dir=state_dir,
                       app_id=app_id,
                       extra_env={"HUB_OPERATOR_TOKENS": json.dumps([OPERATOR_TOKEN])})
    with worker:
        await produce_payloads(bootstrap, topic_prefix, indexed(stories))
        await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected))
        await wait_caught_up(bootstrap, f"{app_id}-feeds", [f"{topic_prefix}case.changes"])
        before = await compacted(bootstrap, topic_prefix)
        assert erased.encode() in before["case.state"] and erased.encode() in before["cases"]
        assert any(erased.encode() in views for topic, views in before.items()
                   if topic.startswith("feed."))
        assert status_of(worker.web_port, f"/cases/{erased}")[0] == 200

        env = {**os.environ, "HUB_BROKER_URL": f"kafka://{bootstrap}",
               "HUB_TOPIC_PREFIX": topic_prefix, "HUB_APP_ID": app_id}
        result = await asyncio.to_thread(
            subprocess.run, [str(HUB), "erase", "--order", erased_order, "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["case_id"] == erased and report["known"] and report["confirmed"]
        assert report["references"] and report["tracking_numbers"]
        tombstones = report["tombstones"]
        assert tombstones[f"{topic_prefix}case.state"] == 1 + len(report["references"])
        assert tombstones[f"{topic_prefix}shipments"] == len(report["tracking_numbers"])
        assert tombstones[f"{topic_prefix}cases"] == 1
        assert f"{topic_prefix}raw.<source>" in report["expires_by"]

        await wait_caught_up(bootstrap, f"{app_id}-case-step", [f"{topic_prefix}case.inbox"])
        await wait_caught_up(bootstrap, f"{app_id}-feeds", [f"{topic_prefix}case.changes"])
        after = await compacted(bootstrap, topic_prefix)
        gone = {erased, *report["references"]}
        for topic, values in after.items():
            for key, value in values.items():
                if key.decode() in gone or key.decode() in report["tracking_numbers"]:
                    assert value is None, f"{topic} still holds {key!r}"
        for reference in report["references"]:
            assert after["case.state"].get(reference.encode(), None) is None
        # The other order is intact, everywhere it was.
        for topic, values in before.items():
            for key, value in values.items():
                if key == kept.encode() or (value and kept.encode() in value):
                    assert after[topic].get(key) is not None, f"{topic} lost {key!r}"

        await eventually(lambda: status_of(worker.web_port, f"/cases/{erased}")[0] == 404)
        assert status_of(worker.web_port, f"/cases?order_id={erased_order}") == (200, [])
        for number in report["tracking_numbers"]:
            assert status_of(worker.web_port, f"/shipments/{number}")[0] == 404
        assert status_of(worker.web_port, f"/cases/{kept}")[0] == 200

        # A second erasure finds nothing left to erase.
        again = await asyncio.to_thread(
            subprocess.run, [str(HUB), "erase", "--order", erased_order, "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0 and json.loads(again.stdout)["known"] is False
