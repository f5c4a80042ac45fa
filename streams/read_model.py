"""The query side: every worker follows the compacted `cases` and `shipments` topics in full.

Faust tables hold only a worker's own partitions (and `table_route` has open bugs upstream), so
the query API reads a model that each worker builds from all partitions of the compacted output
topics, assigned directly (no consumer group). Any worker answers any query; it lags the case
builder by the time a record takes to reach the broker and come back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger("streams.read_model")


@dataclass
class ReadModel:
    """Latest case and shipment documents by id, with an order index."""

    cases_topic: str
    shipments_topic: str
    policy_topic: str | None = None
    cases: dict[str, bytes] = field(default_factory=dict)
    shipments: dict[str, bytes] = field(default_factory=dict)
    policies: dict[str, bytes] = field(default_factory=dict)
    cases_by_order: dict[str, set[str]] = field(default_factory=dict)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        name = key.decode()
        if topic == self.cases_topic:
            self._apply_case(name, value)
        elif topic == self.shipments_topic:
            if value is None:
                self.shipments.pop(name, None)
            else:
                self.shipments[name] = value
        elif topic == self.policy_topic:
            if value is None:
                self.policies.pop(name, None)
            else:
                self.policies[name] = value

    @property
    def topics(self) -> list[str]:
        return [t for t in (self.cases_topic, self.shipments_topic, self.policy_topic) if t]

    def _apply_case(self, case_id: str, value: bytes | None) -> None:
        if value is None:
            previous = self.cases.pop(case_id, None)
            order_id = json.loads(previous).get("order_id") if previous is not None else None
            if order_id:
                remaining = self.cases_by_order.get(order_id, set()) - {case_id}
                if remaining:
                    self.cases_by_order[order_id] = remaining
                else:
                    self.cases_by_order.pop(order_id, None)
            return
        document = json.loads(value)
        previous = self.cases.get(case_id)
        if previous is not None and json.loads(previous).get("version", 0) > document.get(
            "version", 0
        ):
            return  # an older version replayed after a rebalance: keep the newer one
        self.cases[case_id] = value
        order_id = document.get("order_id")
        if order_id:
            self.cases_by_order.setdefault(order_id, set()).add(case_id)

    def case(self, case_id: str) -> dict[str, Any] | None:
        value = self.cases.get(case_id)
        return json.loads(value) if value is not None else None

    def cases_for_order(self, order_id: str) -> list[dict[str, Any]]:
        return [json.loads(self.cases[c]) for c in sorted(self.cases_by_order.get(order_id, ()))]

    def policy(self, case_id: str) -> dict[str, Any] | None:
        value = self.policies.get(case_id)
        return json.loads(value) if value is not None else None

    def shipment(self, tracking_number: str) -> dict[str, Any] | None:
        value = self.shipments.get(tracking_number)
        return json.loads(value) if value is not None else None


FOLLOWER_FETCH: dict[str, Any] = {
    "fetch_max_wait_ms": 25, "fetch_min_bytes": 64 * 1024, "isolation_level": "read_committed",
}
"""Fetch settings of the in-process followers: under a steady trickle, one fetch per record
costs a broker round trip and a wake-up each; waiting up to 25 ms for 64 KiB batches them, at
a cost of at most 25 ms staleness (a backlog still comes back at once). Committed records only:
the case step writes in transactions, and an aborted one never happened."""


class Follower(Protocol):
    """What `follow_topics` feeds: every record in order, and a flag once it has caught up."""

    caught_up: asyncio.Event

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None: ...


async def follow(
    model: ReadModel, bootstrap_servers: str, *, client_options: Mapping[str, Any] | None = None
) -> None:
    """Read the read model's topics from the beginning, then keep up, until cancelled."""
    await follow_topics(model, model.topics, bootstrap_servers, what="read model",
                        client_options=client_options)


async def follow_topics(
    follower: Follower, topics: list[str], bootstrap_servers: str, *, what: str,
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Every partition of `topics` from the beginning into `follower`, then live, until
    cancelled; `follower.caught_up` is set once the end offsets seen at start are reached.
    `client_options`: connection options (`streams.kafka_clients.kafka_client_options`)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        metadata_max_age_ms=5000,
        **FOLLOWER_FETCH,
        **(client_options or {}),
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    follower.apply(record.topic, record.key, record.value)
            if not follower.caught_up.is_set():
                positions = [await consumer.position(tp) for tp in partitions]
                if all(pos >= ends[tp] for pos, tp in zip(positions, partitions, strict=True)):
                    follower.caught_up.set()
                    log.info("%s caught up on %d topics", what, len(topics))
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    for _ in range(100):
        found = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if {tp.topic for tp in found} == set(topics):
            return found
        await consumer._client.force_metadata_update()  # noqa: SLF001 - topics may be new
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topics {topics} do not exist")
