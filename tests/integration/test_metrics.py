"""`GET /metrics`, `/metrics.json` and `/dashboard` scraped from a running worker after traffic.

Return requests from two marketplaces and one garbage payload go to `raw.hub`, one record
without its message header to `case.inbox` and one unreadable change to `case.changes`; the
scraped exposition must count exactly those cases per marketplace, one dead letter of each
stage (normalize, cases, feeds), the stages' records, and the worker's consumer offsets of
`raw.hub`, where before the traffic it counted none.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.web.metrics import parse_prometheus
from tests.integration.test_policy_stream import policy_worker, return_request
from tests.support.kafka import produce

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

Samples = dict[str, list[tuple[dict[str, str], float]]]


def get(port: int, path: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:  # noqa: S310
        return response.status, response.headers.get("Content-Type", ""), response.read()


async def scrape_until(port: int, done: Callable[[Samples], bool], *, timeout: float) -> Samples:
    """Scrape /metrics until `done(samples)` holds; the last samples on timeout, in the error."""
    last: Samples = {}

    async def poll() -> Samples:
        nonlocal last
        for _ in range(10_000):  # bounded; wait_for ends it first
            _, _, body = await asyncio.to_thread(get, port, "/metrics")
            last = parse_prometheus(body.decode())
            if done(last):
                return last
            await asyncio.sleep(0.25)
        raise AssertionError("metrics never satisfied the condition")

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError as exc:
        raise AssertionError(f"metrics not as expected after {timeout} s: {last}") from exc


def opened_by_marketplace(samples: Samples) -> dict[str, float]:
    totals: dict[str, float] = {}
    for labels, value in samples.get("hub_service_cases_opened", []):
        totals[labels["marketplace"]] = totals.get(labels["marketplace"], 0) + value
    return totals


def value(samples: Samples, name: str, **labels: str) -> float | None:
    for found, number in samples.get(name, []):
        if all(found.get(k) == v for k, v in labels.items()):
            return number
    return None


async def test_metrics_count_cases_per_marketplace_and_dead_letters(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    requests = [return_request(f"m-acme-{i}", at=at, marketplace="acme") for i in range(3)]
    requests += [return_request(f"m-zeta-{i}", at=at, marketplace="zeta", country="JP",
                                reason="size_fit") for i in range(2)]
    expected = {"acme": 3.0, "zeta": 2.0}

    with policy_worker(bootstrap, topic_prefix, state_dir) as running:
        before = parse_prometheus(get(running.web_port, "/metrics")[2].decode())
        await produce(bootstrap, f"{topic_prefix}raw.hub", [*requests, (b"junk", b"{not json")])
        await produce(bootstrap, f"{topic_prefix}case.inbox", [(b"case-x", b"no header")])
        await produce(bootstrap, f"{topic_prefix}case.changes", [(b"case-y", b"{not json")])

        raw_hub = f"{topic_prefix}raw.hub"

        def settled(samples: Samples) -> bool:
            # ... and the worker consumed all 6 raw records and committed them: lag 0.
            end = [n for labels, n in samples.get("hub_consumer_end_offset", [])
                   if labels["topic"] == raw_hub]
            lag = [n for labels, n in samples.get("hub_consumer_lag_records", [])
                   if labels["topic"] == raw_hub]
            return (opened_by_marketplace(samples) == expected
                    and all(dead_letters(samples, stage) == 1.0
                            for stage in ("normalize", "cases", "feeds"))
                    and sum(end) == 6.0 and bool(lag) and sum(lag) == 0.0)

        samples = await scrape_until(running.web_port, settled, timeout=90)

        status, content_type, body = get(running.web_port, "/metrics")
        document = json.loads(get(running.web_port, "/metrics.json")[2])
        dashboard = get(running.web_port, "/dashboard")

    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    assert opened_by_marketplace(samples) == expected
    assert value(samples, "hub_dead_letters_total", stage="normalize", source="hub") == 1.0
    assert value(samples, "hub_dead_letters_total", stage="cases",
                 error="UnknownInboxMessage") == 1.0
    assert value(samples, "hub_dead_letters_total", stage="feeds", source="case.changes") == 1.0
    assert value(samples, "hub_service_cases_opened", marketplace="zeta", region="JP",
                 reason="size_fit") == 2.0
    # No answer yet: nothing resolved, no first response observed.
    assert value(samples, "hub_service_cases_resolved", marketplace="acme") == 0.0
    assert value(samples, "hub_service_time_to_first_response_seconds_count",
                 marketplace="acme") == 0.0
    # The counters moved with the traffic: nothing before it, every record after.
    assert value(before, "hub_stage_records_total", stage="ingest") == 0.0
    assert value(samples, "hub_stage_records_total", stage="ingest") == 6.0
    assert value(samples, "hub_ingest_records_total", source="hub") == 6.0
    assert value(samples, "hub_ingest_records_sent_total", kind="event") == 5.0
    assert (value(samples, "hub_stage_records_total", stage="case_step") or 0) >= 6
    assert (value(samples, "hub_stage_records_total", stage="feeds") or 0) >= 6
    assert (value(samples, "hub_case_step_batches_total") or 0) >= 1
    assert value(samples, "hub_worker_ready") == 1.0
    assert value(samples, "hub_case_step_parked_references") == 0.0
    assert value(samples, "hub_translation_circuit_state", state="closed") == 1.0
    assert value(samples, "hub_faust_rebalances_total") is not None
    assert (value(samples, "process_resident_memory_bytes") or 0) > 0

    assert document["service"]["by_marketplace"] == {"acme": 3, "zeta": 2}
    assert document["worker"]["dead_letters"] == {"normalize": 1, "cases": 1, "feeds": 1}
    assert dashboard[0] == 200 and dashboard[1].startswith("text/html")
    assert b"<svg" in dashboard[2] and b"metrics.json" in dashboard[2]
    assert b"http://" not in dashboard[2].replace(b"http://www.w3.org/2000/svg", b"")


def dead_letters(samples: Samples, stage: str) -> float:
    return sum(n for labels, n in samples.get("hub_dead_letters_total", [])
               if labels["stage"] == stage)
