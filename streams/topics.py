"""Every topic name of the hub, in one documented pattern (a deployment may add a prefix).

    raw.<source>       bytes exactly as received, with hub headers (hub.raw_records)
    events.canonical   CanonicalEvent JSON, keyed by the event's case_key
    case.references    resolver input, keyed by a reference ("tracking:1Z..."): links and
                       events waiting for their case
    events.by_case     CanonicalEvent JSON, keyed by case_id
    cases              compacted: the full current Case after every change, keyed by case_id
    case.changes       one record per change of a case (feeds, audit)
    shipments          compacted: return-shipping and customs state, keyed by tracking number
    policy.clock       policy agent input, keyed by case_id: case snapshots and clock ticks
    case.policy        compacted: return window, SLA deadlines and responsibility of a case
    feed.<region>      compacted: the LocalizedCaseView of each case for one support region
    dlq.<stage>        dead letters of a stage, original bytes and the reason in headers

Internal changelog topics of tables are named by faust from the app id and the table name:
`<app_id>-<table>-changelog`. Changing the app id renames them: do so only on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.registry import CONNECTORS

EVENTS_CANONICAL = "events.canonical"
CASE_REFERENCES = "case.references"
EVENTS_BY_CASE = "events.by_case"
CASES = "cases"
CASE_CHANGES = "case.changes"
SHIPMENTS = "shipments"
POLICY_CLOCK = "policy.clock"
CASE_POLICY = "case.policy"
DLQ_NORMALIZE = "dlq.normalize"
DLQ_CASES = "dlq.cases"
DLQ_POLICY = "dlq.policy"
DLQ_FEEDS = "dlq.feeds"


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
    def events_canonical(self) -> str:
        return self.name(EVENTS_CANONICAL)

    @property
    def case_references(self) -> str:
        return self.name(CASE_REFERENCES)

    @property
    def events_by_case(self) -> str:
        return self.name(EVENTS_BY_CASE)

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
    def policy_clock(self) -> str:
        return self.name(POLICY_CLOCK)

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
    def dlq_policy(self) -> str:
        return self.name(DLQ_POLICY)

    @property
    def dlq_feeds(self) -> str:
        return self.name(DLQ_FEEDS)

    def source_of_raw(self, topic: str) -> str:
        """The source name of a raw topic of this deployment (`<prefix>raw.shopify` -> shopify)."""
        return topic.removeprefix(self.prefix).removeprefix("raw.")
