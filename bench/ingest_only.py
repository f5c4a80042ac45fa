"""N: the hub's ingest stage alone (`python -m bench.ingest_only`).

`streams.ingest.IngestStage` as the worker runs it (normalize and route in one pass, batched,
acks=all, commit after every acknowledgement), reading the shared raw input of B0/B1/Q and
writing `case.inbox` (events, waiting events and links) to the trial's own namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import dataclass

from streams.ingest import IngestConfig, IngestStage
from streams.topics import TopicNames


@dataclass(frozen=True, slots=True)
class SplitNames(TopicNames):
    """Raw topics under one prefix, the stage's outputs under another."""

    output_prefix: str = ""

    @property
    def case_inbox(self) -> str:
        return f"{self.output_prefix}case.inbox"

    @property
    def dlq_normalize(self) -> str:
        return f"{self.output_prefix}dlq.normalize"


async def run(bootstrap: str, input_prefix: str, output_prefix: str, group: str) -> None:
    stage = IngestStage(IngestConfig(bootstrap, group), SplitNames(input_prefix, output_prefix))
    task = asyncio.create_task(stage.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input-prefix", required=True)
    parser.add_argument("--output-prefix", required=True)
    parser.add_argument("--group", required=True)
    args = parser.parse_args()
    asyncio.run(run(args.bootstrap, args.input_prefix, args.output_prefix, args.group))


if __name__ == "__main__":
    main()
