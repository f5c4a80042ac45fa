"""The webhook intake's `GET /metrics` on a real port and a real broker: requests are counted
per source and status as they are answered, and a path nobody serves does not become a label."""

from __future__ import annotations

import pytest

from hub.web.metrics import parse_prometheus
from tests.integration.test_webhook_intake import (  # noqa: F401 - `intake` is a fixture
    Intake,
    intake,
    shopify_refund,
    stripe_event,
)

pytestmark = pytest.mark.integration


async def scrape(running: Intake) -> dict[str, list[tuple[dict[str, str], float]]]:
    async with running.client.get(f"{running.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse_prometheus(await response.text())


def count(samples: dict[str, list[tuple[dict[str, str], float]]], **labels: str) -> float:
    return sum(value for found, value in samples.get("hub_intake_requests_total", [])
               if all(found.get(k) == v for k, v in labels.items()))


async def test_requests_are_counted_per_source_and_status(intake: Intake) -> None:  # noqa: F811
    before = await scrape(intake)
    body, headers = shopify_refund()
    assert (await intake.post("shopify", body, headers))[0] == 200
    forged, forged_headers = stripe_event(secret="whsec_forged")
    assert (await intake.post("stripe", forged, forged_headers))[0] == 401
    assert (await intake.post("no-such-source-\u202e", b"{}", {}))[0] == 404

    after = await scrape(intake)

    assert count(before) == 0
    assert count(after, source="shopify", status="200") == 1
    assert count(after, source="stripe", status="401") == 1
    assert count(after, source="unknown", status="404") == 1
    assert count(after) == 3
    written = after["hub_intake_written_bytes_total"]
    assert written == [({"source": "shopify"}, float(len(body)))]
    durations = {labels["source"]: value
                 for labels, value in after["hub_intake_request_duration_seconds_count"]}
    assert durations == {"shopify": 1.0, "stripe": 1.0, "unknown": 1.0}
    assert "process_cpu_seconds_total" in after
