"""The hub's topics: their partitions, replication, cleanup and retention, in one place.

`topic_specs` is the layout; `plan_topics` compares it with what the brokers hold (pure);
`apply_topics` (`hub topics apply`) creates missing topics, grows partitions and sets config
keys one by one (IncrementalAlterConfigs); `ensure_topics` (every worker at start-up) creates
missing topics and refuses to start on a layout that breaks co-partitioning.

Co-partitioned topics (everything keyed by case or by reference: `case.inbox`, `case.state`,
`cases`, `case.changes`, `case.policy`, `shipments`, `feed.<region>`) have exactly
HUB_PARTITIONS partitions, so the partition of a key is the same on every topic a stage joins:
the case step restores partition p of `case.inbox` from partition p of `case.state`. Growing
them moves keys to other partitions, away from their state: `apply` does so only when told
(`--repartition`, for a deployment without data). `raw.<source>` and `dlq.<stage>` are keyed
by delivery id and original key and may grow freely. Every topic has HUB_REPLICATION_FACTOR
replicas and `min.insync.replicas` = min(2, replicas): with 3 replicas and acks=all an
acknowledged write is on two brokers, and one broker may fail without stopping writes.

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

A worker never changes an existing topic: `hub topics plan` shows the differences and
`hub topics apply` makes them (partitions only grow; replicas are not moved).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.errors import ConfigurationError
from schemas.settings import Settings
from streams.kafka_clients import kafka_client_options
from streams.topic_admin import (
    ExistingTopic,
    broker_ids,
    describe_existing,
    incremental_alter_configs,
)
from streams.topics import TopicNames

log = logging.getLogger("streams.provisioning")

_DAY_MS = 86_400_000
MANAGED_CONFIG = ("cleanup.policy", "retention.ms", "delete.retention.ms", "min.insync.replicas")


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as the hub wants it."""

    name: str
    partitions: int
    replication: int
    config: Mapping[str, str]
    co_partitioned: bool


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic the hub writes or reads: partitions, replicas, config (retention explicit)."""
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
    free = [(name, expiring(settings.retention_raw_days)) for name in names.raw]
    free.append((names.case_actions, expiring(settings.retention_raw_days)))  # raw, like raw.*
    free += [(name, expiring(settings.retention_dead_letter_days))
             for name in (names.dlq_normalize, names.dlq_cases, names.dlq_feeds)]
    joined = [
        (names.case_inbox, expiring(settings.retention_case_inbox_days)),
        (names.case_changes, expiring(settings.retention_case_changes_days)),
        *((name, case_keyed) for name in
          (names.case_state, names.cases, names.shipments, names.case_policy)),
        *((names.feed(region), case_keyed) for region in _region_codes()),
    ]
    return [
        TopicSpec(name, settings.partitions, settings.replication_factor, dict(config),
                  co_partitioned)
        for co_partitioned, group in ((False, free), (True, joined))
        for name, config in group
    ]


def hub_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the hub writes or reads, with its topic-level config (retention explicit)."""
    return {spec.name: dict(spec.config) for spec in topic_specs(settings)}


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


# -- plan (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicChange:
    """What `apply` does to one topic, and what it cannot do."""

    spec: TopicSpec
    existing: ExistingTopic | None
    config: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def create(self) -> bool:
        return self.existing is None

    @property
    def grow(self) -> bool:
        return self.existing is not None and self.existing.partitions < self.spec.partitions

    @property
    def action(self) -> str:
        if self.problems:
            return "refuse"
        if self.create:
            return "create"
        if self.grow or self.config:
            return "alter"
        return "keep"

    def describe(self) -> str:
        spec = self.spec
        retention = int(spec.config["retention.ms"]) // _DAY_MS
        line = (f"{self.action:<7} {spec.name:<28} partitions {spec.partitions:>3}  replicas "
                f"{spec.replication}  {spec.config['cleanup.policy']:<15} retention "
                f"{retention} d  min.insync {spec.config['min.insync.replicas']}"
                + ("  co-partitioned" if spec.co_partitioned else ""))
        details = []
        if self.grow and self.existing is not None:
            details.append(f"partitions {self.existing.partitions} -> {spec.partitions}")
        details += [f"{key} {old if old is not None else '(unset)'} -> {new}"
                    for key, (old, new) in sorted(self.config.items())]
        details += [f"cannot: {problem}" for problem in self.problems]
        details += [f"note: {note}" for note in self.notes]
        return "\n".join([line, *(f"          {detail}" for detail in details)])


@dataclass(frozen=True, slots=True)
class TopicPlan:
    """Every topic's change, and what stops the plan as a whole."""

    changes: tuple[TopicChange, ...]
    problems: tuple[str, ...] = ()

    @property
    def all_problems(self) -> list[str]:
        return [*self.problems,
                *(f"{c.spec.name}: {problem}" for c in self.changes for problem in c.problems)]

    def describe(self) -> str:
        counts = {action: sum(c.action == action for c in self.changes)
                  for action in ("create", "alter", "keep", "refuse")}
        summary = ", ".join(f"{n} to {action}" for action, n in counts.items() if n)
        return "\n".join([*(c.describe() for c in self.changes),
                          *(f"cannot: {problem}" for problem in self.problems),
                          f"{len(self.changes)} topics: {summary}"])


def plan_topics(
    specs: list[TopicSpec], existing: Mapping[str, ExistingTopic], *,
    brokers: int | None = None, repartition: bool = False,
) -> TopicPlan:
    """What it takes to turn `existing` into `specs` (`brokers`: the cluster's size, when
    known). Partitions only grow; a co-partitioned topic grows only with `repartition`."""
    problems = []
    replication = max((spec.replication for spec in specs), default=1)
    if brokers is not None and replication > brokers:
        problems.append(f"HUB_REPLICATION_FACTOR is {replication} but the cluster has "
                        f"{brokers} broker(s)")
    changes = []
    for spec in specs:
        current = existing.get(spec.name)
        if current is None:
            changes.append(TopicChange(spec, None))
            continue
        topic_problems, notes = [], []
        if current.partitions > spec.partitions:
            topic_problems.append(f"has {current.partitions} partitions, more than "
                                  f"{spec.partitions}: partitions cannot shrink")
        elif current.partitions < spec.partitions and spec.co_partitioned and not repartition:
            topic_problems.append(
                f"growing a co-partitioned topic ({current.partitions} -> {spec.partitions}) "
                "moves its keys away from their state: only with --repartition, on a "
                "deployment without data")
        if current.replication != spec.replication:
            notes.append(f"has {current.replication} replicas, not {spec.replication}: "
                         "apply does not move replicas (kafka-reassign-partitions.sh does)")
        config = {key: (current.config.get(key), value) for key, value in spec.config.items()
                  if current.config.get(key) != value}
        changes.append(TopicChange(spec, current, config, tuple(topic_problems), tuple(notes)))
    return TopicPlan(tuple(changes), tuple(problems))


def co_partitioning_problems(
    specs: list[TopicSpec], existing: Mapping[str, ExistingTopic]
) -> list[str]:
    """Existing co-partitioned topics whose partition count is not the configured one."""
    return [
        f"{spec.name} has {existing[spec.name].partitions} partitions, HUB_PARTITIONS is "
        f"{spec.partitions}"
        for spec in specs
        if spec.co_partitioned and spec.name in existing
        and existing[spec.name].partitions != spec.partitions
    ]


# -- brokers -----------------------------------------------------------------------------------


def _admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers,
                               **kafka_client_options(settings))


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    try:
        await admin.create_topics([
            NewTopic(s.name, s.partitions, s.replication, topic_configs=dict(s.config))
            for s in specs])
    except TopicAlreadyExistsError:
        pass  # another worker created them first
    log.info("created topics: %s", ", ".join(s.name for s in specs))


async def current_plan(settings: Settings, *, repartition: bool = False) -> TopicPlan:
    """The plan against what the brokers hold now."""
    specs = topic_specs(settings)
    admin = _admin(settings)
    await admin.start()
    try:
        existing = await describe_existing(admin, [s.name for s in specs], MANAGED_CONFIG)
        brokers = len(await broker_ids(admin))
    finally:
        await admin.close()
    return plan_topics(specs, existing, brokers=brokers, repartition=repartition)


async def apply_topics(settings: Settings, *, repartition: bool = False) -> TopicPlan:
    """Create, grow and reconfigure the hub's topics as planned; returns the plan it applied.

    Raises:
        ConfigurationError: the plan has problems (nothing is changed then).
    """
    plan = await current_plan(settings, repartition=repartition)
    if plan.all_problems:
        raise ConfigurationError("hub topics apply changes nothing:\n  "
                                 + "\n  ".join(plan.all_problems))
    admin = _admin(settings)
    await admin.start()
    try:
        await _create(admin, [c.spec for c in plan.changes if c.create])
        grow = {c.spec.name: NewPartitions(c.spec.partitions) for c in plan.changes if c.grow}
        if grow:
            await admin.create_partitions(grow)
        await incremental_alter_configs(admin, {
            c.spec.name: {key: new for key, (_, new) in c.config.items()}
            for c in plan.changes if c.config})
    finally:
        await admin.close()
    await _until_applied(settings, repartition=repartition)
    return plan


async def _until_applied(settings: Settings, *, repartition: bool, timeout: float = 30.0) -> None:
    """Wait until the brokers' metadata shows the applied plan (new partitions and configs
    reach every broker a moment after the controller accepted them)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = [c.spec.name for c in (await current_plan(settings, repartition=repartition))
                .changes if c.action != "keep"]
        if not left:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise ConfigurationError(f"applied, but after {timeout:.0f} s the brokers still "
                                     f"differ on: {', '.join(left)}")
        await asyncio.sleep(0.3)


async def ensure_topics(
    settings: Settings, *, extra: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """Create the hub's topics that do not exist yet; returns the names it created.

    Raises:
        ConfigurationError: existing co-partitioned topics do not have HUB_PARTITIONS
            partitions, or the cluster has fewer brokers than HUB_REPLICATION_FACTOR.
    """
    specs = topic_specs(settings)
    specs += [TopicSpec(name, settings.partitions, settings.replication_factor, config, False)
              for name, config in (extra or {}).items()]
    admin = _admin(settings)
    await admin.start()
    try:
        existing = await describe_existing(admin, [s.name for s in specs], ())
        problems = co_partitioning_problems(specs, existing)
        if problems:
            raise ConfigurationError(
                "the existing topics break co-partitioning (every topic keyed by case or "
                "reference needs the same partition count):\n  " + "\n  ".join(problems)
                + "\nset HUB_PARTITIONS to the topics' count, or see `hub topics plan`")
        missing = [spec for spec in specs if spec.name not in existing]
        brokers = len(await broker_ids(admin)) if missing else None
        if brokers is not None and settings.replication_factor > brokers:
            raise ConfigurationError(
                f"HUB_REPLICATION_FACTOR is {settings.replication_factor} but the cluster has "
                f"{brokers} broker(s): the hub's topics cannot be created")
        await _create(admin, missing)
        return [spec.name for spec in missing]
    finally:
        await admin.close()
