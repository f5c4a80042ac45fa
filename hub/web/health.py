"""`GET /livez` and `GET /readyz` (and `/health`, the same as `/readyz`) of a worker.

    /livez    200 while the process answers and no stage has died: a stage that fails crashes
              the app (`streams.pipeline.run_supervised`), and a crashed or stopping app is not
              alive. A rebalance never fails it: restart a worker only when this fails.
    /readyz   200 when the worker can serve: every stage runs and holds a settled assignment
              (no rebalance of its group under way), the case step restored its partitions'
              state, faust's own group is not rebalancing, and the read model caught up.
              503 otherwise, with the checks that failed: take the worker out of the load
              balancer, do not restart it.

Both answer JSON with the facts behind the verdict.
"""

from __future__ import annotations

from typing import Any

from streams.feed_stage import FeedStage
from streams.pipeline import Pipeline
from streams.read_model import ReadModel


def worker_liveness(app: Any) -> dict[str, Any]:
    """Is the worker alive: its app neither crashed nor stopping."""
    crashed = bool(getattr(app, "crashed", False))
    stopping = bool(getattr(app, "should_stop", False)) and not crashed
    reason = getattr(app, "crash_reason", None)
    return {
        "alive": not crashed and not stopping,
        "crashed": crashed,
        "stopping": stopping,
        "crash_reason": repr(reason) if reason is not None else None,
    }


def worker_health(
    app: Any, read_model: ReadModel | None = None, pipeline: Pipeline | None = None,
    feeds: FeedStage | None = None,
) -> dict[str, Any]:
    """The worker's readiness as JSON-able facts: `ready` and each check behind it."""
    stages: dict[str, Any] = {}
    if pipeline is not None:
        stages["ingest"] = pipeline.ingest
        stages["case_step"] = pipeline.cases
    if feeds is not None:
        stages["feeds"] = feeds
    running = {name: stage.ready.is_set() for name, stage in stages.items()}
    assigning = sorted(name for name, stage in stages.items() if _reassigning(stage))
    read_model_ready = read_model is None or read_model.caught_up.is_set()
    pipeline_ready = all(running.values()) and not assigning
    assignment = _faust_assignment(app)
    alive = worker_liveness(app)["alive"]
    return {
        "ready": bool(alive and pipeline_ready and not app.rebalancing and read_model_ready
                      and assignment is not None),
        "faust_consumer_started": assignment is not None,
        "stages_ready": running,
        "stages_rebalancing": assigning,
        "read_model_caught_up": read_model_ready,
        "pipeline_ready": pipeline_ready,
        "rebalancing": bool(app.rebalancing) or bool(assigning),
        "assigned_partitions": len(assignment or ()),
    }


def _faust_assignment(app: Any) -> set[Any] | None:
    """The faust consumer's partitions; None before its consumer started (early start-up)."""
    if not app.consumer:
        return None
    try:
        return set(app.consumer.assignment())
    except Exception:  # noqa: BLE001 - faust's ConsumerNotStarted, among others: not yet
        return None


def _reassigning(stage: Any) -> bool:
    """Whether the stage's consumer group is rebalancing: its consumer has no settled
    assignment (aiokafka's subscription state; a stage not started yet is not rebalancing,
    and not ready either)."""
    consumer = getattr(stage, "_consumer", None)  # noqa: SLF001 - the stages keep it private
    subscription = getattr(consumer, "_subscription", None)
    if subscription is None:
        return False
    try:
        return bool(subscription.reassignment_in_progress)
    except AttributeError:  # another aiokafka: no opinion rather than a false alarm
        return False


def register_health_view(
    app: Any, read_model: ReadModel | None = None, pipeline: Pipeline | None = None,
    feeds: FeedStage | None = None,
) -> None:
    """Serve /livez, /readyz and /health (= /readyz)."""

    @app.page("/livez")
    async def livez(web: Any, request: Any) -> Any:
        facts = worker_liveness(app)
        return web.json(facts, status=200 if facts["alive"] else 503)

    async def ready(web: Any) -> Any:
        facts = worker_health(app, read_model, pipeline, feeds)
        return web.json(facts, status=200 if facts["ready"] else 503)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        return await ready(web)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return await ready(web)
