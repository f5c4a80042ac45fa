"""`hub topics plan`: every topic of the topology with its layout, and what apply may change."""

from __future__ import annotations

import pytest

from connectors.registry import CONNECTORS
from schemas.settings import load_settings
from streams.provisioning import (
    TopicSpec,
    co_partitioning_problems,
    plan_topics,
    topic_specs,
)
from streams.topic_admin import ExistingTopic
from streams.topics import TopicNames
from translations.regions import load_regions

DAY_MS = 86_400_000


def existing(spec: TopicSpec, *, partitions: int | None = None, replication: int | None = None,
             **config: str) -> ExistingTopic:
    return ExistingTopic(spec.name, partitions or spec.partitions,
                         replication or spec.replication, {**spec.config, **config}, {}, {})


def test_the_plan_lists_every_topic_of_the_topology_with_its_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_TOPIC_PREFIX", "eu.")
    monkeypatch.setenv("HUB_PARTITIONS", "12")
    monkeypatch.setenv("HUB_REPLICATION_FACTOR", "3")
    names = TopicNames("eu.")
    lines = plan_topics(topic_specs(load_settings()), {}).describe().splitlines()
    by_name = {line.split()[1]: line.split() for line in lines[:-1]}
    documented = {
        **{names.name(f"raw.{c.source}"): ("delete", "14") for c in CONNECTORS},
        names.case_actions: ("delete", "14"),
        names.case_inbox: ("delete", "7"), names.case_changes: ("delete", "30"),
        names.dlq_normalize: ("delete", "30"), names.dlq_cases: ("delete", "30"),
        names.dlq_feeds: ("delete", "30"),
        **{name: ("compact,delete", "730") for name in
           (names.case_state, names.cases, names.shipments, names.case_policy)},
        **{names.feed(code): ("compact,delete", "730") for code in load_regions().codes},
    }
    assert set(by_name) == set(documented)
    for name, (cleanup, days) in documented.items():
        action, _, _, partitions, _, replicas, policy, _, retention, *_ = by_name[name]
        assert (action, partitions, replicas, policy, retention) == (
            "create", "12", "3", cleanup, days), name
        assert "min.insync 2" in " ".join(by_name[name]), name
    assert lines[-1] == f"{len(documented)} topics: {len(documented)} to create"


def test_co_partitioned_are_exactly_the_topics_keyed_by_case_or_reference() -> None:
    names = TopicNames()
    co = {spec.name for spec in topic_specs(load_settings()) if spec.co_partitioned}
    assert co == {names.case_inbox, names.case_state, names.cases, names.case_changes,
                  names.shipments, names.case_policy,
                  *(names.feed(code) for code in load_regions().codes)}


def test_partitions_only_grow_and_co_partitioned_topics_only_when_told() -> None:
    specs = {spec.name: spec for spec in topic_specs(load_settings(partitions=8))}
    names = TopicNames()
    raw, inbox, cases = (specs[names.name("raw.dhl")], specs[names.case_inbox],
                         specs[names.cases])
    current = {raw.name: existing(raw, partitions=4), inbox.name: existing(inbox, partitions=4),
               cases.name: existing(cases, partitions=16)}
    plan = {c.spec.name: c for c in plan_topics(list(specs.values()), current).changes}
    assert plan[raw.name].action == "alter" and plan[raw.name].grow
    assert plan[inbox.name].action == "refuse"
    assert "--repartition" in plan[inbox.name].problems[0]
    assert plan[cases.name].action == "refuse"
    assert "cannot shrink" in plan[cases.name].problems[0]
    allowed = {c.spec.name: c for c in plan_topics(list(specs.values()), current,
                                                   repartition=True).changes}
    assert allowed[inbox.name].action == "alter" and allowed[inbox.name].grow
    assert allowed[cases.name].action == "refuse"


def test_config_differences_are_planned_key_by_key() -> None:
    specs = topic_specs(load_settings(retention_raw_days=3))
    raw = next(spec for spec in specs if spec.name == "raw.dhl")
    current = {raw.name: existing(raw, **{"retention.ms": str(14 * DAY_MS),
                                          "min.insync.replicas": "1"})}
    change = next(c for c in plan_topics(specs, current).changes if c.spec.name == raw.name)
    assert dict(change.config) == {"retention.ms": (str(14 * DAY_MS), str(3 * DAY_MS))}
    unchanged = {raw.name: existing(raw)}
    assert next(c for c in plan_topics(specs, unchanged).changes
                if c.spec.name == raw.name).action == "keep"


def test_replication_beyond_the_cluster_is_a_problem_and_other_replicas_a_note() -> None:
    specs = topic_specs(load_settings(replication_factor=3))
    assert plan_topics(specs, {}, brokers=1).problems == (
        "HUB_REPLICATION_FACTOR is 3 but the cluster has 1 broker(s)",)
    assert plan_topics(specs, {}, brokers=3).all_problems == []
    inbox = next(spec for spec in specs if spec.name == "case.inbox")
    change = next(c for c in plan_topics(specs, {inbox.name: existing(inbox, replication=1)})
                  .changes if c.spec.name == inbox.name)
    assert change.action == "keep" and "kafka-reassign-partitions" in change.notes[0]


def test_co_partitioning_problems_name_each_topic_that_differs() -> None:
    specs = topic_specs(load_settings(partitions=4))
    by_name = {spec.name: spec for spec in specs}
    current = {"case.state": existing(by_name["case.state"], partitions=2),
               "raw.dhl": existing(by_name["raw.dhl"], partitions=9),
               "cases": existing(by_name["cases"])}
    assert co_partitioning_problems(specs, current) == [
        "case.state has 2 partitions, HUB_PARTITIONS is 4"]
