"""Every topic name of the hub, in one documented pattern (a deployment may add a prefix).

    raw.<source>       bytes exactly as received, with hub headers (schemas.raw_records)
    case.actions       the support agents' actions (schemas.actions), keyed by case id: the
                       raw records of the hub's own `console` source, read by the ingest stage
    case.inbox         the case step's input, keyed by case id (canonical events) or by
                       reference ("tracking:1Z...": links, events waiting for their case);
                       header `hub.message` says which (schemas.records); every case of an
                       order shares its order's partition (`partition_of`)
    case.state         compacted changelog of the case step's state, co-partitioned with
                       case.inbox (internal: read it only to restore a worker)
    cases              compacted: the full current Case after every change, keyed by case_id
    case.changes       one record per change of a case (feeds, audit)
    shipments          compacted: return-shipping and customs state, keyed by tracking number
    case.policy        compacted: return window, SLA deadlines and responsibility of a case
    feed.<region>      compacted: the LocalizedCaseView of each case for one support region
    dlq.<stage>        dead letters of a stage, original bytes and the reason in headers

Consumer groups are named from the app id: `<app_id>-ingest`, `<app_id>-case-step` and
`<app_id>-feeds`. Changing the app id starts every stage from the beginning of its input: do so
only on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from aiokafka.partitioner import murmur2

from connectors.registry import CONNECTORS
from streams.cases import CASE_FAMILY_SEPARATOR

CASE_ACTIONS = "case.actions"
CASE_INBOX = "case.inbox"
CASE_STATE = "case.state"
CASES = "cases"
CASE_CHANGES = "case.changes"
SHIPMENTS = "shipments"
CASE_POLICY = "case.policy"
DLQ_NORMALIZE = "dlq.normalize"
DLQ_CASES = "dlq.cases"
DLQ_FEEDS = "dlq.feeds"
_FAMILY_SEPARATOR = CASE_FAMILY_SEPARATOR.encode()


def raw_topic(source: str) -> str:
    return f"raw.{source}"


def feed_topic(region: str) -> str:
    return f"feed.{region.lower()}"


def dlq_topic(stage: str) -> str:
    return f"dlq.{stage}"


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The topic names of one deployment, with its prefix applied."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def raw(self) -> list[str]:
        return [self.name(raw_topic(connector.source)) for connector in CONNECTORS]

    @property
    def case_actions(self) -> str:
        return self.name(CASE_ACTIONS)

    @property
    def case_inbox(self) -> str:
        return self.name(CASE_INBOX)

    @property
    def case_state(self) -> str:
        return self.name(CASE_STATE)

    @property
    def cases(self) -> str:
        return self.name(CASES)

    @property
    def case_changes(self) -> str:
        return self.name(CASE_CHANGES)

    @property
    def shipments(self) -> str:
        return self.name(SHIPMENTS)

    @property
    def case_policy(self) -> str:
        return self.name(CASE_POLICY)

    def feed(self, region: str) -> str:
        return self.name(feed_topic(region))

    @property
    def dlq_normalize(self) -> str:
        return self.name(DLQ_NORMALIZE)

    @property
    def dlq_cases(self) -> str:
        return self.name(DLQ_CASES)

    @property
    def dlq_feeds(self) -> str:
        return self.name(DLQ_FEEDS)

    def source_of_raw(self, topic: str) -> str:
        """The source name of a raw topic of this deployment (`<prefix>raw.shopify` -> shopify)."""
        return topic.removeprefix(self.prefix).removeprefix("raw.")


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of `key` on every case-keyed topic: Kafka's default partitioner (murmur2,
    as in the Java client) over the key up to `CASE_FAMILY_SEPARATOR`, so that every case of one
    order lands where its order's events do. Keys without the separator partition exactly as
    Kafka's default does."""
    family, _, _ = key.partition(_FAMILY_SEPARATOR)
    return int(murmur2(family) & 0x7FFFFFFF) % partitions


def family_partitioner(
    key: bytes | None, all_partitions: list[int], available: list[int]
) -> int:
    """An aiokafka `partitioner` that places keys by `partition_of` (keyless records spread
    over the available partitions as aiokafka's default does)."""
    if key is None:
        return random.choice(available or all_partitions)  # noqa: S311 - spreading, not secrets
    return all_partitions[partition_of(key, len(all_partitions))]
