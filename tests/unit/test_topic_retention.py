"""Every hub topic has an explicit retention: nothing kept for the broker's default by accident."""

from __future__ import annotations

import pytest

from schemas.settings import load_settings
from streams.provisioning import expiring_topics, hub_topics
from streams.topics import TopicNames

DAY_MS = 86_400_000


def test_every_topic_has_an_explicit_retention_and_cleanup_policy() -> None:
    topics = hub_topics(load_settings())
    assert topics
    for name, config in topics.items():
        assert int(config["retention.ms"]) > 0, name
        assert config["cleanup.policy"] in {"delete", "compact,delete"}, name
        if "compact" in config["cleanup.policy"]:
            assert int(config["delete.retention.ms"]) > 0, name


def test_the_defaults_are_the_documented_ones() -> None:
    names = TopicNames()
    topics = hub_topics(load_settings())
    days = {name: int(config["retention.ms"]) // DAY_MS for name, config in topics.items()}
    assert days[names.name("raw.shopify")] == 14
    assert days[names.case_inbox] == 7
    assert days[names.case_changes] == 30
    assert days[names.dlq_normalize] == days[names.dlq_cases] == days[names.dlq_feeds] == 30
    case_keyed = [names.case_state, names.cases, names.case_policy, names.shipments,
                  names.feed("DE")]
    for name in case_keyed:
        assert topics[name]["cleanup.policy"] == "compact,delete"
        assert days[name] == 730
        assert int(topics[name]["delete.retention.ms"]) == 7 * DAY_MS


def test_case_state_outlives_no_other_case_keyed_topic() -> None:
    # A case is forgotten everywhere at once: its memory in the case step and what it published.
    names = TopicNames()
    topics = hub_topics(load_settings())
    retention = {topics[n]["retention.ms"] for n in
                 (names.case_state, names.cases, names.case_policy, names.shipments)}
    assert len(retention) == 1


def test_retention_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_RETENTION_RAW_DAYS", "3")
    monkeypatch.setenv("HUB_RETENTION_CASE_DAYS", "400")
    monkeypatch.setenv("HUB_TOPIC_PREFIX", "p.")
    settings = load_settings()
    topics = hub_topics(settings)
    assert topics["p.raw.dhl"]["retention.ms"] == str(3 * DAY_MS)
    assert topics["p.cases"]["retention.ms"] == str(400 * DAY_MS)
    assert expiring_topics(settings)["p.raw.dhl"] == 3
    assert "p.cases" not in expiring_topics(settings)
