"""`/livez`, `/readyz` and `/health` on a faust app without a broker: a crashed app (what a dead
stage does to it) is not alive; readiness answers with the checks behind it."""

from __future__ import annotations

import uuid
from typing import Any

import faust
from aiohttp.test_utils import TestClient, TestServer

from hub.web.access import BUILTIN_VIEWS_OFF
from hub.web.health import register_health_view
from streams.read_model import ReadModel


def new_app() -> Any:
    return faust.App(f"health-test-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1",
                     store="memory://", autodiscover=False, web_enabled=True,
                     **BUILTIN_VIEWS_OFF)


async def test_a_crashed_app_is_not_alive_and_says_why() -> None:
    app = new_app()
    register_health_view(app)
    app.web.init_server()
    async with TestClient(TestServer(app.web.web_app)) as client:
        alive = await client.get("/livez")
        assert alive.status == 200 and (await alive.json())["alive"] is True

        await app.crash(RuntimeError("ingest stage stopped"))

        dead = await client.get("/livez")
        facts = await dead.json()
        assert dead.status == 503 and facts["crashed"] is True
        assert "ingest stage stopped" in facts["crash_reason"]
        assert (await client.get("/readyz")).status == 503


async def test_readiness_names_what_it_waits_for_and_health_answers_the_same() -> None:
    """Without a broker faust's consumer never starts: not ready, for that reason and the read
    model's, while alive. (Ready after start-up: tests/integration/test_health_probes.py.)"""
    app = new_app()
    model = ReadModel(cases_topic="cases", shipments_topic="shipments")
    register_health_view(app, model)
    app.web.init_server()
    async with TestClient(TestServer(app.web.web_app)) as client:
        waiting = await client.get("/readyz")
        facts = await waiting.json()
        assert waiting.status == 503 and facts["ready"] is False
        assert facts["read_model_caught_up"] is False
        assert facts["faust_consumer_started"] is False
        assert (await client.get("/livez")).status == 200  # not ready is not dead

        model.caught_up.set()

        health = await client.get("/health")
        readyz = await client.get("/readyz")
        assert health.status == readyz.status == 503
        assert await health.json() == await readyz.json()
        assert (await readyz.json())["read_model_caught_up"] is True
