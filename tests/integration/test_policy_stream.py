"""The policy stream on the real broker: an SLA breach fires once, whatever happens to workers.

Return requests are produced to `raw.hub` with an event time 72 h in the past, so the house
first-response deadline (48 h, warned 12 h before) is already breached when the first clock
tick (every second here) reaches the settled case (settle window 2 s here). Two real worker
processes share the partitions and one is killed with SIGKILL while breaches are being fired;
every case must end with exactly one distinct breach id and one distinct warning id on
`case.changes`, and its latest `case.policy` record must show the breach.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.timestamps import format_utc
from streams.cases import case_id_for_order
from tests.support.kafka import Record, produce, read_until
from tests.support.workers import HubWorker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

def policy_worker(bootstrap: str, prefix: str, state_dir: Path, **env: str) -> HubWorker:
    return HubWorker(bootstrap=bootstrap, topic_prefix=prefix, state_dir=state_dir,
                     app_id=f"hub-{prefix}", extra_env=env)


def return_request(order_id: str, *, at: datetime, marketplace: str = "acme",
                   country: str = "DE", reason: str = "damaged") -> tuple[bytes, bytes]:
    """A hub-protocol return request (docs/hub-protocol.md) for `raw.hub`."""
    body = {
        "protocol_version": 1, "event_type": "return.requested", "event_id": f"rr-{order_id}",
        "marketplace": marketplace, "occurred_at": format_utc(at), "order_id": order_id,
        "return_id": f"R-{order_id}", "buyer_country": country, "reason_code": reason,
    }
    return f"rr-{order_id}".encode(), json.dumps(body).encode()


def sla_ids(records: Sequence[Record], kind: str) -> dict[str, list[str]]:
    """case_id -> event ids of its `sla.<kind>` records on case.changes, in arrival order."""
    found: dict[str, list[str]] = defaultdict(list)
    for record in records:
        document = json.loads(record.value)
        if document["event_type"] == f"sla.{kind}":
            found[document["case_id"]].append(document["event_id"])
    return found


def latest_by_key(records: Sequence[Record]) -> dict[str, dict[str, object]]:
    latest: dict[str, dict[str, object]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert record.key is not None
        latest[record.key.decode()] = json.loads(record.value)
    return latest


async def test_sla_breach_fires_once_with_two_workers_and_one_killed_with_sigkill(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    requested_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=72)
    due = format_utc(requested_at + timedelta(hours=48))
    orders = [f"sla-{index:03d}" for index in range(60)]
    before_kill, after_kill = orders[:30], orders[30:]
    expected = {case_id_for_order(order): order for order in orders}
    changes_topic = f"{topic_prefix}case.changes"
    fast_clock = {"HUB_POLICY_CLOCK_INTERVAL_SECONDS": "1", "HUB_POLICY_SETTLE_SECONDS": "2"}
    started = time.monotonic()

    with policy_worker(bootstrap, topic_prefix, tmp_path / "a", **fast_clock) as survivor:
        doomed = policy_worker(bootstrap, topic_prefix, tmp_path / "b", **fast_clock).start()
        try:
            await produce(bootstrap, f"{topic_prefix}raw.hub",
                          [return_request(order, at=requested_at) for order in before_kill])
            # Kill while breaches are being fired: some are out, most are not yet.
            await read_until(bootstrap, changes_topic,
                             lambda found: len(sla_ids(found, "breach")) >= 3, timeout=120)
        finally:
            doomed.kill()
        killed_at = time.monotonic()
        await produce(bootstrap, f"{topic_prefix}raw.hub",
                      [return_request(order, at=requested_at) for order in after_kill])

        def every_case_breached(found: Sequence[Record]) -> bool:
            return set(sla_ids(found, "breach")) >= set(expected)

        changes = await read_until(bootstrap, changes_topic, every_case_breached, timeout=240)
        recovered = time.monotonic() - killed_at

        def every_policy_breached(found: Sequence[Record]) -> bool:
            latest = latest_by_key(found)
            return all(
                case_id in latest and latest[case_id]["breached"] == ["first_response"]
                for case_id in expected
            )

        policies = await read_until(bootstrap, f"{topic_prefix}case.policy",
                                    every_policy_breached, timeout=120)
        assert survivor.process is not None and survivor.process.poll() is None

    breaches, warnings = sla_ids(changes, "breach"), sla_ids(changes, "warning")
    assert set(breaches) == set(expected)
    for case_id in expected:
        assert set(breaches[case_id]) == {f"{case_id}:first_response:breach:{due}"}
        assert set(warnings[case_id]) == {f"{case_id}:first_response:warning:{due}"}
    latest = latest_by_key(policies)
    for case_id in expected:
        policy = latest[case_id]
        assert f"{case_id}:first_response:breach:{due}" in policy["notifications"]  # type: ignore[operator]
        deadline = policy["deadlines"][0]  # type: ignore[index]
        assert (deadline["name"], deadline["state"], deadline["due_at"]) == (
            "first_response", "breached", due)
    repeats = sum(len(ids) - 1 for ids in breaches.values())
    print(f"60 cases breached once each; {repeats} repeated breach records (same id, re-sent "
          f"after the kill); all breached {recovered:.1f} s after the kill, "
          f"{time.monotonic() - started:.1f} s in all")


def hub_event(order_id: str, event_type: str, at: datetime, **fields: object) -> bytes:
    body = {
        "protocol_version": 1, "event_type": event_type, "event_id": f"{event_type}-{order_id}",
        "marketplace": "acme", "occurred_at": format_utc(at), "order_id": order_id,
        "return_id": f"R-{order_id}", "buyer_country": "DE", **fields,
    }
    return json.dumps(body).encode()


async def test_old_events_out_of_order_breach_only_what_was_really_late(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Events of March, processed in November and out of event-time order. `in-time` is
    answered 2 h after its request, but its refund (5 days later) arrives first and its answer
    last: no breach. `late` is answered after 60 h: the same breach id as if watched live."""
    t0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
    refund = {"refund_id": "RF-in-time", "amount": {"amount": "10.00", "currency": "EUR"}}
    in_time = [  # one Kafka key: one partition, delivered in this order
        (b"in-time", hub_event("in-time", "refund.succeeded", t0 + timedelta(days=5), **refund)),
        (b"in-time", hub_event("in-time", "return.requested", t0, reason_code="damaged")),
        (b"in-time", hub_event("in-time", "return.approved", t0 + timedelta(hours=2))),
    ]
    late = [
        (b"late", hub_event("late", "return.requested", t0, reason_code="damaged")),
        (b"late", hub_event("late", "return.approved", t0 + timedelta(hours=60))),
    ]
    control = [(b"control", hub_event("control", "return.requested", t0, reason_code="damaged"))]
    in_time_id, late_id, control_id = (case_id_for_order(o) for o in ("in-time", "late", "control"))
    clock = {"HUB_POLICY_CLOCK_INTERVAL_SECONDS": "1", "HUB_POLICY_SETTLE_SECONDS": "2"}
    changes_topic = f"{topic_prefix}case.changes"

    with policy_worker(bootstrap, topic_prefix, tmp_path / "a", **clock):
        await produce(bootstrap, f"{topic_prefix}raw.hub", in_time + late)
        await read_until(bootstrap, changes_topic,
                         lambda found: late_id in sla_ids(found, "breach"), timeout=120)
        # A case produced only now breaches after `in-time` has long settled and been judged.
        await produce(bootstrap, f"{topic_prefix}raw.hub", control)
        changes = await read_until(bootstrap, changes_topic,
                                   lambda found: control_id in sla_ids(found, "breach"),
                                   timeout=120)

    due = "2026-03-04T10:00:00Z"
    assert sla_ids(changes, "breach")[late_id] == [f"{late_id}:first_response:breach:{due}"]
    assert sla_ids(changes, "warning")[late_id] == [f"{late_id}:first_response:warning:{due}"]
    assert in_time_id not in sla_ids(changes, "breach")
    assert in_time_id not in sla_ids(changes, "warning")
