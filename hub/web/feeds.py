"""Regional case feeds over HTTP on every worker, and the support console that reads them.

    GET  /feeds                       the regions the token may read (locale, direction, strings)
    GET  /feeds/{region}              the latest views, most recently updated first, one page:
                                      ?status=, ?limit= (1-1000, default `feed_page_size`),
                                      ?cursor= (the next page: `Link: <...>; rel="next"`)
    POST /feeds/{region}/ticket       a stream ticket: {"ticket": ..., "expires_in": seconds}
    GET  /feeds/{region}/stream       Server-Sent Events: the latest views, then every update
                                      (`event: case`, `id: <case_id>:<version>`, data: the view)
    GET  /console                     the support console (static page, no build step)
    GET  /console/{asset}             its script and style sheet
    GET  /console/locale/{region}     the region's page strings, language and direction (no case
                                      data, no credential: the sign-in form speaks the region's
                                      language before a token is given)

Access (`hub.web.access`): a team token of the region or an operator token, as
`Authorization: Bearer <token>`; the stream also takes `?ticket=` (EventSource cannot send
headers), never a token in the URL. Unknown region 404, missing or unknown credential 401, a
token of another region 403, a bad parameter or a token in the URL 400. Errors are problem
details (RFC 9457, `application/problem+json`): `code` says which.

The stream sends the `feed_page_size` most recently updated views first (`event: ready`
follows them, with their count and the cursor of the older ones in the list, or null), then
each update as it reaches this worker's FeedHub. A worker serves at most
`feed_streams_per_token` streams per token (429 beyond) and `feed_streams_per_region` per
region (503 beyond), both with Retry-After. A client that lags more than the FeedHub's queue
bound is disconnected rather than slowing anyone down; EventSource reconnects (the console with
a fresh ticket) and gets a fresh snapshot. A comment line every 15 s keeps proxies from closing
an idle stream.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from aiohttp import web as aioweb
from faust.web import View

from hub.web.access import (
    Principal,
    authenticate,
    b64url_decode,
    b64url_encode,
    error_response,
    install_access,
)
from schemas.case import CaseStatus
from schemas.settings import Settings
from streams.feeds import FeedHub, FeedPosition
from translations.errors import UnknownRegionError
from translations.regions import REGIONS, Region, RegionsConfig
from translations.views import describe_region

log = logging.getLogger("hub.web.feeds")

STATIC_DIR = Path(__file__).with_name("static")
HEARTBEAT_SECONDS = 15.0
MAX_PAGE_SIZE = 1000
STREAM_RETRY_AFTER_SECONDS = 30
_LIST_PARAMS = frozenset({"status", "limit", "cursor"})
_STREAM_PARAMS = frozenset({"status", "ticket"})
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


def register_feed_views(
    app: Any, settings: Settings, feed_hub: FeedHub, *, regions: RegionsConfig = REGIONS
) -> None:
    """Add the feed API, the live stream and the support console to the worker's web server,
    and install the worker's `WebAccess` (the feed tokens are its team tokens)."""
    access = install_access(app, settings, regions)
    page = (STATIC_DIR / "console.html").read_bytes()
    assets = {name: ((STATIC_DIR / file).read_bytes(), kind)
              for name, (file, kind) in _ASSETS.items()}
    streams_per_token: Counter[str] = Counter()

    def authorize(
        request: aioweb.Request, code: str, *, ticket: bool = False
    ) -> tuple[Region, Principal] | aioweb.Response:
        """The region and who reads it (bearer token, or `?ticket=` when `ticket`), or the
        error response."""
        try:
            region = regions.region(code)
        except UnknownRegionError:
            return error_response(404, "not_found", f"no region {code!r}")
        if ticket and "ticket" in request.query and "token" not in request.query:
            principal = access.redeem_ticket(request.query["ticket"], region.code)
            if principal is None:
                return error_response(401, "unauthorized",
                                      "the ticket is invalid or expired: get a new one")
        else:
            found = authenticate(request)
            if isinstance(found, aioweb.Response):
                return found
            principal = found
        if not principal.reads(region.code):
            return error_response(403, "forbidden",
                                  f"the token does not give access to {region.code}")
        return region, principal

    def query(
        request: aioweb.Request, allowed: frozenset[str]
    ) -> dict[str, str] | aioweb.Response:
        """The query parameters, or 400 for an unknown one or a status that is not one."""
        unknown = sorted(set(request.query) - allowed)
        if unknown:
            return error_response(400, "bad_request",
                                  f"unknown parameters: {', '.join(unknown)}")
        status = request.query.get("status")
        if status and status not in _STATUSES:
            return error_response(400, "bad_request",
                                  f"status must be one of {', '.join(sorted(_STATUSES))}")
        return {name: value for name, value in request.query.items() if value}

    def stream_refused(region: Region, principal: Principal) -> aioweb.Response | None:
        """429 when the token has all its streams, 503 when the region has; else None."""
        retry = {"Retry-After": str(STREAM_RETRY_AFTER_SECONDS)}
        if streams_per_token[principal.subject] >= settings.feed_streams_per_token:
            return error_response(
                429, "too_many_streams",
                f"this token has {settings.feed_streams_per_token} live streams on this worker: "
                "close one", headers=retry)
        if feed_hub.subscriber_count(region.code) >= settings.feed_streams_per_region:
            return error_response(
                503, "unavailable",
                f"{region.code} has {settings.feed_streams_per_region} live streams on this "
                "worker: try again later", headers=retry)
        return None

    async def list_regions(web: Any, request: aioweb.Request) -> aioweb.Response:
        principal = authenticate(request)
        if isinstance(principal, aioweb.Response):
            return principal
        described = [describe_region(region).model_dump(mode="json")
                     for region in regions.regions if principal.reads(region.code)]
        return aioweb.json_response({"regions": described},
                                    dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    async def list_feed(web: Any, request: aioweb.Request, region: str) -> aioweb.Response:
        allowed = authorize(request, region)
        if isinstance(allowed, aioweb.Response):
            return allowed
        found, _ = allowed
        params = query(request, _LIST_PARAMS)
        if isinstance(params, aioweb.Response):
            return params
        limit = params.get("limit", str(settings.feed_page_size))
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_PAGE_SIZE):
            return error_response(400, "bad_request", f"limit must be 1-{MAX_PAGE_SIZE}")
        try:
            after = _position(params["cursor"]) if "cursor" in params else None
        except ValueError:
            return error_response(400, "bad_request", "cursor is not one a feed page gave")
        listed = feed_hub.page(found.code, status=params.get("status"), limit=int(limit),
                               after=after)
        headers = {"Cache-Control": "no-store"}
        if listed.next is not None:
            following = request.rel_url.update_query(cursor=_cursor(listed.next), limit=limit)
            headers["Link"] = f'<{following}>; rel="next"'
        return aioweb.Response(body=b"[" + b",".join(listed.views) + b"]",
                               content_type="application/json", charset="utf-8", headers=headers)

    class StreamTicket(View):
        """POST /feeds/{region}/ticket: a short-lived ticket for the region's stream."""

        async def post(self, request: aioweb.Request, region: str) -> aioweb.Response:
            allowed = authorize(request, region)
            if isinstance(allowed, aioweb.Response):
                return allowed
            found, principal = allowed
            return aioweb.json_response(
                {"ticket": access.issue_ticket(principal, found.code),
                 "expires_in": int(access.ticket_ttl)},
                headers={"Cache-Control": "no-store"})

    async def stream_feed(web: Any, request: aioweb.Request, region: str) -> aioweb.StreamResponse:
        allowed = authorize(request, region, ticket=True)
        if isinstance(allowed, aioweb.Response):
            return allowed
        found, principal = allowed
        params = query(request, _STREAM_PARAMS)
        if isinstance(params, aioweb.Response):
            return params
        refused = stream_refused(found, principal)
        if refused is not None:
            return refused
        # Taken before the first await: two requests cannot both pass the bound above.
        streams_per_token[principal.subject] += 1
        try:
            with feed_hub.subscribe(found.code) as subscription:
                response = aioweb.StreamResponse(headers={
                    "Content-Type": "text/event-stream; charset=utf-8",
                    "Cache-Control": "no-store", "X-Accel-Buffering": "no",
                })
                await response.prepare(request)
                try:
                    await _stream(response, feed_hub, subscription, found.code,
                                  params.get("status"), settings.feed_page_size)
                except (ConnectionResetError, ConnectionError):
                    pass  # the client went away
                return response
        finally:
            streams_per_token[principal.subject] -= 1
            if not streams_per_token[principal.subject]:
                del streams_per_token[principal.subject]

    async def console(web: Any, request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(body=page, content_type="text/html", charset="utf-8",
                               headers=_PAGE_HEADERS)

    async def console_asset(web: Any, request: aioweb.Request, asset: str) -> aioweb.Response:
        if asset not in assets:
            return error_response(404, "not_found", f"no console asset {asset!r}")
        body, kind = assets[asset]
        return aioweb.Response(body=body, headers={**_PAGE_HEADERS, "Content-Type": kind})

    async def console_locale(web: Any, request: aioweb.Request, region: str) -> aioweb.Response:
        try:
            found = regions.region(region.upper())
        except UnknownRegionError:
            return error_response(404, "not_found", f"no region {region!r}")
        described = describe_region(found)
        body = {"code": found.code, "locale": described.locale, "direction": described.direction,
                "intl_locale": described.intl_locale, "labels": described.labels,
                "display_name": described.display_name}
        return aioweb.json_response(body, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    async def on_shutdown(_: aioweb.Application) -> None:
        feed_hub.close()  # ends every live stream, so the server does not wait for them

    app.page("/feeds")(list_regions)
    app.page("/feeds/{region}")(list_feed)
    app.page("/feeds/{region}/ticket")(StreamTicket)
    app.page("/feeds/{region}/stream")(stream_feed)
    app.page("/console")(console)
    app.page("/console/{asset}")(console_asset)
    app.page("/console/locale/{region}")(console_locale)
    app.web.web_app.on_shutdown.append(on_shutdown)


def _cursor(position: FeedPosition) -> str:
    return b64url_encode(json.dumps(position, ensure_ascii=False).encode())


def _position(cursor: str) -> FeedPosition:
    """The feed position of a cursor.

    Raises:
        ValueError: not a cursor this module made.
    """
    try:
        updated_at, case_id = json.loads(b64url_decode(cursor))
    except (TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not a feed cursor") from exc
    if not (isinstance(updated_at, str) and isinstance(case_id, str)):
        raise ValueError("not a feed cursor")
    return updated_at, case_id


async def _stream(
    response: aioweb.StreamResponse,
    feed_hub: FeedHub,
    subscription: Any,
    region: str,
    status: str | None,
    snapshot_size: int,
) -> None:
    await response.write(b"retry: 3000\n\n")
    sent: dict[str, bytes] = {}
    snapshot = feed_hub.page(region, status=status, limit=snapshot_size)
    for value in snapshot.views:
        document = json.loads(value)
        sent[document["case_id"]] = value
        await response.write(_event("case", value, document))
    ready = {"count": len(sent), "next": None if snapshot.next is None else _cursor(snapshot.next)}
    await response.write(b"event: ready\ndata: " + json.dumps(ready).encode() + b"\n\n")
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
