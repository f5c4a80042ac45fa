"""Creates the hub's topics with the configured partitions, replication and retention.

Co-partitioned topics (everything keyed by case or reference) share one partition count, so
the partition of a key is the same on every topic a stage joins.

Every topic gets an explicit `retention.ms` from the settings (never the broker's default):

    raw.<source>        delete          HUB_RETENTION_RAW_DAYS (14)
    case.actions        delete          HUB_RETENTION_RAW_DAYS (14)
    case.inbox          delete          HUB_RETENTION_CASE_INBOX_DAYS (7)
    case.changes        delete          HUB_RETENTION_CASE_CHANGES_DAYS (30)
    dlq.<stage>         delete          HUB_RETENTION_DEAD_LETTER_DAYS (30)
    case.state, cases, case.policy, shipments, feed.<region>
                        compact,delete  HUB_RETENTION_CASE_DAYS (730), tombstones kept
                                        HUB_RETENTION_TOMBSTONE_DAYS (7)

The case-keyed compacted topics share one retention so that a case is forgotten everywhere at
once: `case.state` (the case step's memory), `cases` and its satellites. Compaction keeps the
latest record of every key; `delete` on top drops a key whose latest record is older than the
retention (a whole log segment at a time), which is why the retention must outlive the quietest
open case. An erasure (`hub erase`) removes a case before that, with tombstones.

Existing topics keep the configuration they were created with (see the README for changing it).
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.settings import Settings
from streams.kafka_clients import kafka_client_options
from streams.topics import TopicNames

log = logging.getLogger("streams.provisioning")

_DAY_MS = 86_400_000


def hub_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the hub writes or reads, with its topic-level config (retention explicit)."""
    names = TopicNames(settings.topic_prefix)
    durable = {"min.insync.replicas": str(min(2, settings.replication_factor))}

    def expiring(days: int) -> dict[str, str]:
        return {**durable, "cleanup.policy": "delete", "retention.ms": str(days * _DAY_MS)}

    case_keyed = {
        **durable,
        "cleanup.policy": "compact,delete",
        "retention.ms": str(settings.retention_case_days * _DAY_MS),
        "delete.retention.ms": str(settings.retention_tombstone_days * _DAY_MS),
    }
    topics: dict[str, dict[str, str]] = {
        name: expiring(settings.retention_raw_days) for name in names.raw
    }
    topics[names.case_actions] = expiring(settings.retention_raw_days)  # raw, like raw.<source>
    topics[names.case_inbox] = expiring(settings.retention_case_inbox_days)
    topics[names.case_changes] = expiring(settings.retention_case_changes_days)
    for name in (names.dlq_normalize, names.dlq_cases, names.dlq_feeds):
        topics[name] = expiring(settings.retention_dead_letter_days)
    for name in (names.case_state, names.cases, names.shipments, names.case_policy):
        topics[name] = dict(case_keyed)
    for region in _region_codes():
        topics[names.feed(region)] = dict(case_keyed)
    return topics


def expiring_topics(settings: Settings) -> dict[str, int]:
    """The topics that only expire (no compaction), with their retention in days."""
    return {
        name: int(config["retention.ms"]) // _DAY_MS
        for name, config in hub_topics(settings).items()
        if config["cleanup.policy"] == "delete"
    }


def _region_codes() -> list[str]:
    from translations.regions import REGIONS

    return [region.code for region in REGIONS.regions]


async def ensure_topics(
    settings: Settings, *, extra: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """Create the hub's topics that do not exist yet; returns the names it created."""
    wanted = {**hub_topics(settings), **(extra or {})}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers,
                                **kafka_client_options(settings))
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
