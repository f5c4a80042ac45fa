"""The webhook intake's `GET /metrics`: requests per source and status, time to answer, bytes.

One aiohttp middleware counts every answer of `POST /webhooks/{source}`; a source the intake
does not serve is counted as `unknown` (the path segment is the caller's, and a label per
garbage path would grow without bound). The app gets a registry of its own
(`hub.web.metrics.new_registry`, with the client's process collectors), so several intakes in
one process keep their figures apart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from prometheus_client import Counter, Histogram

from hub.web.metrics import CONTENT_TYPE, new_registry, render

UNKNOWN_SOURCE = "unknown"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class IntakeMetrics:
    """The intake's figures, in a registry of their own."""

    def __init__(self, sources: Collection[str]) -> None:
        self.registry = new_registry()
        self.requests = Counter("hub_intake_requests_total",
                                "webhook requests answered, per source and HTTP status",
                                ["source", "status"], registry=self.registry)
        self.duration = Histogram("hub_intake_request_duration_seconds",
                                  "time from request to answer, per source (the broker's "
                                  "acknowledgement included)", ["source"],
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        self.written = Counter("hub_intake_written_bytes_total",
                               "webhook body bytes accepted and written to raw.<source>, "
                               "per source", ["source"], registry=self.registry)
        self.sources = frozenset(sources)

    def render(self) -> bytes:
        return render(self.registry)

    @web.middleware
    async def count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count each answer of a webhook route (other routes pass through)."""
        named = request.match_info.get("source")
        if named is None:
            return await handler(request)
        source = named if named in self.sources else UNKNOWN_SOURCE
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            if status == 200 and request.content_length:
                self.written.labels(source).inc(request.content_length)
            return response
        finally:
            self.duration.labels(source).observe(time.perf_counter() - started)
            self.requests.labels(source, str(status)).inc()


def instrument_intake(app: web.Application, sources: Collection[str]) -> IntakeMetrics:
    """Count the intake's answers and serve them at `GET /metrics` of `app`."""
    metrics = IntakeMetrics(sources)

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app.middlewares.append(metrics.count)
    app.router.add_get("/metrics", serve)
    return metrics
