"""F0: one faust agent forwarding the raw bytes (`python -m bench.faust_forward`).

What the framework costs per message, with nothing else: `stream.events()` over the raw topics
and one `Topic.send` per record of the same key, value and headers to one output topic, with
the hub's producer settings (acks=all, 5 ms linger). faust flushes the producer before it
commits offsets (at-least-once, like the hub).
"""

from __future__ import annotations

import argparse
import sys
import tempfile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()

    import faust

    app = faust.App(
        args.group, broker=f"kafka://{args.bootstrap}", store="memory://",
        datadir=tempfile.mkdtemp(prefix="bench-f0-"), autodiscover=False, web_enabled=False,
        producer_acks=-1, producer_linger=0.005, consumer_auto_offset_reset="earliest",
        topic_disable_leader=True,
    )
    source = app.topic(*args.topics, value_serializer="raw", key_serializer="raw")
    output = app.topic(args.output, value_serializer="raw", key_serializer="raw")

    @app.agent(source, name="forward")
    async def forward(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            message = event.message
            await output.send(key=message.key, value=message.value,
                              headers=list(message.headers or []))

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--without-web"]
    app.main()


if __name__ == "__main__":
    main()
