"""`GET /health`: is this worker's pipeline running, restored and its read model caught up?"""

from __future__ import annotations

from typing import Any

from streams.feed_stage import FeedStage
from streams.pipeline import Pipeline
from streams.read_model import ReadModel


def worker_health(
    app: Any, read_model: ReadModel | None = None, pipeline: Pipeline | None = None,
    feeds: FeedStage | None = None,
) -> dict[str, Any]:
    """The worker's readiness as JSON-able facts."""
    read_model_ready = read_model is None or read_model.caught_up.is_set()
    pipeline_ready = (pipeline is None or pipeline.ready) and (
        feeds is None or feeds.ready.is_set())
    assignment = (
        sorted(f"{tp.topic}[{tp.partition}]" for tp in app.consumer.assignment())
        if app.consumer
        else []
    )
    return {
        "ready": bool(pipeline_ready and not app.rebalancing and read_model_ready),
        "read_model_caught_up": read_model_ready,
        "pipeline_ready": pipeline_ready,
        "rebalancing": bool(app.rebalancing),
        "assigned_partitions": len(assignment),
    }


def register_health_view(
    app: Any, read_model: ReadModel | None = None, pipeline: Pipeline | None = None,
    feeds: FeedStage | None = None,
) -> None:
    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        facts = worker_health(app, read_model, pipeline, feeds)
        return web.json(facts, status=200 if facts["ready"] else 503)
