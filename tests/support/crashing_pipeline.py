"""`python -m tests.support.crashing_pipeline N`: the worker's pipeline, killed with SIGKILL
inside the N-th case-step transaction, after its sends reached the broker and before its commit.

Settings come from the environment like `hub worker`'s. What a crash mid-batch looks like: a
batch's states, outputs and input offsets on the log, uncommitted, and the process gone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from schemas.settings import load_settings
from streams.pipeline import build_pipeline
from streams.provisioning import ensure_topics
from streams.topics import TopicNames
from translations.glossary import classify_reason


def kill_at(batch: int):  # type: ignore[no-untyped-def]
    def before_commit(n: int) -> None:
        if n >= batch:
            print(f"killing the worker inside case-step transaction {n}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    return before_commit


async def main(batch: int) -> None:
    settings = load_settings()
    await ensure_topics(settings)
    pipeline = build_pipeline(settings, TopicNames(settings.topic_prefix),
                              classify_reason=classify_reason, before_commit=kill_at(batch))
    await asyncio.gather(pipeline.ingest.run(), pipeline.cases.run())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
