"""The bench's own broker and the Kafka plumbing of the harness (topics, offsets, read-back)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import INFRA_CPUS, pin_process_tree
from hub.local_kafka import LocalKafka
from schemas.settings import DEFAULT_KAFKA_VERSION

# Broker timestamps of outputs: the broker stamps each record when it appends it, so rates and
# latencies use one clock and no client can skew them.
LOG_APPEND = {"message.timestamp.type": "LogAppendTime"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_broker(out_dir: Path, *, partitions: int, heap: str = "1g", pin: bool = True
                 ) -> LocalKafka:
    """A dedicated single-node KRaft broker on free ports with its own data dir."""
    from schemas.settings import load_settings

    broker = LocalKafka(
        version=DEFAULT_KAFKA_VERSION,
        port=free_port(),
        controller_port=free_port(),
        data_dir=out_dir / "kafka",
        cache_dir=load_settings().cache_dir,
        heap=heap,
        partitions=partitions,
        log_level="WARN",
    )
    status = broker.start()
    if pin and status.pid is not None:
        pin_process_tree(status.pid, INFRA_CPUS)
    return broker


def _relative(value: str) -> str:
    """A path inside the project as the project names it (results name no machine's folders)."""
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return value.replace(root, "")


def broker_settings(broker: LocalKafka) -> dict[str, str]:
    path = broker.data_dir / "server.properties"
    keep = ("num.partitions", "log.dirs", "offsets.topic.num.partitions",
            "group.initial.rebalance.delay.ms", "auto.create.topics.enable")
    found = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name in keep:
            found[name] = _relative(value)
    found["version"] = broker.version
    found["heap"] = broker.heap
    found["replication"] = "1 (single node; acks=all then means the leader's log append)"
    found["flush"] = "Kafka defaults (page cache, no fsync per write)"
    return found


async def create_topics(bootstrap: str, names: dict[str, dict[str, str]], partitions: int) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, partitions, 1, topic_configs=config)
                   for name, config in names.items() if name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
        await _wait_for_leaders(admin, list(names))
    finally:
        await admin.close()


async def _wait_for_leaders(admin: Any, names: list[str], timeout: float = 60.0) -> None:
    """New partitions answer NotLeaderForPartition until the controller elected their leader."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(names)
        ready = all(
            topic.get("error_code", 0) == 0
            and topic.get("partitions")
            and all(p.get("leader", -1) >= 0 for p in topic["partitions"])
            for topic in described
        )
        if ready or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.2)


async def delete_topics_with_prefix(bootstrap: str, prefixes: tuple[str, ...]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefixes)]
        if doomed:
            await admin.delete_topics(doomed)
    except Exception:  # noqa: BLE001 - cleanup only: disk space, not correctness
        pass
    finally:
        await admin.close()


async def records_by_topic(bootstrap: str, prefixes: tuple[str, ...]) -> dict[str, int]:
    """Records on every topic whose name starts with one of `prefixes` (end offsets)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        names = [t for t in await consumer.topics() if t.startswith(prefixes)]
        partitions = [TopicPartition(t, p) for t in names
                      for p in (consumer.partitions_for_topic(t) or set())]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        counts: dict[str, int] = {}
        for tp, end in ends.items():
            counts[tp.topic] = counts.get(tp.topic, 0) + int(end)
        return counts
    finally:
        await consumer.stop()


class OffsetProbe:
    """Sum of end offsets of some topics: how many records they hold (cheap to poll)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumer: Any = None
        self._admin: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer

        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap,
                                          enable_auto_commit=False)
        await self._consumer.start()

    async def _partitions(self, topics: list[str]) -> list[Any]:
        from aiokafka import TopicPartition

        partitions = []
        for topic in topics:
            ids = self._consumer.partitions_for_topic(topic)
            if not ids:
                await self._consumer._client.force_metadata_update()  # noqa: SLF001
                ids = self._consumer.partitions_for_topic(topic) or set()
            partitions += [TopicPartition(topic, p) for p in ids]
        return partitions

    async def count(self, topics: list[str]) -> int:
        partitions = await self._partitions(topics)
        if not partitions:
            return 0
        ends = await self._consumer.end_offsets(partitions)
        return int(sum(ends.values()))

    async def lag(self, group: str, topics: list[str]) -> int:
        """Records of `topics` that consumer group `group` has not committed yet."""
        from aiokafka.admin import AIOKafkaAdminClient

        if self._admin is None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
            await self._admin.start()
        from aiokafka.errors import KafkaError

        try:
            committed = await self._admin.list_consumer_group_offsets(group)
        except KafkaError:
            return 1 << 40  # no coordinator yet (fresh broker): not done
        partitions = await self._partitions(topics)
        ends = await self._consumer.end_offsets(partitions)
        lag = 0
        for tp, end in ends.items():
            done = committed.get(tp)
            lag += end - (done.offset if done is not None and done.offset >= 0 else 0)
        return int(lag)

    async def stop(self) -> None:
        if self._admin is not None:
            await self._admin.close()
        if self._consumer is not None:
            await self._consumer.stop()


@dataclass(frozen=True, slots=True)
class OutRecord:
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    partition: int


async def read_all(bootstrap: str, topics: list[str], *, keep_value: bool = True
                   ) -> list[OutRecord]:
    """Every record of `topics` from the beginning to the current end."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    # Committed records only: the hub's case step writes in transactions (an aborted batch is
    # on the log but never happened).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 << 20,
                                fetch_max_bytes=64 << 20, isolation_level="read_committed")
    await consumer.start()
    out: list[OutRecord] = []
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        partitions = [TopicPartition(t, p) for t in topics
                      for p in (consumer.partitions_for_topic(t) or set())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            for messages in batches.values():
                for m in messages:
                    out.append(OutRecord(m.timestamp, m.key, m.value if keep_value else None,
                                         tuple(m.headers), m.partition))
            # The position, not the last record: transaction markers sit after it.
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return out


def run(coro: Any) -> Any:
    return asyncio.run(coro)
