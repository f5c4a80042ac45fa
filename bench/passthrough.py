"""B0 and B1: the physical limit, as a process of its own (`python -m bench.passthrough`).

B0 consumes the raw topics with aiokafka and produces the same bytes (key, value, headers) to
one output topic: what any Python service on aiokafka pays to move a record, nothing else.
B1 is B0 plus the hub's own pure normalization (`streams.normalize.normalize_record`) and the
canonical event's JSON encoding: the parsing and validation cost without the framework.

At-least-once like the hub: a fetched batch is produced, every send acknowledged (acks=all),
and only then are the input offsets committed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime

PRODUCER = {"acks": "all", "linger_ms": 5, "max_batch_size": 256 * 1024,
            "enable_idempotence": False}
CONSUMER = {"auto_offset_reset": "earliest", "enable_auto_commit": False,
            "max_partition_fetch_bytes": 1 << 20}
MAX_RECORDS = 1000


async def run(mode: str, bootstrap: str, topics: list[str], output: str, group: str,
              prefix: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    normalize = _normalizer(prefix) if mode == "b1" else None
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group,
                                **CONSUMER)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER)
    await producer.start()
    await consumer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
            if not batches:
                continue
            pending = []
            for messages in batches.values():
                for m in messages:
                    if normalize is None:
                        pending.append(await producer.send(output, value=m.value, key=m.key,
                                                           headers=list(m.headers)))
                    else:
                        for key, value in normalize(m):
                            pending.append(await producer.send(output, value=value, key=key,
                                                               headers=list(m.headers)))
            await asyncio.gather(*pending)
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def _normalizer(prefix: str):  # type: ignore[no-untyped-def]
    from schemas.events import CANONICAL_EVENT
    from streams.normalize import RawKafkaRecord, normalize_record

    raw_prefix = prefix + "raw."

    def normalize(m):  # type: ignore[no-untyped-def]
        record = RawKafkaRecord(
            source=m.topic.removeprefix(raw_prefix), topic=m.topic, partition=m.partition,
            offset=m.offset, timestamp_ms=m.timestamp, key=m.key, value=m.value,
            headers=tuple(m.headers),
        )
        result = normalize_record(record, now=datetime.now(UTC))
        out = [(e.case_key.encode(), CANONICAL_EVENT.dump_json(e)) for e in result.events]
        letter = result.dead_letter
        if letter is not None:
            out.append((letter.key or b"", b"DEAD:" + letter.reason.encode()))
        return out

    return normalize


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["b0", "b1"], required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.bootstrap, args.topics, args.output, args.group,
                    args.prefix))


if __name__ == "__main__":
    main()
