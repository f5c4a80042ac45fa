"""Q, the peer: Quix Streams running the hub's normalization (`python -m bench.peer_quix`).

Runs with the peer's own virtualenv (quixstreams pins pydantic below the hub's version), the
hub's code on PYTHONPATH. Same work as B1: raw topic -> `normalize_record` -> canonical event
JSON keyed by case_key to one output topic; input headers (`bench.seq`) are forwarded by
Quix Streams itself. At-least-once (Quix's default guarantee), acks=all set explicitly.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any


def build(bootstrap: str, topics: list[str], output: str, group: str, prefix: str) -> Any:
    from quixstreams import Application, message_context  # type: ignore[import-not-found]
    from quixstreams.models.serializers import Serializer  # type: ignore[import-not-found]

    from schemas.events import CANONICAL_EVENT
    from streams.normalize import RawKafkaRecord, normalize_record

    class CanonicalSerializer(Serializer):  # type: ignore[misc]  # Any: own venv
        def __call__(self, value: Any, ctx: Any) -> bytes:
            if isinstance(value, bytes):
                return value
            return CANONICAL_EVENT.dump_json(value)

    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        producer_extra_config={"acks": "all"},
        loglevel="WARNING",
        use_changelog_topics=False,
        auto_create_topics=False,
        processing_guarantee="at-least-once",
    )
    out = app.topic(output, key_serializer="bytes", value_serializer=CanonicalSerializer())
    raw_prefix = prefix + "raw."

    def normalize(value: bytes, key: bytes, timestamp: int, headers: Any) -> list[Any]:
        ctx = message_context()
        record = RawKafkaRecord(
            source=ctx.topic.removeprefix(raw_prefix), topic=ctx.topic,
            partition=ctx.partition, offset=ctx.offset, timestamp_ms=timestamp, key=key,
            value=value, headers=tuple(headers or ()),
        )
        result = normalize_record(record, now=datetime.now(UTC))
        events: list[Any] = list(result.events)
        if result.dead_letter is not None:
            events.append(b"DEAD:" + result.dead_letter.reason.encode())
        return events

    def case_key(value: Any) -> bytes:
        return b"dead" if isinstance(value, bytes) else value.case_key.encode()

    for name in topics:
        topic = app.topic(name, key_deserializer="bytes", value_deserializer="bytes")
        sdf = app.dataframe(topic)
        sdf = sdf.apply(normalize, expand=True, metadata=True)
        sdf.to_topic(out, key=case_key)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()
    build(args.bootstrap, args.topics, args.output, args.group, args.prefix).run()


if __name__ == "__main__":
    main()
