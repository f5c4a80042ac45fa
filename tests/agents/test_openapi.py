"""The OpenAPI document: valid OpenAPI 3.1, served by the worker and the intake, and complete:
every route either server answers is documented, and every documented path is served."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from connectors.registry import CONNECTORS
from hub.web.access import BUILTIN_VIEWS_OFF
from hub.web.actions import register_action_views
from hub.web.feeds import register_feed_views
from hub.web.health import register_health_view
from hub.web.metrics import MetricsCollector, register_metrics_view
from hub.web.openapi import openapi_document, register_openapi_view
from hub.web.queries import register_query_views
from hub.web.queue import register_queue_views
from hub.webhooks.app import create_intake_app
from schemas.settings import load_settings
from streams.feeds import FeedHub
from streams.read_model import ReadModel
from streams.topics import TopicNames
from translations.regions import REGIONS

DOCUMENT = openapi_document()
METHODS = ("get", "post", "put", "patch", "delete")


def worker_app() -> Any:
    """A worker's web server with every view `hub.app.create_app` registers (no broker)."""
    app = faust.App(f"openapi-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1",
                    store="memory://", autodiscover=False, web_enabled=True,
                    **BUILTIN_VIEWS_OFF)
    settings = load_settings(operator_tokens=["tok-ops"])
    model = ReadModel(cases_topic="cases", shipments_topic="shipments")
    register_metrics_view(app, MetricsCollector(app, TopicNames(), model))
    feed_hub = FeedHub({c: f"feed.{c.lower()}" for c in REGIONS.codes})
    register_feed_views(app, settings, feed_hub)
    register_query_views(app, model)
    register_action_views(app, settings, model)
    register_queue_views(app, feed_hub, model)
    register_health_view(app, model)
    register_openapi_view(app)
    app.web.init_server()
    return app


def intake_app() -> web.Application:
    async def never(*_: Any) -> None:
        raise AssertionError("nothing is written here")

    return create_intake_app(load_settings(), never)


def served(application: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every route; HEAD comes with every GET."""
    return {(route.method.lower(), route.resource.canonical)
            for route in application.router.routes()
            if route.resource is not None and route.method != "HEAD"}


def documented(*, intake: bool) -> set[tuple[str, str]]:
    """(method, path) of the document, for the intake's paths or the worker's."""
    found = set()
    for path, item in DOCUMENT["paths"].items():
        on_intake = "servers" in item and "intake" in item["servers"][0]["description"]
        if path in SERVED_BY_BOTH or on_intake == intake:
            found |= {(method, path) for method in METHODS if method in item}
    return found


SERVED_BY_BOTH = ("/openapi.json", "/metrics")


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)


def test_every_worker_route_is_documented_and_every_documented_one_served() -> None:
    routes = served(worker_app().web.web_app)
    assert ("get", "/cases/{case_id}") in routes
    assert routes == documented(intake=False)


def test_every_intake_route_is_documented_per_source() -> None:
    routes = served(intake_app())
    http_sources = [c.source for c in CONNECTORS if c.http is not None]
    expanded = {(method, path.replace("{source}", source)) if "{source}" in path
                else (method, path)
                for method, path in routes for source in http_sources}
    assert expanded == documented(intake=True)


@pytest.mark.parametrize("connector", CONNECTORS, ids=[c.source for c in CONNECTORS])
def test_each_http_connector_is_documented_with_its_headers(connector) -> None:  # type: ignore[no-untyped-def]
    item = DOCUMENT["paths"].get(f"/webhooks/{connector.source}")
    if connector.http is None:
        assert item is None
        return
    operation = item["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert set(connector.http.signature_headers) | set(connector.http.kept_headers) == headers
    assert connector.raw_topic in operation["description"]
    assert ("409" in operation["responses"]) == (connector.http.replay == "rejected")


def test_every_error_answer_is_a_problem() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                if int(status) >= 400 and path not in ("/health", "/livez", "/readyz"):
                    assert list(response["content"]) == ["application/problem+json"], (
                        method, path, status)
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/problem"}


def test_component_schemas_describe_what_the_worker_answers() -> None:
    components = DOCUMENT["components"]["schemas"]
    problem = Draft202012Validator({**components["problem"], "$defs": {}})
    problem.validate({"type": "https://aftersales-hub.example/problems/not_found",
                      "title": "Not found", "status": 404, "detail": "no case",
                      "code": "not_found"})
    assert not problem.is_valid({"error": "not_found", "detail": "no case"})


@pytest.fixture
async def worker_client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(worker_app().web.web_app)) as client:
        yield client


async def test_the_worker_serves_the_document(worker_client: TestClient[Any, Any]) -> None:
    response = await worker_client.get("/openapi.json")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert await response.json() == json.loads(json.dumps(DOCUMENT))


async def test_the_intake_serves_the_document() -> None:
    async with TestClient(TestServer(intake_app())) as client:
        response = await client.get("/openapi.json")
        assert response.status == 200
        assert await response.json() == json.loads(json.dumps(DOCUMENT))


async def test_an_unsigned_webhook_of_each_source_is_refused_as_a_problem() -> None:
    secrets = {c.source: ["a-secret-of-64-hex-digits-" + "0" * 38]
               for c in CONNECTORS if c.http is not None}
    secrets["adyen"] = ["00" * 32]
    settings = load_settings(webhook_secrets=secrets)

    async def never(*_: Any) -> None:
        raise AssertionError("an unsigned delivery is never written")

    async with TestClient(TestServer(create_intake_app(settings, never))) as client:
        for connector in CONNECTORS:
            if connector.http is None:
                continue
            response = await client.post(f"/webhooks/{connector.source}", data=b"{}",
                                         headers={"Content-Type": "application/json"})
            assert response.status in (400, 401, 503), connector.source
            assert response.headers["Content-Type"].startswith("application/problem+json")
            body = await response.json(content_type=None)
            assert body["status"] == response.status and body["code"]
