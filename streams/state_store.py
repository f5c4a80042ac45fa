"""Keyed state of one worker's partitions: RocksDB on local disk, a compacted changelog in Kafka.

Each input partition has its own RocksDB directory holding the states of the keys of that
partition, and the offset of the last changelog record it contains. The changelog topic
(`case.state`) is co-partitioned with the input: the state of a key of input partition p is
written to changelog partition p, in the same Kafka transaction as the outputs and input
offsets of the step that made it, and into RocksDB only after that transaction committed.
RocksDB therefore never holds a state that Kafka does not; a worker that died, or a worker
that takes over a partition, reads the changelog from its local checkpoint to the end (the
last stable offset, read_committed) before it handles the partition's next input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from rocksdict import Options, Rdict, WriteBatch

log = logging.getLogger("streams.state_store")

_CHECKPOINT = b"\x00changelog-offset"


class PartitionStore:
    """The states of one partition's keys, and how far into the changelog they are."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = Rdict(str(path), Options(raw_mode=True))

    def get(self, key: bytes) -> bytes | None:
        value = self._db.get(key)
        return bytes(value) if value is not None else None

    @property
    def checkpoint(self) -> int:
        """The next changelog offset to read (0: nothing read yet)."""
        value = self._db.get(_CHECKPOINT)
        return int(value) if value is not None else 0

    def write(self, states: Mapping[bytes, bytes | None], *, next_offset: int) -> None:
        """Store states (None deletes a key) and the changelog offset to resume from."""
        batch = WriteBatch(raw_mode=True)
        for key, value in states.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        batch.put(_CHECKPOINT, str(next_offset).encode())
        self._db.write(batch)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._db.items():
            if key != _CHECKPOINT:
                yield cast(bytes, key), cast(bytes, value)  # raw mode: bytes in, bytes out

    def close(self) -> None:
        self._db.close()


async def restore(
    store: PartitionStore, consumer: AIOKafkaConsumer, changelog: TopicPartition
) -> int:
    """Bring `store` up to the end of its changelog partition; returns the records applied.

    `consumer` is a read_committed consumer with no group, used only for restoring.
    """
    consumer.assign([changelog])
    start = store.checkpoint
    end = (await consumer.end_offsets([changelog]))[changelog]
    beginning = (await consumer.beginning_offsets([changelog]))[changelog]
    if start > end:
        # The changelog was recreated behind this store's back: the store is not to be trusted.
        log.warning("changelog %s ends at %d before the store's checkpoint %d: rebuilding",
                    changelog, end, start)
        store.write({key: None for key, _ in list(store.items())}, next_offset=0)
        start = 0
    start = max(start, beginning)
    if start >= end:
        return 0
    consumer.seek(changelog, start)
    applied = 0
    while await consumer.position(changelog) < end:
        batch = await consumer.getmany(changelog, timeout_ms=500, max_records=5000)
        records = batch.get(changelog, [])
        if not records:
            continue
        states: dict[bytes, bytes | None] = {}
        for record in records:
            if record.key is not None:
                states[record.key] = record.value
        applied += len(records)
        store.write(states, next_offset=await consumer.position(changelog))
    return applied
