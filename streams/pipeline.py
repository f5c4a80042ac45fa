"""The hub's pipeline in two steps, run as tasks of the worker's faust app.

    raw.<source> --ingest (streams.ingest)--> case.inbox --case step (streams.case_worker)-->
        cases, case.changes, case.policy, shipments (and case.state, its changelog)

Both steps are plain aiokafka loops over consumer groups of their own, batched: faust costs
about 0.3 ms per message it consumes or sends, more than normalizing a payload, so the heavy
stages do not go through faust's stream machinery (nor does the feeds stage,
`streams.feed_stage`). faust runs the tasks, timers, web views and followers.

A stage that dies takes the worker with it (`run_supervised`, faust `crash`): a half-running
worker that holds partitions it does not process would be worse than a restart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from schemas.settings import Settings
from streams.case_step import StepSettings
from streams.case_worker import CaseWorker, CaseWorkerConfig
from streams.cases import ReasonClassifier
from streams.ingest import IngestConfig, IngestStage
from streams.kafka_clients import kafka_client_options
from streams.policy import load_policy
from streams.topics import TopicNames

log = logging.getLogger("streams.pipeline")


@dataclass(frozen=True, slots=True)
class Pipeline:
    ingest: IngestStage
    cases: CaseWorker

    @property
    def ready(self) -> bool:
        return self.ingest.ready.is_set() and self.cases.ready.is_set()


def instance_id(directory: Path) -> str:
    """This worker's stable id: the same state directory is the same worker after a restart,
    so its transactional id fences its own earlier incarnation."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "instance-id"
    if not path.exists():
        path.write_text(uuid.uuid4().hex)
    return path.read_text().strip()


async def run_supervised(app: Any, name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run a stage of `app` until cancelled; a stage that fails crashes the worker."""
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        log.exception("%s stopped", name)
        await app.crash(exc)


def build_pipeline(
    settings: Settings, topics: TopicNames, *,
    classify_reason: ReasonClassifier | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> Pipeline:
    """The ingest stage and the case step of a worker, configured from `settings`."""
    ingest = IngestStage(
        IngestConfig(settings.bootstrap_servers, f"{settings.app_id}-ingest",
                     batch_max_records=settings.batch_max_records,
                     client_options=kafka_client_options(settings)),
        topics,
    )
    worker_id = instance_id(settings.worker_data_dir)
    cases = CaseWorker(
        CaseWorkerConfig(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=f"{settings.app_id}-case-step",
            transactional_id=f"{settings.app_id}-case-step-{worker_id}",
            state_dir=settings.worker_data_dir / "case-state",
            partitions=settings.partitions,
            batch_max_records=settings.batch_max_records,
            tick_interval=min(settings.policy_clock_interval_seconds,
                              settings.parked_check_interval_seconds),
            transaction_timeout_ms=int(settings.transaction_timeout_seconds * 1000),
            client_options=kafka_client_options(settings),
        ),
        topics,
        StepSettings(
            policy=load_policy(settings.policy_dir),
            classify_reason=classify_reason,
            settle=timedelta(seconds=settings.policy_settle_seconds),
            parked_ttl=timedelta(seconds=settings.parked_event_ttl_seconds),
        ),
        before_commit=before_commit,
    )
    return Pipeline(ingest, cases)


def register_pipeline(
    app: Any, settings: Settings, topics: TopicNames, *,
    classify_reason: ReasonClassifier | None = None,
) -> Pipeline:
    """Declare the ingest stage and the case step as tasks of `app`."""
    pipeline = build_pipeline(settings, topics, classify_reason=classify_reason)

    @app.task
    async def ingest_stage() -> None:
        await run_supervised(app, "ingest stage", pipeline.ingest.run)

    @app.task
    async def case_step() -> None:
        await run_supervised(app, "case step", pipeline.cases.run)

    return pipeline
