"""Creates the hub's topics with the configured partitions, replication and retention.

Co-partitioned topics (everything keyed by case or reference) share one partition count, so
the partition of a key is the same on every topic a stage joins.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hub.settings import Settings
from streams.topics import TopicNames

log = logging.getLogger("streams.provisioning")

_COMPACTED = {"cleanup.policy": "compact"}


def hub_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the hub writes or reads, with its topic-level config."""
    names = TopicNames(settings.topic_prefix)
    durable = {"min.insync.replicas": str(min(2, settings.replication_factor))}
    topics: dict[str, dict[str, str]] = {name: dict(durable) for name in names.raw}
    for name in (
        names.case_inbox,
        names.case_changes,
        names.dlq_normalize,
        names.dlq_cases,
        names.dlq_feeds,
    ):
        topics[name] = dict(durable)
    for name in (names.case_state, names.cases, names.shipments, names.case_policy):
        topics[name] = {**durable, **_COMPACTED}
    for region in _region_codes():
        topics[names.feed(region)] = {**durable, **_COMPACTED}
    return topics


def _region_codes() -> list[str]:
    from translations.regions import REGIONS

    return [region.code for region in REGIONS.regions]


async def ensure_topics(
    settings: Settings, *, extra: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """Create the hub's topics that do not exist yet; returns the names it created."""
    wanted = {**hub_topics(settings), **(extra or {})}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=config)
            for name, config in wanted.items()
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another worker created them first
            log.info("created topics: %s", ", ".join(t.name for t in missing))
        return [t.name for t in missing]
    finally:
        await admin.close()
