"""`GET /health`: is this worker assigned, recovered and processing?"""

from __future__ import annotations

from typing import Any

from streams.read_model import ReadModel


def worker_health(app: Any, read_model: ReadModel | None = None) -> dict[str, Any]:
    """The worker's readiness as JSON-able facts."""
    recovery = app.tables.recovery
    recovered = recovery.completed.is_set()
    assignment = (
        sorted(f"{tp.topic}[{tp.partition}]" for tp in app.consumer.assignment())
        if app.consumer
        else []
    )
    read_model_ready = read_model is None or read_model.caught_up.is_set()
    return {
        "ready": bool(recovered and not app.rebalancing and read_model_ready),
        "read_model_caught_up": read_model_ready,
        "rebalancing": bool(app.rebalancing),
        "recovered": bool(recovered),
        "assigned_partitions": len(assignment),
    }


def register_health_view(app: Any, read_model: ReadModel | None = None) -> None:
    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        facts = worker_health(app, read_model)
        return web.json(facts, status=200 if facts["ready"] else 503)
