"""Regional case feeds over HTTP on every worker, and the support console that reads them.

    GET /feeds                        the regions the token may read (locale, direction, strings)
    GET /feeds/{region}               the latest view of every case, newest first; ?status=
    GET /feeds/{region}/stream        Server-Sent Events: the views now, then every update
                                      (`event: case`, `id: <case_id>:<version>`, data: the view)
    GET /console                      the support console (static page, no build step)
    GET /console/{asset}              its script and style sheet

Access: a team token of the region (`HUB_FEED_TOKENS__<REGION>`, JSON list: several during
rotation), as `Authorization: Bearer <token>` or `?token=<token>` (EventSource cannot send
headers; the worker writes no access log). Unknown region 404, missing or unknown token 401, a
token of another region 403, a bad parameter 400. Errors are JSON: {"error": ..., "detail": ...}.

The stream sends the current views first (`event: ready` follows them, with their count), then
each update as it reaches this worker's FeedHub. A client that lags more than the FeedHub's
queue bound is disconnected rather than slowing anyone down; EventSource reconnects and gets a
fresh snapshot. A comment line every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from aiohttp import web as aioweb

from hub.settings import Settings
from schemas.case import CaseStatus
from streams.feeds import FeedHub
from translations.errors import UnknownRegionError
from translations.regions import REGIONS, Region, RegionsConfig
from translations.views import describe_region

log = logging.getLogger("hub.web.feeds")

STATIC_DIR = Path(__file__).with_name("static")
HEARTBEAT_SECONDS = 15.0
_STATUSES = frozenset(get_args(CaseStatus))
_ASSETS: Mapping[str, tuple[str, str]] = {
    "console.js": ("console.js", "text/javascript; charset=utf-8"),
    "console.css": ("console.css", "text/css; charset=utf-8"),
}
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class FeedAccess:
    """Which regions a token may read: constant-time comparison against every team token."""

    def __init__(self, tokens: Mapping[str, list[Any]], regions: RegionsConfig = REGIONS) -> None:
        self._tokens: list[tuple[str, bytes]] = []
        for code, secrets in tokens.items():
            try:
                region = regions.region(code)
            except UnknownRegionError:
                log.warning("feed tokens for unknown region %r ignored", code)
                continue
            for secret in secrets:
                value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
                if value:
                    self._tokens.append((region.code, str(value).encode()))

    def regions_for(self, token: str | None) -> set[str]:
        """The region codes the token is valid for (empty: unknown or missing)."""
        if not token:
            return set()
        offered = token.encode()
        return {code for code, secret in self._tokens if hmac.compare_digest(offered, secret)}


def _error(status: int, error: str, detail: str) -> aioweb.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="feeds"'} if status == 401 else None
    return aioweb.json_response({"error": error, "detail": detail}, status=status,
                                headers=headers)


def _token(request: aioweb.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token") or None


def register_feed_views(
    app: Any, settings: Settings, feed_hub: FeedHub, *, regions: RegionsConfig = REGIONS
) -> None:
    """Add the feed API, the live stream and the support console to the worker's web server."""
    access = FeedAccess(settings.feed_tokens, regions)
    page = (STATIC_DIR / "console.html").read_bytes()
    assets = {name: ((STATIC_DIR / file).read_bytes(), kind)
              for name, (file, kind) in _ASSETS.items()}

    def authorize(request: aioweb.Request, code: str) -> Region | aioweb.Response:
        try:
            region = regions.region(code)
        except UnknownRegionError:
            return _error(404, "not_found", f"no region {code!r}")
        allowed = access.regions_for(_token(request))
        if not allowed:
            return _error(401, "unauthorized", "a team token is required (Bearer or ?token=)")
        if region.code not in allowed:
            return _error(403, "forbidden", f"the token does not give access to {region.code}")
        return region

    def status_filter(request: aioweb.Request) -> str | None | aioweb.Response:
        unknown = sorted(set(request.query) - {"status", "token"})
        if unknown:
            return _error(400, "bad_request", f"unknown parameters: {', '.join(unknown)}")
        status = request.query.get("status") or None
        if status is not None and status not in _STATUSES:
            return _error(400, "bad_request",
                          f"status must be one of {', '.join(sorted(_STATUSES))}")
        return status

    def feed_request(
        request: aioweb.Request, code: str
    ) -> tuple[Region, str | None] | aioweb.Response:
        """The region and status filter a feed request may read, or the error response."""
        found = authorize(request, code)
        if isinstance(found, aioweb.Response):
            return found
        status = status_filter(request)
        if isinstance(status, aioweb.Response):
            return status
        return found, status

    async def list_regions(web: Any, request: aioweb.Request) -> aioweb.Response:
        allowed = access.regions_for(_token(request))
        if not allowed:
            return _error(401, "unauthorized", "a team token is required (Bearer or ?token=)")
        described = [describe_region(region).model_dump(mode="json")
                     for region in regions.regions if region.code in allowed]
        return aioweb.json_response({"regions": described},
                                    dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    async def list_feed(web: Any, request: aioweb.Request, region: str) -> aioweb.Response:
        allowed = feed_request(request, region)
        if isinstance(allowed, aioweb.Response):
            return allowed
        found, status = allowed
        body = b"[" + b",".join(feed_hub.views(found.code, status=status)) + b"]"
        return aioweb.Response(body=body, content_type="application/json", charset="utf-8",
                               headers={"Cache-Control": "no-store"})

    async def stream_feed(web: Any, request: aioweb.Request, region: str) -> aioweb.StreamResponse:
        allowed = feed_request(request, region)
        if isinstance(allowed, aioweb.Response):
            return allowed
        found, status = allowed
        response = aioweb.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store", "X-Accel-Buffering": "no",
        })
        await response.prepare(request)
        with feed_hub.subscribe(found.code) as subscription:
            try:
                await _stream(response, feed_hub, subscription, found.code, status)
            except (ConnectionResetError, ConnectionError):
                pass  # the client went away
        return response

    async def console(web: Any, request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(body=page, content_type="text/html", charset="utf-8",
                               headers=_PAGE_HEADERS)

    async def console_asset(web: Any, request: aioweb.Request, asset: str) -> aioweb.Response:
        if asset not in assets:
            return _error(404, "not_found", f"no console asset {asset!r}")
        body, kind = assets[asset]
        return aioweb.Response(body=body, headers={**_PAGE_HEADERS, "Content-Type": kind})

    async def on_shutdown(_: aioweb.Application) -> None:
        feed_hub.close()  # ends every live stream, so the server does not wait for them

    app.page("/feeds")(list_regions)
    app.page("/feeds/{region}")(list_feed)
    app.page("/feeds/{region}/stream")(stream_feed)
    app.page("/console")(console)
    app.page("/console/{asset}")(console_asset)
    app.web.web_app.on_shutdown.append(on_shutdown)


async def _stream(
    response: aioweb.StreamResponse,
    feed_hub: FeedHub,
    subscription: Any,
    region: str,
    status: str | None,
) -> None:
    await response.write(b"retry: 3000\n\n")
    sent: dict[str, bytes] = {}
    for value in feed_hub.views(region, status=status):
        document = json.loads(value)
        sent[document["case_id"]] = value
        await response.write(_event("case", value, document))
    await response.write(b"event: ready\ndata: " + json.dumps({"count": len(sent)}).encode()
                         + b"\n\n")
    while True:
        try:
            value = await subscription.get(HEARTBEAT_SECONDS)
        except TimeoutError:
            await response.write(b": keep-alive\n\n")
            continue
        if value is None:
            return  # dropped (too slow) or the server is shutting down
        document = json.loads(value)
        case_id = document.get("case_id")
        if sent.pop(case_id, None) == value:
            continue  # already sent in the snapshot
        if document.get("removed"):
            await response.write(b"event: removed\ndata: " + value + b"\n\n")
        elif status is None or document.get("status") == status:
            await response.write(_event("case", value, document))
        else:
            # It left the filtered status: tell the client to drop it.
            removed = json.dumps({"case_id": case_id, "removed": True}).encode()
            await response.write(b"event: removed\ndata: " + removed + b"\n\n")


def _event(name: str, value: bytes, document: Mapping[str, Any]) -> bytes:
    """One SSE event; the view JSON is a single line (no newline can end the data early)."""
    event_id = f"{document['case_id']}:{document['version']}".replace("\n", " ")
    return (f"event: {name}\nid: {event_id}\n".encode() + b"data: " + value + b"\n\n")
