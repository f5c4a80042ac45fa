"""The worker's web views on a faust app without a broker: who may read what, how streams are
opened and bounded, and how feeds are paged (aiohttp's test client against the app's server)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import faust
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from hub.web.access import BUILTIN_VIEWS_OFF
from hub.web.feeds import register_feed_views
from hub.web.queries import register_query_views
from schemas.case import Case
from schemas.settings import load_settings
from streams.feeds import FeedHub
from streams.read_model import ReadModel
from tests.support.sse import EventStream
from translations.regions import REGIONS

TEAM_DE, TEAM_JP, OPERATOR = "tok-de-5b1c", "tok-jp-0a9e", "tok-ops-77d2"
REASON = "Call me at +49 30 1234567, my name is Anna Schmidt"
MASKED_REASON = "Call me at [phone], my name is [name]"


@dataclass
class Worker:
    client: TestClient[Any, Any]
    feeds: FeedHub
    model: ReadModel

    async def get(self, path: str, token: str | None = None) -> ClientResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.get(path, headers=headers)

    async def ticket(self, region: str, token: str) -> str:
        response = await self.client.post(f"/feeds/{region}/ticket",
                                          headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200, await response.text()
        return str((await response.json())["ticket"])


def new_app(**settings: Any) -> Any:
    return faust.App(f"web-test-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1",
                     store="memory://", autodiscover=False, web_enabled=True, **settings)


def case_json(case_id: str, buyer_country: str, order_id: str = "ORD-1") -> bytes:
    case = Case(case_id=case_id, order_id=order_id, buyer_country=buyer_country,
                reason_text=REASON, reason_language="en", version=2)
    return case.model_dump_json().encode()


def feed_view(case_id: str, minute: int) -> bytes:
    return json.dumps({"case_id": case_id, "version": 1, "status": "requested",
                       "updated": {"utc": f"2026-03-14T10:{minute:02d}:00Z"}}).encode()


@pytest.fixture
async def worker() -> AsyncIterator[Worker]:
    app = new_app(**BUILTIN_VIEWS_OFF)
    app.Table("case_ledgers", key_type=bytes, value_type=bytes)
    settings = load_settings(
        feed_tokens={"DE": [TEAM_DE], "JP": [TEAM_JP]}, operator_tokens=[OPERATOR],
        feed_streams_per_token=2, feed_streams_per_region=3, feed_page_size=2,
    )
    feeds = FeedHub({code: f"feed.{code.lower()}" for code in REGIONS.codes})
    model = ReadModel(cases_topic="cases", shipments_topic="shipments")
    model.apply("cases", b"case-de", case_json("case-de", "DE"))
    model.apply("cases", b"case-jp", case_json("case-jp", "JP"))
    shipment = {"tracking_number": "1ZDE", "case_id": "case-de", "customs": [],
                "return_shipping": {"history": [{"status": "delivered",
                                                 "description": "Signed by Mr Smith"}]}}
    model.apply("shipments", b"1ZDE", json.dumps(shipment).encode())
    register_feed_views(app, settings, feeds)
    register_query_views(app, model)
    app.web.init_server()
    async with TestClient(TestServer(app.web.web_app)) as client:
        yield Worker(client, feeds, model)


async def error_of(response: ClientResponse) -> tuple[int, str]:
    """The status and problem code of an error answer, after checking it is a problem."""
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = await response.json(content_type=None)
    code = body["code"]
    assert body == {"type": f"https://aftersales-hub.example/problems/{code}",
                    "title": code.replace("_", " ").capitalize(), "status": response.status,
                    "detail": body["detail"], "code": code}
    assert isinstance(body["detail"], str) and body["detail"]
    return response.status, code


@pytest.mark.parametrize("path", ["/table/", "/table/case_ledgers/", "/table/case_ledgers/k/",
                                  "/router/", "/graph/", "/assignment/", "/performance/"])
async def test_fausts_builtin_views_are_off(worker: Worker, path: str) -> None:
    assert (await worker.get(path, OPERATOR)).status == 404


async def test_a_faust_app_left_with_its_defaults_serves_its_tables() -> None:
    """The probes above are real ones: by default, faust lists the tables at /table/."""
    plain = new_app()
    plain.Table("case_ledgers", key_type=bytes, value_type=bytes)
    plain.web.init_server()
    async with TestClient(TestServer(plain.web.web_app)) as client:
        response = await client.get("/table/")
        assert response.status == 200
        assert [table["name"] for table in await response.json()] == ["case_ledgers"]


async def test_queries_need_a_token_and_serve_the_regions_cases_masked(worker: Worker) -> None:
    unauthenticated = await worker.get("/cases/case-de")
    assert await error_of(unauthenticated) == (401, "unauthorized")
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    assert await error_of(await worker.get(f"/cases/case-de?token={TEAM_DE}")) == (
        400, "bad_request")
    assert await error_of(await worker.get("/cases/case-de", "not-a-token")) == (
        401, "unauthorized")

    response = await worker.get("/cases/case-de", TEAM_DE)
    assert response.status == 200
    assert (await response.json())["reason_text"] == MASKED_REASON
    # Another region's case is not there for this token (no hint that it exists).
    assert await error_of(await worker.get("/cases/case-de", TEAM_JP)) == (404, "not_found")
    assert await error_of(await worker.get("/cases/case-jp", TEAM_DE)) == (404, "not_found")

    async def order(token: str) -> list[str]:
        response = await worker.get("/cases?order_id=ORD-1", token)
        assert response.status == 200
        listed = await response.json()
        assert all(case["reason_text"] == MASKED_REASON for case in listed)
        return [case["case_id"] for case in listed]

    assert await order(TEAM_DE) == ["case-de"]
    assert await order(TEAM_JP) == ["case-jp"]
    assert await order(OPERATOR) == ["case-de", "case-jp"]
    assert (await worker.get("/cases?order_id=ORD-1")).status == 401

    response = await worker.get("/shipments/1ZDE", TEAM_DE)
    assert response.status == 200
    shipment = await response.json()
    assert shipment["return_shipping"]["history"][0]["description"] == "Signed by Mr [name]"
    assert await error_of(await worker.get("/shipments/1ZDE", TEAM_JP)) == (404, "not_found")
    assert (await worker.get("/shipments/1ZDE", OPERATOR)).status == 200
    assert (await worker.get("/shipments/1ZDE")).status == 401


@pytest.mark.parametrize("path", ["/feeds", "/feeds/DE", "/feeds/DE/stream", "/cases/case-de",
                                  "/cases", "/shipments/1ZDE"])
async def test_a_token_in_the_url_is_refused_everywhere(worker: Worker, path: str) -> None:
    response = await worker.get(f"{path}?token={TEAM_DE}")
    assert await error_of(response) == (400, "bad_request")
    assert "Authorization: Bearer" in (await response.json(content_type=None))["detail"]


async def test_the_stream_opens_with_a_ticket_of_its_region(worker: Worker) -> None:
    assert await error_of(await worker.client.post("/feeds/DE/ticket")) == (401, "unauthorized")
    assert await error_of(await worker.client.post(
        "/feeds/DE/ticket", headers={"Authorization": f"Bearer {TEAM_JP}"})) == (403, "forbidden")
    assert (await worker.get("/feeds/DE/ticket", TEAM_DE)).status == 405
    response = await worker.client.post("/feeds/DE/ticket",
                                        headers={"Authorization": f"Bearer {TEAM_DE}"})
    assert response.headers["Cache-Control"] == "no-store"
    assert (await response.json())["expires_in"] == 60

    ticket = await worker.ticket("DE", TEAM_DE)
    async with worker.client.get(f"/feeds/de/stream?ticket={ticket}") as response:
        assert response.status == 200
        ready = await EventStream(response).until(lambda e: e.event == "ready", timeout=5)
        assert json.loads(ready.data) == {"count": 0, "next": None}
    assert await error_of(await worker.get(f"/feeds/JP/stream?ticket={ticket}")) == (
        401, "unauthorized")
    assert await error_of(await worker.get("/feeds/DE/stream?ticket=t1.forged.x")) == (
        401, "unauthorized")
    # Clients that can send headers use the bearer token.
    async with worker.client.get("/feeds/JP/stream",
                                 headers={"Authorization": f"Bearer {OPERATOR}"}) as response:
        assert response.status == 200


async def test_live_streams_are_bounded_per_token_and_per_region(worker: Worker) -> None:
    async with AsyncExitStack() as streams:
        async def open_stream(token: str, region: str = "DE") -> ClientResponse:
            ticket = await worker.ticket(region, token)
            return await streams.enter_async_context(
                worker.client.get(f"/feeds/{region}/stream?ticket={ticket}"))

        opened = [await open_stream(TEAM_DE), await open_stream(TEAM_DE)]
        refused = await open_stream(TEAM_DE)
        assert await error_of(refused) == (429, "too_many_streams")
        assert int(refused.headers["Retry-After"]) > 0
        opened.append(await open_stream(OPERATOR))  # the region's third and last
        busy = await open_stream(OPERATOR)
        assert await error_of(busy) == (503, "unavailable")
        assert int(busy.headers["Retry-After"]) > 0
        opened.append(await open_stream(OPERATOR, "JP"))  # another region has its own bound
        assert [response.status for response in opened] == [200, 200, 200, 200]

        worker.feeds.close()  # the streams end, as on shutdown: their places are free again
        for response in opened:
            await response.read()
        assert worker.feeds.subscriber_count("DE") == 0
        assert (await open_stream(TEAM_DE)).status == 200


async def test_the_snapshot_and_the_list_are_paged(worker: Worker) -> None:
    for number in range(5):
        worker.feeds.apply("feed.de", f"c{number}".encode(), feed_view(f"c{number}", number))
    ticket = await worker.ticket("DE", TEAM_DE)
    async with worker.client.get(f"/feeds/DE/stream?ticket={ticket}") as response:
        stream = EventStream(response)
        first = [await stream.until(lambda e: e.event != "message", timeout=5) for _ in range(3)]
    assert [event.event for event in first] == ["case", "case", "ready"]
    assert [event.id for event in first[:2]] == ["c4:1", "c3:1"]  # the most recent ones
    ready = json.loads(first[2].data)
    assert ready["count"] == 2 and ready["next"]

    listed: list[str] = []
    path: str | None = "/feeds/DE"
    while path is not None:
        response = await worker.get(path, TEAM_DE)
        assert response.status == 200
        listed += [view["case_id"] for view in await response.json()]
        link = response.headers.get("Link")
        path = link[1:link.index(">")] if link else None
    assert listed == ["c4", "c3", "c2", "c1", "c0"]
    response = await worker.get(f"/feeds/DE?cursor={ready['next']}&limit=10", TEAM_DE)
    assert [view["case_id"] for view in await response.json()] == ["c2", "c1", "c0"]
    assert "Link" not in response.headers
    for bad in ("limit=0", "limit=1001", "limit=x", "cursor=bad", "cursor=W10"):
        assert await error_of(await worker.get(f"/feeds/DE?{bad}", TEAM_DE)) == (
            400, "bad_request"), bad
